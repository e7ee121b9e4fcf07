/**
 * The leakage experiments as a library (src/experiments/leakage*.ts) and the one client behind them.
 *
 * - The leak victim is the harness's FedSGD client: its observation equals, bit for bit, what the
 *   FedSGD strategy's client update sends for the same batch at the same parameters.
 * - runLeakage takes a plain settings object, writes the files it lists and returns metrics.json's
 *   content; runLeakageBatch does the same per image; bad settings are one-line UserErrors that leave
 *   no directory behind; shouldStop ends a run early with the best result so far, flagged interrupted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../src/engine/tf.js';
import { selectBackend } from '../src/engine/backend.js';
import { Rng } from '../src/engine/rng.js';
import { createModel, disposeParams } from '../src/models/index.js';
import { defaultImage } from '../src/io/scene.js';
import { isUserError } from '../src/core/errors.js';
import { fedsgd } from '../src/fl/algorithms.js';
import { disposeObservation, victimObservation } from '../attacks/leakage/run.js';
import { LEAKAGE_DEFAULTS, runLeakage, type LeakageSettings } from '../src/experiments/leakage.js';
import { runLeakageBatch } from '../src/experiments/leakage-batch.js';
import { makeTempDir, removeDir } from './helpers/data-files.js';

let scratch: string;
before(async () => {
  await selectBackend('wasm');
  scratch = await makeTempDir('fedattack-leak-api-');
});
after(() => removeDir(scratch));

describe('one client', () => {
  it("the leak victim's observation is the FedSGD client's update, bit for bit", async () => {
    const model = createModel('lenet', { inputShape: [32, 32, 3], classes: 10 });
    const params = model.init(4);
    const images = [await defaultImage(0, 32), await defaultImage(1, 32)];
    const labels = [3, 7];
    const obs = victimObservation(model, params, images, labels, { lr: 0.5 });
    const x = new Float32Array(2 * 32 * 32 * 3);
    images.forEach((img, i) => x.set(img, i * img.length));
    const data = { x: tf.tensor4d(x, [2, 32, 32, 3]), labels: tf.tensor1d(labels, 'int32'), indices: [0, 1], numClasses: 10 };
    const sent = await fedsgd({ serverLr: 0.5 }).clientUpdate({ model, global: params, data, rng: new Rng(0) });
    try {
      assert.equal(obs.kind, 'gradient');
      assert.deepEqual([obs.numSamples, obs.batchSize, obs.localSteps, obs.epochs, obs.lr], [2, 2, 1, 1, 0.5]);
      assert.deepEqual([sent.numSamples, sent.batchSize, sent.localSteps], [obs.numSamples, obs.batchSize, obs.localSteps]);
      for (const [name] of model.paramShapes) {
        assert.deepEqual(obs.delta[name]!.dataSync(), sent.delta[name]!.dataSync(), name);
        assert.notEqual(obs.globalParams[name], params[name], 'the observation owns a copy of the parameters');
      }
    } finally {
      disposeObservation(obs);
      disposeParams(sent.delta);
      disposeParams(params);
      tf.dispose([data.x, data.labels]);
    }
  });
});

describe('runLeakage / runLeakageBatch', () => {
  const base = { attack: 'idlg', iterations: 3, backend: 'wasm', workers: 1 };

  it('runs from a plain settings object and returns metrics.json and the files it wrote', async () => {
    const outDir = path.join(scratch, 'one');
    const lines: string[] = [];
    const r = await runLeakage(base, { outDir, log: (l) => lines.push(l) });
    assert.equal(r.outDir, outDir);
    assert.deepEqual(r.files.map((f) => path.basename(f)).sort(), ['ground-truth.png', 'metrics.json', 'progress.png', 'reconstruction.png', 'report.html', 'report.md']);
    for (const f of r.files) assert.ok(existsSync(f), f);
    assert.deepEqual(JSON.parse(readFileSync(path.join(outDir, 'metrics.json'), 'utf8')), JSON.parse(JSON.stringify(r.metrics)));
    assert.equal(r.metrics.attack, 'idlg');
    assert.equal(r.metrics.model, LEAKAGE_DEFAULTS.model);
    assert.equal(r.metrics.settings.classes, 100);
    assert.equal(r.metrics.settings.iterations, 3);
    assert.equal(r.metrics.interrupted, false);
    assert.ok(lines.some((l) => l.startsWith('idlg on lenet')), lines.join('\n'));
  });

  it('shouldStop ends the run with the best result so far, flagged interrupted', async () => {
    const r = await runLeakage({ ...base, iterations: 50 }, { outDir: path.join(scratch, 'stopped'), shouldStop: () => true });
    assert.equal(r.metrics.interrupted, true);
    assert.ok(r.metrics.restarts.attempts[0]!.iterations < 50);
    assert.ok(existsSync(path.join(scratch, 'stopped', 'reconstruction.png')));
  });

  it('bad settings are one-line user errors and write nothing', async () => {
    for (const [settings, message] of [
      [{ ...base, restarts: 0 }, /--restarts must be ≥ 1/],
      [{ ...base, model: 'nope' }, /unknown model 'nope'/],
      [{ ...base, labels: [1, 2] }, /--labels gives 2 labels for 1 image/],
      [{ ...base, each: true }, /runLeakageBatch/],
    ] as [LeakageSettings, RegExp][]) {
      const outDir = path.join(scratch, 'bad');
      await assert.rejects(() => runLeakage(settings, { outDir }), (e: unknown) => isUserError(e) && message.test((e as Error).message) && !(e as Error).message.includes('\n'));
      assert.equal(existsSync(outDir), false);
    }
  });

  it('runLeakageBatch attacks each image on its own and writes summary.json over them', async () => {
    const outDir = path.join(scratch, 'each');
    const r = await runLeakageBatch({ ...base, batch: 2, labels: ['4,9'] }, { outDir });
    const s = r.summary;
    assert.equal(s.requested, 2);
    assert.equal(s.attacked, 2);
    assert.deepEqual(s.images.map((i) => i.trueLabel), [4, 9]);
    assert.deepEqual(JSON.parse(readFileSync(path.join(outDir, 'summary.json'), 'utf8')), JSON.parse(JSON.stringify(s)));
    for (const img of s.images) assert.ok(r.files.includes(path.join(outDir, img.dir, 'metrics.json')), img.dir);
    assert.ok(r.files.includes(path.join(outDir, 'report.md')));
    for (const f of r.files) assert.ok(existsSync(f), f);
  });
});
