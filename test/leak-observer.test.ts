/** Leakage attacks on real observed client gradients inside a federated run. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../src/engine/tf.js';
import { createModel } from '../src/models/index.js';
import { loadDataset } from '../datasets/index.js';
import { partition } from '../src/fl/partition.js';
import { makeStrategy } from '../src/fl/algorithms.js';
import { runFederated } from '../src/fl/harness.js';
import { leakageObserver } from '../src/experiments/leak-observer.js';
import { Rng } from '../src/engine/rng.js';
import { makeTempDir, removeDir } from './helpers/data-files.js';

before(async () => {
  await tf.setBackend('wasm');
});

test('iDLG recovers observed FedSGD client gradients in a run; oversized batches are skipped with a reason', async () => {
  const { train, test: testSet } = await loadDataset('synthetic', { seed: 1, trainSize: 40, testSize: 20 });
  const model = createModel('lenet', { inputShape: train.shape, classes: train.numClasses });
  const out = await makeTempDir();
  try {
    // 40 clients of one sample each: each FedSGD gradient is one image's gradient
    const parts = partition(train.labels, 40, { kind: 'iid' }, new Rng(2));
    const obs = leakageObserver({ attack: 'idlg', clients: 2, rounds: 1, iterations: 60, seed: 3, train, outDir: out });
    await runFederated({
      model, train, test: testSet, partition: parts, strategy: makeStrategy('fedsgd', {}), rounds: 2, fraction: 0.1, seed: 4, observers: [obs],
    });
    assert.equal(obs.records.length, 2, 'two clients in round 1 only');
    for (const r of obs.records) {
      assert.equal(r.round, 1);
      assert.equal(r.batch, 1);
      assert.equal(r.labelAccuracy, 1, 'iDLG labels are exact at batch 1');
      assert.ok(r.psnr! > 15, `PSNR ${r.psnr}`);
      assert.ok(existsSync(path.join(out, r.images!.reconstruction)));
      assert.ok(existsSync(path.join(out, r.images!.groundTruth)));
    }
    const big = leakageObserver({ attack: 'idlg', clients: 1, rounds: 1, seed: 3, train, outDir: out });
    await runFederated({
      model, train, test: testSet, partition: partition(train.labels, 2, { kind: 'iid' }, new Rng(2)), strategy: makeStrategy('fedsgd', {}),
      rounds: 1, fraction: 1, seed: 4, observers: [big],
    });
    assert.match(big.records[0]!.skipped ?? '', /exceeds idlg's maximum/);
  } finally {
    await removeDir(out);
  }
});

test('fedattack train --leak idlg writes per-client reconstructions, metrics and a report section', async () => {
  const { spawnSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
  const out = await makeTempDir();
  try {
    const r = spawnSync(process.execPath, [main, 'train', '--backend', 'wasm', '--dataset', 'synthetic', '--train-size', '60', '--test-size', '40',
      '--model', 'lenet', '--algorithm', 'fedsgd', '--clients', '60', '--fraction', '0.05', '--rounds', '1', '--workers', '1',
      '--leak', 'idlg', '--leak-clients', '1', '--leak-iterations', '40', '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const m = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8')) as { leakage: { psnr: number; labelAccuracy: number; images: { reconstruction: string } }[] };
    assert.equal(m.leakage.length, 1);
    assert.equal(m.leakage[0]!.labelAccuracy, 1);
    assert.ok(existsSync(path.join(out, m.leakage[0]!.images.reconstruction)));
    assert.match(readFileSync(path.join(out, 'report.md'), 'utf8'), /## Gradient leakage on observed clients/);
    const bad = spawnSync(process.execPath, [main, 'train', '--leak', 'dgl', '--out', path.join(out, 'x')], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
  } finally {
    await removeDir(out);
  }
});
