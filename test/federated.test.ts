/** The experiments layer's federated run (runFederatedExperiment) and the harness seam it builds on. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { tf } from '../src/engine/tf.js';
import { formatPartition, parsePartition } from '../src/fl/partition.js';
import { runFederated, NonFiniteUpdateError } from '../src/fl/harness.js';
import { fedavg } from '../src/fl/algorithms.js';
import { createModel } from '../src/models/index.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { partition } from '../src/fl/partition.js';
import { Rng } from '../src/engine/rng.js';
import { Mean } from '../defenses/aggregation/index.js';
import { FEDERATED_DEFAULTS, runFederatedExperiment, type FederatedSettings } from '../src/experiments/federated.js';
import { makeTempDir, removeDir } from './helpers/data-files.js';
import type { ClientBehaviour } from '../src/fl/types.js';

let tmp: string;
before(async () => {
  await tf.setBackend('wasm');
  tmp = await makeTempDir();
});
after(async () => {
  await removeDir(tmp);
});

const small: FederatedSettings = {
  dataset: 'synthetic', model: 'mlp', clients: 6, fraction: 0.5, localEpochs: 1, batchSize: 10, rounds: 2,
  trainSize: 120, testSize: 40, seed: 3, backend: 'wasm', workers: 1,
};

test('partition spec grammar: one parser for train and matrix, canonical text, errors name the problem', () => {
  assert.deepEqual(parsePartition('iid'), { kind: 'iid' });
  assert.deepEqual(parsePartition('natural'), { kind: 'natural' });
  assert.deepEqual(parsePartition('dirichlet:alpha=0.3'), { kind: 'dirichlet', alpha: 0.3 });
  assert.deepEqual(parsePartition('dirichlet'), { kind: 'dirichlet', alpha: 0.5 });
  assert.deepEqual(parsePartition('shards:perClient=3'), { kind: 'shards', shardsPerClient: 3 });
  assert.equal(formatPartition(parsePartition('shards')), 'shards:perClient=2');
  assert.equal(formatPartition(parsePartition(' dirichlet : alpha = 0.25 ')), 'dirichlet:alpha=0.25');
  assert.throws(() => parsePartition('weird'), /unknown partition "weird"/);
  assert.throws(() => parsePartition('dirichlet:alpha=0'), /alpha/);
  assert.throws(() => parsePartition('shards:perClient=1.5'), /perClient/);
});

test('runFederatedExperiment: plain JSON and no files without outDir; the spec and the alias flags give the same run', async () => {
  const a = await runFederatedExperiment({ ...small, partition: 'dirichlet:alpha=0.3' });
  const b = await runFederatedExperiment({ ...small, partition: 'dirichlet', alpha: 0.3 });
  assert.deepEqual(a.files, []);
  assert.equal(a.outDir, undefined);
  assert.equal(a.metrics.partition, 'dirichlet');
  assert.equal(a.metrics.alpha, 0.3);
  assert.equal(a.metrics.complete, true);
  assert.equal(a.metrics.rounds.length, 2);
  const strip = (r: typeof a.metrics.rounds) => r.map(({ seconds: _s, ...rest }) => rest);
  assert.deepEqual(strip(a.metrics.rounds), strip(b.metrics.rounds));
  assert.equal(a.metrics.finalAccuracy, b.metrics.finalAccuracy);
  const iid = await runFederatedExperiment({ ...small });
  assert.equal(iid.metrics.partition, FEDERATED_DEFAULTS.partition);
  assert.notDeepEqual(strip(iid.metrics.rounds), strip(a.metrics.rounds));
  await assert.rejects(runFederatedExperiment({ ...small, partition: 'dirichlet:alpha=0.3', alpha: 0.4 }), /disagree/);
});

test('runFederatedExperiment with outDir writes metrics.json, the report, the plot and a checkpoint, and lists them', async () => {
  const out = path.join(tmp, 'run');
  const lines: string[] = [];
  const r = await runFederatedExperiment({ ...small, aggregator: 'median' }, { outDir: out, log: (l) => lines.push(l) });
  for (const f of ['metrics.json', 'report.md', 'report.html', 'accuracy.png', 'checkpoint']) {
    assert.ok(r.files.includes(path.join(out, f)), f);
    assert.ok(existsSync(path.join(out, f)), f);
  }
  assert.equal(r.metrics.aggregatorSpec, 'median');
  assert.ok(lines.some((l) => /aggregator: median \(updates with NaN\/Inf are dropped\)/.test(l)));
  assert.ok(lines.some((l) => /^round 2\/2: accuracy/.test(l)));
});

test('one NaN policy: the aggregator capability decides; defenses mean (no capability) stops the run before aggregating', async () => {
  const { train, test: testSet } = generateSynthetic({ seed: 0, trainSize: 60, testSize: 20, shape: [8, 8, 1], classes: 3 });
  const model = createModel('mlp', { inputShape: train.shape, classes: train.numClasses });
  const parts = partition(train.labels, 3, { kind: 'iid' }, new Rng(0));
  const nan: ClientBehaviour = {
    name: 'nan',
    async craft(ctx) {
      assert.equal(ctx.globalVector.length, model.paramShapes.reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1), 0));
      assert.equal(ctx.honestVectors.length, ctx.honestUpdates.length);
      const out: Record<string, tf.Tensor> = {};
      for (const [k, t] of Object.entries(ctx.globalParams)) out[k] = tf.fill(t.shape, NaN);
      return out;
    },
  };
  const mean = new Mean();
  assert.equal(mean.dropsNonFinite, false);
  await assert.rejects(
    runFederated({ model, train, test: testSet, partition: parts, strategy: fedavg({ epochs: 1, batchSize: 10 }), rounds: 1, fraction: 1, seed: 0, aggregator: mean, behaviour: (k) => (k === 0 ? nan : undefined) }),
    (e: unknown) => e instanceof NonFiniteUpdateError && e.clients.join() === '0',
  );
});

test('a matrix-style run (clean, assumed F, clip-noise client defense) writes no files with files: leak-images', async () => {
  const out = path.join(tmp, 'cell');
  const r = await runFederatedExperiment({ ...small, byzantine: 1, aggregator: 'trimmed-mean', clientDefense: 'clip-noise:clip=1,sigma=0.01' }, { outDir: out, files: 'leak-images' });
  assert.deepEqual(r.files, []);
  assert.ok(!existsSync(path.join(out, 'metrics.json')));
  assert.equal(r.metrics.aggregatorSpec, 'trimmed-mean:f=1');
  assert.equal(r.metrics.byzantineClients, undefined, 'byzantine without an attack: only the F the aggregator assumes');
});
