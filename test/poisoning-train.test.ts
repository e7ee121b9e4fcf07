/**
 * Poisoning in federated training: `fedattack train --attack/--byzantine/--aggregator/--client-defense`
 * end to end (Gaussian noise breaks the mean, not the median; model replacement backdoors a mean,
 * norm clipping weakens it; NaN updates stop a mean run with one line and are dropped by robust rules;
 * bad specs are one-line errors), and the harness-level NaN policy through a test-only behaviour.
 * Tiny settings: mlp, a few hundred synthetic samples, wasm, one worker.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { tf } from '../src/engine/tf.js';
import { selectBackend } from '../src/engine/backend.js';
import { Rng } from '../src/engine/rng.js';
import { createModel, disposeParams } from '../src/models/index.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { partition } from '../src/fl/partition.js';
import { fedavg } from '../src/fl/algorithms.js';
import { NonFiniteUpdateError, runFederated } from '../src/fl/harness.js';
import { behaviourFromCraft, chooseByzantine } from '../src/experiments/poisoning.js';
import { buildAggregator } from '../defenses/aggregation/index.js';
import { buildAttack } from '../attacks/poisoning/index.js';
import type { ClientBehaviour, Params, RoundContext, RoundMetrics } from '../src/fl/types.js';
import { makeTempDir, removeDir } from './helpers/data-files.js';

const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

function fedattack(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, FEDATTACK_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Round = RoundMetrics & { attackSuccessRate?: number | null; droppedClients?: number[] };
interface Metrics {
  rounds: Round[];
  finalAccuracy: number;
  complete: boolean;
  byzantineClients?: number[];
  error?: string;
}

let tmp = '';
before(async () => {
  tmp = await makeTempDir('fedattack-poison-');
  await selectBackend('wasm');
});
after(async () => {
  await removeDir(tmp);
});

async function readMetrics(dir: string): Promise<Metrics> {
  return JSON.parse(await fsp.readFile(path.join(dir, 'metrics.json'), 'utf8')) as Metrics;
}

/** Runs `train` with the given extra flags; returns the metrics (asserting success). */
async function run(name: string, base: string[], extra: string[]): Promise<Metrics> {
  const out = path.join(tmp, name);
  const r = fedattack(['train', ...base, ...extra, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  return readMetrics(out);
}

/** 10 clients, all sampled every round, 5 rounds: the clean run reaches ~45% (10 classes, chance 10%). */
const ROBUST = ['--backend', 'wasm', '--model', 'mlp', '--train-size', '600', '--test-size', '200', '--clients', '10', '--fraction', '1',
  '--local-epochs', '2', '--lr', '0.3', '--rounds', '5', '--workers', '1', '--no-progress'];

test('gaussian noise from 2 of 10 clients breaks mean (chance accuracy), median stays near the clean run', async () => {
  const clean = await run('clean', ROBUST, []);
  const meanAttacked = await run('gauss-mean', ROBUST, ['--attack', 'gaussian:sigma=1', '--byzantine', '2']);
  const medianAttacked = await run('gauss-median', ROBUST, ['--attack', 'gaussian:sigma=1', '--byzantine', '2', '--aggregator', 'median']);
  assert.equal(meanAttacked.byzantineClients?.length, 2);
  for (const r of meanAttacked.rounds) assert.deepEqual(r.maliciousClients, meanAttacked.byzantineClients);
  assert.ok(clean.finalAccuracy > 0.35, `clean ${clean.finalAccuracy}`);
  assert.ok(meanAttacked.finalAccuracy < 0.2, `mean under attack ${meanAttacked.finalAccuracy}`);
  assert.ok(medianAttacked.finalAccuracy > clean.finalAccuracy - 0.1, `median under attack ${medianAttacked.finalAccuracy} vs clean ${clean.finalAccuracy}`);
});

const BACKDOOR = ['--backend', 'wasm', '--model', 'mlp', '--train-size', '500', '--test-size', '200', '--clients', '5', '--fraction', '1',
  '--local-epochs', '2', '--lr', '0.3', '--rounds', '3', '--workers', '1', '--no-progress', '--attack', 'model-replacement:target=0,size=4', '--byzantine', '1'];

test('model replacement backdoors a mean (high attack success the rounds it is sampled); norm-clip lowers it; reported per round', async () => {
  const out = path.join(tmp, 'mr-mean');
  const r = fedattack(['train', ...BACKDOOR, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /attack success \d/);
  const mean = await readMetrics(out);
  const report = await fsp.readFile(path.join(out, 'report.md'), 'utf8');
  assert.match(report, /attack success/);
  const clipped = await run('mr-clip', BACKDOOR, ['--aggregator', 'norm-clip:bound=1']);
  for (const m of [mean, clipped]) {
    assert.equal(m.rounds.length, 3);
    for (const x of m.rounds) {
      assert.equal(typeof x.attackSuccessRate, 'number');
      assert.deepEqual(x.maliciousClients, m.byzantineClients);
    }
  }
  const best = (m: Metrics) => Math.max(...m.rounds.map((x) => x.attackSuccessRate!));
  assert.ok(best(mean) >= 0.8, `ASR under mean ${best(mean)}`);
  assert.ok(best(clipped) < best(mean) - 0.3, `ASR under norm-clip ${best(clipped)} vs mean ${best(mean)}`);
});

const TINY = ['--backend', 'wasm', '--model', 'mlp', '--train-size', '300', '--test-size', '100', '--clients', '5', '--fraction', '1',
  '--local-epochs', '1', '--lr', '0.1', '--rounds', '2', '--workers', '1', '--no-progress'];

test('a non-finite update stops a mean run with one error line naming round and client; median drops it and reports it', async () => {
  // mu = 1e39 overflows float32: every coordinate of the malicious update is +Inf.
  const out = path.join(tmp, 'nan-mean');
  const r = fedattack(['train', ...TINY, '--attack', 'gaussian:mu=1e39', '--byzantine', '1', '--out', out]);
  assert.notEqual(r.code, 0);
  const errors = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, /^fedattack: error: round 1: the update of client \d contains NaN\/Inf/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const m = await readMetrics(out);
  assert.equal(m.complete, false);
  assert.deepEqual(m.rounds, []);
  assert.match(m.error!, /round 1/);

  const robust = await run('nan-median', TINY, ['--attack', 'gaussian:mu=1e39', '--byzantine', '1', '--aggregator', 'median']);
  assert.equal(robust.complete, true);
  for (const x of robust.rounds) {
    assert.deepEqual(x.droppedClients, robust.byzantineClients);
    assert.ok(Number.isFinite(x.loss!));
  }
});

test('bad attack / aggregator / defense specs and unmet preconditions: one clear error line, exit != 0', () => {
  const cases: [string[], RegExp][] = [
    [['--aggregator', 'medain'], /unknown aggregator "medain".*median/],
    [['--attack', 'gaussian:sigma=-1', '--byzantine', '1'], /gaussian:sigma must be number >= 0/],
    [['--attack', 'gaussian', '--byzantine', '2', '--aggregator', 'krum'], /krum.*n >= 2f\+3/],
    [['--attack', 'gaussian'], /--attack needs --byzantine/],
    [['--attack', 'gausian', '--byzantine', '1'], /gausian/],
    [['--client-defense', 'pgd:epsilon=2'], /epsilon/],
    [['--client-defense', 'fgsm', '--algorithm', 'fedsgd'], /--client-defense needs --algorithm fedavg or fedprox/],
  ];
  for (const [flags, re] of cases) {
    const r = fedattack(['train', ...TINY, ...flags, '--out', path.join(tmp, 'bad')]);
    assert.notEqual(r.code, 0, flags.join(' '));
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(lines[0]!, /^fedattack: error: /);
    assert.match(lines[0]!, re);
  }
});

test('client defense (adversarial training) runs and is recorded', async () => {
  const m = await run('pgd', TINY, ['--client-defense', 'pgd:epsilon=0.05,steps=2', '--rounds', '1']);
  assert.equal(m.complete, true);
  assert.equal((m as unknown as { clientDefense: string }).clientDefense, 'pgd:epsilon=0.05,steps=2');
  assert.ok(m.finalAccuracy >= 0 && m.finalAccuracy <= 1);
});

// ---------------------------------------------------------------------------------------------
// Harness level: a test-only behaviour that sends NaN in round 2 only.

function nanInRound(round: number): ClientBehaviour {
  return {
    name: `nan-in-round-${round}`,
    async craft(ctx: RoundContext): Promise<Params> {
      const r = await ctx.trainLocal();
      if (ctx.round !== round) return r.delta;
      const out: Params = {};
      for (const [k, t] of Object.entries(r.delta)) out[k] = tf.fill(t.shape, NaN);
      disposeParams(r.delta);
      return out;
    },
  };
}

test('harness: NaN under mean stops before aggregating with completed rounds kept; under median it is dropped', async () => {
  const { train, test: testSet } = generateSynthetic({ seed: 0, trainSize: 200, testSize: 100, shape: [8, 8, 1], classes: 4 });
  const model = createModel('mlp', { inputShape: train.shape, classes: train.numClasses });
  const parts = partition(train.labels, 5, { kind: 'iid' }, new Rng(0).fork('partition'));
  const bad = chooseByzantine(5, 1, new Rng(0).fork('byzantine'));
  const common = {
    model, train, test: testSet, partition: parts, strategy: fedavg({ epochs: 1, batchSize: 10, lr: 0.1 }), rounds: 3, fraction: 1, seed: 0,
    behaviour: (k: number) => (bad.includes(k) ? nanInRound(2) : undefined),
  };
  const seen: RoundMetrics[] = [];
  const before = tf.memory().numTensors;
  await assert.rejects(
    runFederated({ ...common, events: { onRoundEnd: (m) => void seen.push(m) } }),
    (e: unknown) => e instanceof NonFiniteUpdateError && e.round === 2 && e.clients.join() === bad.join() && e.completedRounds === 1,
  );
  assert.equal(seen.length, 1);
  assert.ok(Number.isFinite(seen[0]!.loss!));
  assert.equal(tf.memory().numTensors, before, 'no tensors leak when the run stops');

  const agg = buildAggregator('median', { numByzantine: 1 });
  assert.equal(agg.dropsNonFinite, true);
  const r = await runFederated({ ...common, aggregator: agg });
  try {
    const rounds = r.rounds as (RoundMetrics & { droppedClients?: number[] })[];
    assert.equal(rounds.length, 3);
    assert.equal(rounds[0]!.droppedClients, undefined);
    assert.deepEqual(rounds[1]!.droppedClients, bad);
    assert.ok(rounds.every((x) => Number.isFinite(x.loss!)));
  } finally {
    disposeParams(r.params);
  }
});

test('behaviourFromCraft: ipm:eps=1 sees the honest updates of the round (crafts after them) and sends -mean', async () => {
  const { train } = generateSynthetic({ seed: 1, trainSize: 100, testSize: 10, shape: [8, 8, 1], classes: 4 });
  const model = createModel('mlp', { inputShape: train.shape, classes: train.numClasses });
  const parts = partition(train.labels, 4, { kind: 'iid' }, new Rng(0).fork('partition'));
  const attack = buildAttack('ipm:eps=1');
  assert.equal(attack.seesHonestUpdates, true);
  const sent: { malicious: boolean; delta: Float32Array }[] = [];
  const r = await runFederated({
    model, train, partition: parts, strategy: fedavg({ epochs: 1, batchSize: 10, lr: 0.1 }), rounds: 1, fraction: 1, seed: 0,
    behaviour: (k) => (k === 3 ? behaviourFromCraft(attack) : undefined),
    observers: [{ name: 'rec', observe: (o, t) => void sent.push({ malicious: t.malicious, delta: Float32Array.from(Object.values(o.delta).flatMap((x) => Array.from(x.dataSync()))) }) }],
  });
  disposeParams(r.params);
  const honest = sent.filter((s) => !s.malicious);
  const evil = sent.find((s) => s.malicious)!;
  assert.equal(honest.length, 3);
  for (let j = 0; j < evil.delta.length; j += 97) {
    const m = honest.reduce((a, s) => a + s.delta[j]!, 0) / honest.length;
    assert.ok(Math.abs(evil.delta[j]! + m) < 1e-5, `coordinate ${j}: ${evil.delta[j]} vs -${m}`);
  }
});
