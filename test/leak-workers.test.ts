/**
 * Leakage work in worker threads (attacks/leakage/parallel.ts, `fedattack leak --workers / --each`),
 * on wasm, with small real attacks (DLG on an MLP over 8x8 images: milliseconds per evaluation):
 * - runAttack with 2 workers gives the numbers of 1 worker, bit for bit, when a later restart matches the
 *   gradient before an earlier one has finished (the earlier one runs on, the later ones are cancelled),
 *   when the earlier one matches too (the cut moves down), and with divergence retries;
 * - Ctrl-C (shouldStop) stops the workers within a step and the best point so far is kept;
 * - a worker thread frees every tensor of a job;
 * - `leak --each` gives the same per-image numbers with 1 and 2 workers and writes a folder per image;
 *   a bad --workers is one error line, exit 2, nothing written.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { tf } from '../src/engine/tf.js';
import { selectBackend } from '../src/engine/backend.js';
import { createModel, disposeParams, type Model, type Params } from '../src/models/index.js';
import { parseJson } from '../src/io/atomic.js';
import { defaultImage } from '../src/io/scene.js';
import { dlg, idlg, type Observation } from '../attacks/leakage/index.js';
import {
  disposeObservation, PLAIN_RESTARTS, runAttack, victimObservation, type AttackRun, type ModelSpec, type RunOptions,
} from '../attacks/leakage/run.js';
import { LeakPool, toWire } from '../attacks/leakage/parallel.js';
import { resolveWorkers } from '../src/experiments/leakage.js';
import type { RestartOutcome } from '../attacks/leakage/run.js';
import { makeTempDir, removeDir } from './helpers/data-files.js';

const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
function fedattack(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const mlpSpec: ModelSpec = { name: 'mlp', options: { inputShape: [8, 8, 3], classes: 10 } };
let model: Model;
let image: Float32Array;

/** A smooth 8x8 RGB test image. */
function testImage(k: number): Float32Array {
  const v = new Float32Array(8 * 8 * 3);
  for (let i = 0; i < v.length; i++) v[i] = 0.5 + 0.4 * Math.sin(0.37 * i + k);
  return v;
}

before(async () => {
  await selectBackend('wasm');
  model = createModel(mlpSpec.name, mlpSpec.options);
  image = await defaultImage(0, 8);
});

/** The victim of model seed `seed` holding the test image with label 3. */
function observe(seed: number): { obs: Observation; params: Params } {
  const params = model.init(seed);
  return { obs: victimObservation(model, params, [image], [3]), params };
}

/** Everything of an AttackRun but wall times. */
function numbers(run: AttackRun): unknown {
  const rec = run.reconstruction;
  return {
    attempts: run.attempts.map(({ seconds: _s, ...a }) => a),
    policyNote: run.policyNote, evaluations: run.evaluations, interrupted: run.interrupted, allDiverged: run.allDiverged,
    matchingLoss: rec.matchingLoss, labels: rec.labels, iterations: rec.iterations, diverged: rec.diverged,
    images: Buffer.from(rec.images.buffer, rec.images.byteOffset, rec.images.byteLength).toString('base64'),
    snapshots: rec.snapshots.map((s) => [s.iteration, s.loss, Buffer.from(s.images.buffer).toString('base64')]),
  };
}

async function both(seed: number, opts: Omit<RunOptions, 'seed' | 'workers'>): Promise<[AttackRun, AttackRun]> {
  const { obs, params } = observe(seed);
  try {
    const one = await runAttack(dlg, obs, { seed, ...opts, workers: 1 });
    const two = await runAttack(dlg, obs, { seed, ...opts, workers: 2, modelSpec: mlpSpec });
    return [one, two];
  } finally {
    disposeObservation(obs);
    disposeParams(params);
  }
}

describe('runAttack in worker threads', () => {
  it('restart 1 matches the gradient before restart 0 ends: restart 0 runs on, restart 2 never counts; same numbers as 1 worker', async () => {
    // measured: restart 0 ends at a relative loss of 1.5e-10 after 114 evaluations, restart 1 at 6.8e-11
    // after 69 (it finishes first in parallel), restart 2 would run next
    const tensors = tf.memory().numTensors;
    const [one, two] = await both(3, { iterations: 30, restarts: 3, policy: { convergedBelow: 1e-10 } });
    assert.deepEqual(one.attempts.map((a) => a.restart), [0, 1], 'sequentially: restart 1 matched, restart 2 skipped');
    assert.ok(one.attempts[1]!.kept && one.attempts[1]!.relativeLoss <= 1e-10);
    assert.match(one.policyNote ?? '', /remaining 1 skipped/);
    assert.deepEqual(numbers(two), numbers(one));
    assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind in this thread');
  });

  it('restart 0 matches after restart 1 did: the cut moves down to restart 0; same numbers as 1 worker', async () => {
    // measured: restart 0 ends at 1.2e-10 (116 evaluations), restart 1 at 9.9e-11 (76, finishes first)
    const [one, two] = await both(4, { iterations: 30, restarts: 3, policy: { convergedBelow: 3e-10 } });
    assert.deepEqual(one.attempts.map((a) => a.restart), [0], 'sequentially: restart 0 matched, the rest skipped');
    assert.deepEqual(numbers(two), numbers(one));
  });

  it('restart 2 matches while restart 3 already runs: restart 3 is cancelled; same numbers as 1 worker', async () => {
    // measured: restarts 0..3 end at 1.4e-10, 2.1e-10, 4.4e-11, 1.2e-10 after 123, 93, 69, 122
    // evaluations: restart 1 ends first and its worker takes restart 2, restart 0's takes restart 3,
    // which is still running when restart 2 matches
    const [one, two] = await both(6, { iterations: 30, restarts: 4, policy: { convergedBelow: 5e-11 } });
    assert.deepEqual(one.attempts.map((a) => a.restart), [0, 1, 2]);
    assert.equal(one.attempts[2]!.kept, true);
    assert.deepEqual(numbers(two), numbers(one));
  });

  it('diverging restarts are retried inside their own job; stalls and extra restarts as with 1 worker', async () => {
    // L-BFGS at lr 1e4 overflows: attempts diverge and are retried with a fresh seed
    const [one, two] = await both(5, { iterations: 20, restarts: 2, lr: 1e4 });
    assert.ok(one.attempts.some((a) => a.diverged), 'a divergence happened');
    assert.ok(one.attempts.some((a) => a.attempt === 1), 'and was retried');
    assert.deepEqual(numbers(two), numbers(one));
    // measured (seed 21): restart 0 stalls; an extra restart runs on the steps it left
    const [a, b] = await both(21, { iterations: 40, restarts: 2 });
    assert.ok(a.attempts.some((x) => x.stalled), 'a stall happened');
    assert.deepEqual(numbers(b), numbers(a));
  });

  it('shouldStop (Ctrl-C) stops every worker within a step and keeps the best point so far', async () => {
    const spec: ModelSpec = { name: 'lenet', options: { inputShape: [32, 32, 3], classes: 100 } };
    const lenet = createModel(spec.name, spec.options);
    const params = lenet.init(0);
    const obs = victimObservation(lenet, params, [new Float32Array(32 * 32 * 3).map((_, i) => (i % 97) / 97)], [7]);
    let stopAt = Infinity;
    let steps = 0;
    try {
      const t0 = performance.now();
      const run = await runAttack(idlg, obs, {
        seed: 0, iterations: 2000, restarts: 2, workers: 2, modelSpec: spec, policy: PLAIN_RESTARTS,
        onStep: () => {
          steps++;
          if (steps === 4) stopAt = performance.now();
        },
        shouldStop: () => performance.now() >= stopAt,
      });
      const late = (performance.now() - stopAt) / 1000;
      assert.ok(late < 5, `ended ${late.toFixed(1)} s after the stop request`);
      assert.ok((performance.now() - t0) / 1000 < 60);
      assert.equal(run.interrupted, true);
      assert.ok(run.attempts.length >= 1 && run.attempts.every((a) => a.stopped && a.iterations < 2000));
      assert.ok(Number.isFinite(run.reconstruction.matchingLoss), 'the best point so far is kept');
      assert.equal(run.reconstruction.matchingLoss, Math.min(...run.attempts.map((a) => a.matchingLoss)));
    } finally {
      disposeObservation(obs);
      disposeParams(params);
    }
  });

  it('a worker thread frees every tensor of a job', async () => {
    const { obs, params } = observe(1);
    const wire = await toWire(obs);
    disposeObservation(obs);
    disposeParams(params);
    const pool = await LeakPool.start(1);
    try {
      const counts: number[] = [];
      for (let r = 0; r < 3; r++) {
        const { result, numTensors } = await pool.run<RestartOutcome>({
          type: 'restart', attack: 'dlg', model: mlpSpec, obs: wire, opts: { seed: 1 },
          job: { restart: r, restarts: 3, steps: 5, extra: false, policy: PLAIN_RESTARTS, scale: 1 },
        });
        assert.equal(result.attempts[0]!.iterations, 5);
        counts.push(numTensors);
      }
      const run = await pool.run<AttackRun>({ type: 'run', attack: 'dlg', model: mlpSpec, obs: wire, opts: { seed: 1, iterations: 5, restarts: 2 } });
      counts.push(run.numTensors);
      assert.ok(counts.every((c) => c === counts[0]), `tensors after each job: ${counts.join(', ')}`);
      assert.equal(counts[0], 0, 'nothing but the job\'s own tensors ever lived in the worker');
    } finally {
      await pool.close();
    }
  });

  it('refuses what a worker thread cannot rebuild', async () => {
    const { obs, params } = observe(0);
    try {
      await assert.rejects(runAttack({ ...dlg, name: 'custom' }, obs, { seed: 0, iterations: 2, restarts: 2, workers: 2, modelSpec: mlpSpec }), /not a registered leakage attack/);
      await assert.rejects(runAttack(dlg, obs, { seed: 0, iterations: 2, restarts: 2, workers: 2 }), /needs modelSpec/);
    } finally {
      disposeObservation(obs);
      disposeParams(params);
    }
  });
});

describe('fedattack leak --each / --workers', () => {
  let dir: string;
  let files: string[];
  before(async () => {
    dir = await makeTempDir('fedattack-each-');
    files = [];
    for (let k = 0; k < 3; k++) {
      const f = path.join(dir, `photo${k}.png`);
      const px = Buffer.from(testImage(k + 1).map((v) => Math.round(255 * v)));
      await sharp(px, { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(f);
      files.push(f);
    }
  });
  after(() => removeDir(dir));

  const common = (): string[] => ['leak', '--attack', 'idlg', '--model', 'mlp', '--input-size', '8', '--iterations', '12', '--restarts', '2', '--backend', 'wasm', '--each', '--image', ...files, '--labels', '3', '1', '7'];
  /** summary.json without wall times and the worker count. */
  const summary = (out: string): Record<string, unknown> =>
    JSON.parse(JSON.stringify(parseJson(readFileSync(path.join(out, 'summary.json'), 'utf8'))), (k: string, v: unknown) => (k === 'seconds' || k === 'workers' ? undefined : v)) as Record<string, unknown>;

  it('--workers 2 gives the summary of --workers 1; a folder per image', () => {
    const outs = ['1', '2'].map((w) => {
      const out = path.join(dir, `out-${w}`);
      const r = fedattack([...common(), '--workers', w, '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`^workers: ${w}${w === '1' ? ' \\(' : ' worker threads'}`, 'm'));
      assert.match(r.stdout, /3 of 3 images one by one: \d+% at ≥ 30 dB/);
      return out;
    });
    const [a, b] = outs.map(summary);
    assert.deepEqual(b, a);
    const images = a!.images as { dir: string; trueLabel: number; psnr: number; evaluations: number }[];
    assert.deepEqual(images.map((x) => x.dir), ['1-photo0', '2-photo1', '3-photo2']);
    assert.deepEqual(images.map((x) => x.trueLabel), [3, 1, 7]);
    for (const out of outs) {
      for (const d of images.map((x) => x.dir)) {
        for (const f of ['metrics.json', 'ground-truth.png', 'reconstruction.png', 'progress.png', 'report.md', 'report.html']) {
          assert.ok(existsSync(path.join(out, d, f)), `${d}/${f}`);
        }
      }
      for (const f of ['report.md', 'report.html']) assert.ok(existsSync(path.join(out, f)));
    }
    // the per-image reconstructions are the same files
    for (const d of images.map((x) => x.dir)) {
      assert.ok(readFileSync(path.join(outs[0]!, d, 'reconstruction.png')).equals(readFileSync(path.join(outs[1]!, d, 'reconstruction.png'))), d);
    }
    assert.equal(typeof a!.successRate, 'number');
    assert.equal(a!.attacked, 3);
  });

  it('auto = min(cores, jobs) on cpu/wasm; 1 on GPU backends whatever is asked', () => {
    assert.equal(resolveWorkers('auto', 'wasm', 1), 1);
    assert.equal(resolveWorkers(8, 'cpu', 3), 3);
    assert.equal(resolveWorkers(2, 'wasm', 24), 2);
    assert.ok(resolveWorkers('auto', 'wasm', 1000) >= 1);
    assert.equal(resolveWorkers(8, 'webgpu', 4), 1);
    assert.equal(resolveWorkers('auto', 'tensorflow', 4), 1);
  });

  it('Ctrl-C ends every running image with its best point so far, writes them and the summary, exit 130', async () => {
    const out = path.join(dir, 'interrupted');
    const args = [...common().map((a) => (a === '12' ? '5000' : a)), '--workers', '2', '--out', out];
    const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 600 && !/one by one/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 2000));
    const t = performance.now();
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stderr);
    assert.ok(performance.now() - t < 15_000, 'stopped promptly');
    const m = summary(out) as { interrupted: boolean; attacked: number; requested: number; images: { dir: string; interrupted: boolean; psnr: number }[] };
    assert.equal(m.interrupted, true);
    assert.equal(m.requested, 3);
    assert.ok(m.attacked >= 1 && m.attacked <= 2, `attacked ${m.attacked}`);
    for (const img of m.images) {
      assert.equal(img.interrupted, true);
      assert.ok(Number.isFinite(img.psnr));
      assert.ok(existsSync(path.join(out, img.dir, 'reconstruction.png')));
    }
  });

  it('a bad --workers is one error line, exit 2, nothing written', () => {
    for (const bad of ['0', 'two', '1.5', '']) {
      const out = path.join(dir, `bad-${bad || 'empty'}`);
      const r = fedattack([...common(), '--workers', bad, '--out', out]);
      assert.equal(r.code, 2, `--workers '${bad}': ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /--workers/);
      assert.ok(!existsSync(out), 'nothing written');
    }
    assert.ok(readdirSync(dir).every((f) => !f.startsWith('bad-')));
  });
});
