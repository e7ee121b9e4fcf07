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
import { leakageObserver } from '../src/fl/leak-observer.js';
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
