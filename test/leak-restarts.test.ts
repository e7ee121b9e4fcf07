/**
 * The restart policy of runAttack (attacks/leakage/run.ts), with deterministic fake attacks that replay
 * scripted loss trajectories (no optimisation, milliseconds):
 * - a restart that matches the gradient (tiny relative loss) ends the run: the other restarts are skipped;
 * - a restart whose loss plateaus high is stopped as stalled and its unused steps run an extra restart;
 * - a slowly but steadily improving restart is not cut; IG's cosine policy never cuts or skips;
 * - whatever happens, the kept restart is the one with the lowest matching loss.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/engine/tf.js';
import { selectBackend } from '../src/engine/backend.js';
import { dlg, ig, type LeakageAttack, type Observation, type Reconstruction } from '../attacks/leakage/index.js';
import { runAttack, StallDetector, RESTART_POLICIES } from '../attacks/leakage/run.js';

let obs: Observation;

before(async () => {
  await selectBackend('cpu');
  // ‖g‖² = 3² + 4² = 25: relative losses below are loss / 25
  const model = {
    name: 'fake', inputShape: [1, 1, 1] as [number, number, number], classes: 2, paramShapes: [['w', [2]]] as [string, number[]][],
    init: () => ({}), apply: () => { throw new Error('not used'); },
  };
  obs = { round: 0, clientId: 'c', kind: 'gradient', delta: { w: tf.tensor1d([3, 4]) }, numSamples: 1, batchSize: 1, localSteps: 1, epochs: 1, lr: 0.1, globalParams: {}, model };
});
after(() => tf.dispose(Object.values(obs.delta)));

/** A fake attack: call k replays trajectory k (loss after each step), honouring shouldStop between steps. */
function scripted(trajectories: ((step: number) => number)[], base: LeakageAttack = dlg): { attack: LeakageAttack; calls: () => number } {
  let calls = 0;
  const attack: LeakageAttack = {
    ...base,
    name: `scripted-${base.name}`,
    async reconstruct(_o, opts): Promise<Reconstruction> {
      const traj = trajectories[Math.min(calls, trajectories.length - 1)]!;
      calls++;
      const iterations = opts.iterations!;
      let best = Infinity;
      let done = 0;
      let stopped = false;
      for (let it = 0; it < iterations; it++) {
        if (opts.shouldStop?.()) {
          stopped = true;
          break;
        }
        const loss = traj(it);
        best = Math.min(best, loss);
        done = it + 1;
        opts.onProgress?.({ iteration: done, iterations, loss, evaluations: done, images: async () => new Float32Array(1) });
      }
      return {
        images: new Float32Array(1), labels: [0], matchingLoss: best, evaluations: done, diverged: false, snapshots: [],
        iterations: done, stopped, labelMethod: 'test',
      };
    },
  };
  return { attack, calls: () => calls };
}

const plateau = (relative: number) => () => relative * 25;
/** Falls by 10× every 10 steps from a relative loss of 1 down to `floor`. */
const converging = (floor: number) => (step: number) => Math.max(floor, 10 ** (-step / 10)) * 25;

describe('restart policy', () => {
  it('skips the remaining restarts once one has matched the gradient', async () => {
    const { attack, calls } = scripted([converging(1e-12), converging(1e-12)]);
    const run = await runAttack(attack, obs, { seed: 0, iterations: 200, restarts: 3 });
    assert.equal(calls(), 1, 'one restart ran');
    assert.equal(run.attempts.length, 1);
    assert.ok(run.attempts[0]!.relativeLoss <= RESTART_POLICIES.euclidean.convergedBelow);
    assert.equal(run.attempts[0]!.iterations, 200, 'a converging restart is not cut');
    assert.match(run.policyNote ?? '', /remaining 2 skipped/);
    assert.equal(run.interrupted, false);
  });

  it('stops a stalled restart early and spends its unused steps on an extra restart', async () => {
    // restart 1 plateaus at relative 0.3 (an L-BFGS start stuck from the beginning); restart 2 converges
    // to 1e-6 (not "matched"), the extra restart 3 to 1e-7
    const { attack, calls } = scripted([plateau(0.3), converging(1e-6), converging(1e-7)]);
    const run = await runAttack(attack, obs, { seed: 0, iterations: 100, restarts: 2 });
    assert.equal(calls(), 3);
    const [a, b, c] = run.attempts;
    assert.equal(a!.stalled, true);
    assert.equal(a!.stopped, false, 'a stall is not an interruption');
    const { from } = new StallDetector(RESTART_POLICIES.euclidean, 100, 25).window;
    assert.equal(a!.iterations, from, `stopped as soon as the rule applies (after ${from} of 100 steps)`);
    assert.equal(b!.stalled, false);
    assert.equal(b!.iterations, 100);
    assert.equal(c!.restart, 2, 'an extra restart beyond the 2 requested');
    assert.equal(c!.iterations, 100 - from, 'it runs on the steps the stalled one left');
    assert.equal(run.attempts.filter((x) => x.kept).length, 1);
    assert.equal(c!.kept, true, 'the lowest matching loss is kept');
    assert.match(run.policyNote ?? '', /1 stalled restart stopped early; 1 extra restart/);
    assert.equal(run.interrupted, false);
  });

  it('keeps a stalled restart when it still has the lowest matching loss', async () => {
    const { attack } = scripted([plateau(0.01), plateau(0.5)]);
    const run = await runAttack(attack, obs, { seed: 0, iterations: 40, restarts: 1 });
    // restart 1 stalls after 10 of 40 steps; extra restarts on the 30 steps left stall too (8, then 6
    // steps) until the cap of 4 restarts; the best point is kept
    assert.deepEqual(run.attempts.map((x) => [x.restart, x.iterations, x.stalled]), [[0, 10, true], [1, 8, true], [2, 6, true], [3, 5, true]]);
    assert.ok(run.attempts.reduce((s, x) => s + x.iterations, 0) <= 40, 'within the step budget');
    assert.equal(run.attempts[0]!.kept, true);
    assert.equal(run.reconstruction.matchingLoss, 0.01 * 25);
  });

  it('does not cut a restart that keeps improving, nor short runs', async () => {
    // halves every 5 steps: slow but steady
    const { attack } = scripted([(s) => 25 * 0.5 ** (s / 5)]);
    const run = await runAttack(attack, obs, { seed: 0, iterations: 60, restarts: 1 });
    assert.equal(run.attempts.length, 1);
    assert.equal(run.attempts[0]!.stalled, false);
    assert.equal(run.attempts[0]!.iterations, 60);
    const short = await runAttack(scripted([plateau(0.5)]).attack, obs, { seed: 0, iterations: 4, restarts: 2 });
    assert.deepEqual(short.attempts.map((x) => [x.iterations, x.stalled]), [[4, false], [4, false]]);
  });

  it("IG's cosine policy runs exactly the requested restarts in full", async () => {
    const { attack, calls } = scripted([plateau(0.9), () => 1e-12, plateau(0.9)], ig);
    const run = await runAttack(attack, obs, { seed: 0, iterations: 50, restarts: 3 });
    assert.equal(calls(), 3);
    assert.ok(run.attempts.every((x) => x.iterations === 50 && !x.stalled));
    assert.equal(run.attempts[1]!.kept, true);
    assert.equal(run.policyNote, null);
  });

  it('the policy can be overridden (plain restarts)', async () => {
    const { attack, calls } = scripted([converging(1e-12), plateau(0.5)]);
    const run = await runAttack(attack, obs, { seed: 0, iterations: 60, restarts: 2, policy: { convergedBelow: 0, stallAbove: Infinity } });
    assert.equal(calls(), 2);
    assert.deepEqual(run.attempts.map((x) => x.iterations), [60, 60]);
    assert.equal(run.attempts[0]!.kept, true);
  });
});
