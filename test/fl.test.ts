/**
 * Federated learning harness: FedSGD / FedAvg / FedProx against hand-computed steps, observers (the
 * threat model as data), client-side transforms and malicious behaviours, determinism, checkpoints
 * and resume, memory, and convergence of the paper's CNN (IID faster than shards).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../src/engine/tf.js';
import { selectBackend } from '../src/engine/backend.js';
import { Rng } from '../src/engine/rng.js';
import { softCrossEntropy } from '../src/engine/ops.js';
import { createModel, disposeParams, type Model, type Params } from '../src/models/index.js';
import type { Dataset } from '../datasets/types.js';
import { generateSynthetic } from '../datasets/synthetic.js';
import { partition } from '../src/fl/partition.js';
import { fedavg, fedprox, fedsgd, makeStrategy } from '../src/fl/algorithms.js';
import { derivedRng, runFederated, type FederatedOptions } from '../src/fl/harness.js';
import { clientsPerRound, meanAggregator, sampleClients } from '../src/fl/server.js';
import { flatten, unflatten, weightedMean } from '../src/fl/flat.js';
import { recordingObserver, paramsToArrays } from '../src/fl/observers.js';
import { CheckpointError, checkpointDir, readCheckpointState } from '../src/fl/checkpoint.js';
import type { ClientBehaviour, Observation, ObservationTruth, RoundContext, RoundMetrics, UpdateTransform } from '../src/fl/types.js';

before(async () => {
  await selectBackend('wasm');
});

// ---------------------------------------------------------------------------------------------
// Helpers

/** A tiny learnable dataset of 2x2x1 images: class c lights pixel c more than the others. */
function tinyDataset(n: number, seed: number, classes = 3): Dataset {
  const rng = new Rng(seed);
  const images = new Float32Array(n * 4);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = i % classes;
    labels[i] = y;
    for (let p = 0; p < 4; p++) images[i * 4 + p] = 0.3 * rng.uniform() + (p === y ? 0.7 : 0);
  }
  return { name: 'tiny', images, labels, shape: [2, 2, 1], numClasses: classes };
}

const tinyModel = (): Model => createModel('mlp', { inputShape: [2, 2, 1], classes: 3, width: 5 });

function names(model: Model): string[] {
  return model.paramShapes.map(([n]) => n);
}

/** Mean loss gradient over `idx` of `ds`, by tf.grads, independent of src/fl. */
function handGradient(model: Model, params: Params, ds: Dataset, idx: number[]): Params {
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(idx.flatMap((i) => Array.from(ds.images.subarray(i * 4, i * 4 + 4)))), [idx.length, 2, 2, 1]);
    const y = tf.cast(tf.oneHot(tf.tensor1d(idx.map((i) => ds.labels[i]!), 'int32'), ds.numClasses), 'float32');
    const ns = names(model);
    const g = tf.grads((...ps: tf.Tensor[]) => softCrossEntropy(model.apply(Object.fromEntries(ns.map((n, i) => [n, ps[i]!])), x as tf.Tensor4D), y))(ns.map((n) => params[n]!));
    return Object.fromEntries(ns.map((n, i) => [n, g[i]!]));
  });
}

function maxAbsDiff(a: Params | Record<string, Float32Array>, b: Params | Record<string, Float32Array>): number {
  let m = 0;
  for (const k of Object.keys(a)) {
    const x = a[k] instanceof Float32Array ? (a[k] as Float32Array) : ((a[k] as tf.Tensor).dataSync() as Float32Array);
    const y = b[k] instanceof Float32Array ? (b[k] as Float32Array) : ((b[k] as tf.Tensor).dataSync() as Float32Array);
    assert.equal(x.length, y.length, k);
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  }
  return m;
}

function arrays(p: Params): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(p).map(([k, t]) => [k, t.dataSync() as Float32Array]));
}

function withoutSeconds(rounds: RoundMetrics[]): Omit<RoundMetrics, 'seconds'>[] {
  return rounds.map(({ seconds: _s, ...rest }) => rest);
}

function mapParams(p: Params, f: (t: tf.Tensor) => tf.Tensor): Params {
  return Object.fromEntries(Object.entries(p).map(([k, t]) => [k, tf.tidy(() => f(t))]));
}

/** Collects host copies of every observation. */
function collector(): { obs: { o: Omit<Observation, 'delta' | 'globalParams' | 'model'>; truth: ObservationTruth; delta: Record<string, Float32Array>; global: Record<string, Float32Array> }[]; observer: { name: string; observe(o: Observation, t: ObservationTruth): Promise<void> } } {
  const obs: ReturnType<typeof collector>['obs'] = [];
  return {
    obs,
    observer: {
      name: 'collector',
      async observe(o, truth) {
        const { delta, globalParams, model: _m, ...meta } = o;
        obs.push({ o: meta, truth, delta: await paramsToArrays(delta), global: await paramsToArrays(globalParams) });
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Server pieces

test('sampling: max(1, round(C·K)) distinct sorted clients, reproducible per round', () => {
  assert.equal(clientsPerRound(100, 0.1), 10);
  assert.equal(clientsPerRound(3, 0.1), 1);
  assert.equal(clientsPerRound(10, 1), 10);
  assert.equal(clientsPerRound(7, 0.5), 4);
  const a = sampleClients(100, 0.1, derivedRng(5, 'sample:3'));
  const b = sampleClients(100, 0.1, derivedRng(5, 'sample:3'));
  const c = sampleClients(100, 0.1, derivedRng(5, 'sample:4'));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(new Set(a).size, 10);
  assert.deepEqual(a, [...a].sort((x, y) => x - y));
  assert.ok(a.every((k) => k >= 0 && k < 100));
});

test('mean aggregator: Σ (n_k/n)·Δ_k over flat vectors, the documented example, flatten/unflatten round trip', async () => {
  const u = [{ w: tf.tensor1d([1, 10]) }, { w: tf.tensor1d([4, 20]) }];
  const flats = await Promise.all(u.map(flatten));
  assert.deepEqual(Array.from(weightedMean(flats, [1, 3])), [3.25, 17.5]);
  assert.deepEqual(Array.from(meanAggregator.aggregate(flats, [1, 3])), [3.25, 17.5]);
  assert.equal(meanAggregator.dropsNonFinite, false);
  const back = unflatten(meanAggregator.aggregate(flats, [1, 3]), u[0]!);
  assert.deepEqual(back['w']!.shape, [2]);
  assert.deepEqual(Array.from(back['w']!.dataSync()), [3.25, 17.5]);
  assert.throws(() => meanAggregator.aggregate(flats, [0, 0]), /sum to 0/);
  assert.throws(() => meanAggregator.aggregate([flats[0]!, new Float32Array(3)], [1, 1]), /has 3 values/);
  tf.dispose([...u.flatMap((x) => Object.values(x)), ...Object.values(back)]);
});

// ---------------------------------------------------------------------------------------------
// Algorithms against hand computations

const UNEQUAL_PARTS = [[0, 1], [2, 3, 4], [5, 6, 7, 8, 9]];

test('FedSGD: one round equals w − η_s·Σ (n_k/n)·g_k computed by hand with tf.grads per client', async () => {
  const ds = tinyDataset(10, 1);
  const model = tinyModel();
  const init = model.init(3);
  const eta = 0.5;
  const r = await runFederated({ model, train: ds, partition: UNEQUAL_PARTS, strategy: fedsgd({ serverLr: eta }), rounds: 1, fraction: 1, seed: 1, initialParams: init });
  const n = 10;
  const expected = tf.tidy(() => {
    const gs = UNEQUAL_PARTS.map((idx) => handGradient(model, init, ds, idx));
    return Object.fromEntries(names(model).map((k) => {
      let g = tf.zerosLike(init[k]!);
      gs.forEach((gk, i) => (g = tf.add(g, tf.mul(gk[k]!, UNEQUAL_PARTS[i]!.length / n))));
      return [k, tf.sub(init[k]!, tf.mul(g, eta))];
    }));
  });
  const diff = maxAbsDiff(r.params, expected);
  assert.ok(diff < 1e-5, `max |Δ| = ${diff}`);
  assert.ok(maxAbsDiff(r.params, init) > 1e-3, 'the step moved the model');
  disposeParams(r.params);
  disposeParams(expected);
  disposeParams(init);
});

test('FedAvg weights by n_k: E=1, B=∞ with unequal clients equals Σ (n_k/n)·(w − η·g_k); FedAvg(E=1,B=∞,η) = FedSGD(η)', async () => {
  const ds = tinyDataset(10, 2);
  const model = tinyModel();
  const init = model.init(4);
  const lr = 0.3;
  const r = await runFederated({ model, train: ds, partition: UNEQUAL_PARTS, strategy: fedavg({ epochs: 1, batchSize: 0, lr }), rounds: 1, fraction: 1, seed: 1, initialParams: init });
  const expected = tf.tidy(() => {
    const locals = UNEQUAL_PARTS.map((idx) => {
      const g = handGradient(model, init, ds, idx);
      return Object.fromEntries(names(model).map((k) => [k, tf.sub(init[k]!, tf.mul(g[k]!, lr))]));
    });
    return Object.fromEntries(names(model).map((k) => {
      let w = tf.zerosLike(init[k]!);
      locals.forEach((l, i) => (w = tf.add(w, tf.mul(l[k]!, UNEQUAL_PARTS[i]!.length / 10))));
      return [k, w];
    }));
  });
  assert.ok(maxAbsDiff(r.params, expected) < 1e-5, `max |Δ| = ${maxAbsDiff(r.params, expected)}`);
  // An unweighted mean would differ measurably.
  const unweighted = tf.tidy(() => {
    const locals = UNEQUAL_PARTS.map((idx) => {
      const g = handGradient(model, init, ds, idx);
      return Object.fromEntries(names(model).map((k) => [k, tf.sub(init[k]!, tf.mul(g[k]!, lr))]));
    });
    return Object.fromEntries(names(model).map((k) => [k, tf.div(tf.addN(locals.map((l) => l[k]!)), 3)]));
  });
  assert.ok(maxAbsDiff(r.params, unweighted) > 1e-4);
  const s = await runFederated({ model, train: ds, partition: UNEQUAL_PARTS, strategy: fedsgd({ serverLr: lr }), rounds: 1, fraction: 1, seed: 1, initialParams: init });
  assert.ok(maxAbsDiff(r.params, s.params) < 1e-5);
  for (const p of [r.params, s.params, expected, unweighted, init]) disposeParams(p);
});

test('FedAvg local SGD: E epochs of shuffled mini-batches (last one smaller) replayed by hand give the observed Δ = w_local − w_global', async () => {
  const ds = tinyDataset(12, 3);
  const model = tinyModel();
  const init = model.init(5);
  const lr = 0.2;
  const parts = [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9, 10, 11]];
  const c = collector();
  const r = await runFederated({
    model, train: ds, partition: parts, strategy: fedavg({ epochs: 2, batchSize: 2, lr }), rounds: 1, fraction: 1, seed: 9,
    initialParams: init, observers: [c.observer],
  });
  assert.equal(c.obs.length, 2);
  for (const { o, truth, delta } of c.obs) {
    const n = parts[truth.clientIndex]!.length;
    assert.equal(o.kind, 'update');
    assert.equal(o.numSamples, n);
    assert.equal(o.batchSize, 2);
    assert.equal(o.epochs, 2);
    assert.equal(o.localSteps, 2 * Math.ceil(n / 2));
    assert.equal(o.lr, lr);
    assert.equal(truth.epochOrders.length, 2);
    for (const order of truth.epochOrders) assert.deepEqual([...order].sort((a, b) => a - b), parts[truth.clientIndex]);
    // Replay by hand.
    let w: Params = mapParams(init, (t) => tf.clone(t));
    for (const order of truth.epochOrders) {
      for (let at = 0; at < order.length; at += 2) {
        const g = handGradient(model, w, ds, order.slice(at, at + 2));
        const next = Object.fromEntries(names(model).map((k) => [k, tf.tidy(() => tf.sub(w[k]!, tf.mul(g[k]!, lr)))]));
        disposeParams(g);
        disposeParams(w);
        w = next;
      }
    }
    const d = tf.tidy(() => Object.fromEntries(names(model).map((k) => [k, tf.sub(w[k]!, init[k]!)])));
    assert.ok(maxAbsDiff(delta, d) < 1e-5, `client ${truth.clientIndex}: max |Δ| = ${maxAbsDiff(delta, d)}`);
    disposeParams(d);
    disposeParams(w);
  }
  // Server: w + Σ (n_k/n) Δ_k.
  const total = 12;
  const expected = tf.tidy(() => Object.fromEntries(names(model).map((k) => {
    let acc = init[k]!;
    for (const { truth, delta } of c.obs) acc = tf.add(acc, tf.mul(tf.tensor(delta[k]!, init[k]!.shape), parts[truth.clientIndex]!.length / total));
    return [k, acc];
  })));
  assert.ok(maxAbsDiff(r.params, expected) < 1e-5);
  for (const p of [r.params, expected, init]) disposeParams(p);
});

test('FedProx: μ = 0 is FedAvg exactly; μ > 0 pulls the local model towards the global one', async () => {
  const ds = tinyDataset(30, 4);
  const model = tinyModel();
  const parts = partition(ds.labels, 5, { kind: 'iid' }, new Rng(1));
  const base: Omit<FederatedOptions, 'strategy'> = { model, train: ds, test: tinyDataset(15, 5), partition: parts, rounds: 2, fraction: 0.6, seed: 3 };
  const avg = await runFederated({ ...base, strategy: fedavg({ epochs: 3, batchSize: 4, lr: 0.5 }) });
  const prox0 = await runFederated({ ...base, strategy: fedprox({ epochs: 3, batchSize: 4, lr: 0.5, mu: 0 }) });
  assert.deepEqual(arrays(prox0.params), arrays(avg.params));
  assert.deepEqual(withoutSeconds(prox0.rounds), withoutSeconds(avg.rounds));
  const recA = recordingObserver();
  const recP = recordingObserver();
  const a1 = await runFederated({ ...base, rounds: 1, strategy: fedavg({ epochs: 3, batchSize: 4, lr: 0.5 }), observers: [recA] });
  const p1 = await runFederated({ ...base, rounds: 1, strategy: fedprox({ epochs: 3, batchSize: 4, lr: 0.5, mu: 1 }), observers: [recP] });
  assert.equal(recA.records.length, recP.records.length);
  recA.records.forEach((ra, i) => assert.ok(recP.records[i]!.deltaNorm < ra.deltaNorm, `client ${ra.clientId}: ${recP.records[i]!.deltaNorm} vs ${ra.deltaNorm}`));
  assert.deepEqual(makeStrategy('fedprox', { mu: 0.1 }).settings, { algorithm: 'fedprox', epochs: 5, batchSize: 10, lr: 0.1, serverLr: 1, mu: 0.1 });
  for (const r of [avg, prox0, a1, p1]) disposeParams(r.params);
});

// ---------------------------------------------------------------------------------------------
// Observers, transforms, malicious clients

test('observers get one observation per sampled client per round, with the fields the server sees', async () => {
  const ds = tinyDataset(36, 6);
  const model = tinyModel();
  const parts = partition(ds.labels, 6, { kind: 'iid' }, new Rng(2));
  const c = collector();
  const rec = recordingObserver();
  const init = model.init(1);
  const r = await runFederated({
    model, train: ds, test: tinyDataset(12, 7), partition: parts, strategy: fedavg({ epochs: 2, batchSize: 4, lr: 0.3 }),
    rounds: 3, fraction: 0.5, seed: 11, initialParams: init, observers: [c.observer, rec],
  });
  assert.equal(c.obs.length, 3 * 3);
  assert.deepEqual(r.observers['recorder'], { observations: 9, rounds: 3 });
  let global = arrays(init);
  for (const m of r.rounds) {
    const these = c.obs.filter((x) => x.o.round === m.round);
    assert.deepEqual(these.map((x) => x.truth.clientIndex), m.sampledClients);
    assert.deepEqual(these.map((x) => x.o.clientId), m.sampledClients.map((k) => `client-${k}`));
    for (const x of these) {
      assert.equal(x.o.kind, 'update');
      assert.equal(x.o.numSamples, parts[x.truth.clientIndex]!.length);
      assert.equal(x.o.localSteps, 2 * Math.ceil(6 / 4));
      assert.equal(x.o.batchSize, 4);
      assert.equal(x.o.lr, 0.3);
      assert.equal(x.truth.malicious, false);
      assert.deepEqual(x.truth.indices, parts[x.truth.clientIndex]);
      assert.ok(maxAbsDiff(x.global, global) < 1e-6, `round ${m.round}: globalParams is the model the round started from`);
    }
    // Next global = global + Σ (n_k/n) Δ_k (mean aggregator).
    const n = these.reduce((s, x) => s + x.o.numSamples, 0);
    const next: Record<string, Float32Array> = {};
    for (const k of Object.keys(global)) {
      next[k] = global[k]!.map((v, i) => v + these.reduce((s, x) => s + (x.o.numSamples / n) * x.delta[k]![i]!, 0));
    }
    global = next;
  }
  assert.ok(maxAbsDiff(r.params, global) < 1e-5);
  disposeParams(r.params);
  disposeParams(init);
});

test('client-side transforms and malicious behaviours plug in per client; the server observes what they send', async () => {
  const ds = tinyDataset(30, 8);
  const model = tinyModel();
  const parts = partition(ds.labels, 5, { kind: 'iid' }, new Rng(3));
  const base: FederatedOptions = { model, train: ds, partition: parts, strategy: fedavg({ epochs: 1, batchSize: 3, lr: 0.4 }), rounds: 2, fraction: 0.6, seed: 21 };
  const plain = collector();
  const r0 = await runFederated({ ...base, observers: [plain.observer] });

  const halve: UpdateTransform = { name: 'halve', apply: async (d) => mapParams(d, (t) => tf.mul(t, 0.5)) };
  const identity: UpdateTransform = { name: 'identity', apply: async (d) => d };
  const halved = collector();
  const r1 = await runFederated({ ...base, transforms: [identity, halve], observers: [halved.observer] });
  plain.obs.forEach((x, i) => {
    const y = halved.obs[i]!;
    assert.equal(y.truth.clientIndex, x.truth.clientIndex);
    if (x.o.round === 1) for (const k of Object.keys(x.delta)) x.delta[k]!.forEach((v, j) => assert.ok(Math.abs(y.delta[k]![j]! - 0.5 * v) < 1e-6));
  });

  const target = r0.rounds[0]!.sampledClients[0]!;
  const seen: RoundContext[] = [];
  const flip: ClientBehaviour = {
    name: 'sign-flip-test',
    async craft(ctx) {
      seen.push(ctx);
      const own = await ctx.trainLocal();
      const out = mapParams(own.delta, (t) => tf.neg(t));
      disposeParams(own.delta);
      return out;
    },
  };
  const aliasing: ClientBehaviour = { name: 'send-global', craft: async (ctx) => ctx.globalParams };
  const mal = collector();
  const r2 = await runFederated({
    ...base, rounds: 1, observers: [mal.observer],
    behaviour: (k) => (k === target ? flip : k === r0.rounds[0]!.sampledClients[1] ? aliasing : undefined),
  });
  assert.equal(seen.length, 1);
  const sampled = r0.rounds[0]!.sampledClients;
  assert.equal(seen[0]!.honestUpdates.length, sampled.length - 2);
  assert.equal(seen[0]!.numClients, sampled.length);
  assert.equal(seen[0]!.numMalicious, 2);
  assert.equal(seen[0]!.serverLr, 1);
  assert.deepEqual(r2.rounds[0]!.maliciousClients, [sampled[0], sampled[1]]);
  const honestObs = plain.obs.find((x) => x.o.round === 1 && x.truth.clientIndex === target)!;
  const malObs = mal.obs.find((x) => x.truth.clientIndex === target)!;
  assert.equal(malObs.truth.malicious, true);
  assert.equal(malObs.o.localSteps, honestObs.o.localSteps, 'a malicious client claims the nominal metadata');
  for (const k of Object.keys(honestObs.delta)) honestObs.delta[k]!.forEach((v, j) => assert.ok(Math.abs(malObs.delta[k]![j]! + v) < 1e-6));
  for (const r of [r0, r1, r2]) disposeParams(r.params);
});

// ---------------------------------------------------------------------------------------------
// Determinism, resume, memory

async function tinyRun(extra: Partial<FederatedOptions> = {}): Promise<Awaited<ReturnType<typeof runFederated>>> {
  const ds = tinyDataset(40, 9);
  const model = tinyModel();
  const parts = partition(ds.labels, 8, { kind: 'shards', shardsPerClient: 2 }, new Rng(4));
  return runFederated({
    model, train: ds, test: tinyDataset(20, 10), partition: parts, strategy: fedavg({ epochs: 2, batchSize: 3, lr: 0.3 }),
    rounds: 4, fraction: 0.5, seed: 5, ...extra,
  });
}

test('same seed and backend give identical metrics and parameters; another seed differs', async () => {
  const a = await tinyRun();
  const b = await tinyRun();
  assert.deepEqual(withoutSeconds(a.rounds), withoutSeconds(b.rounds));
  assert.deepEqual(arrays(a.params), arrays(b.params));
  const c = await tinyRun({ seed: 6 });
  assert.notDeepEqual(withoutSeconds(a.rounds), withoutSeconds(c.rounds));
  for (const r of [a, b, c]) disposeParams(r.params);
});

test('resume after stopping at round 2 of 4 ends with the metrics and model of an uninterrupted run', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'fedattack-fl-'));
  try {
    const config = { name: 'tiny', rounds: 4 };
    const full = await tinyRun();
    const stopped = await tinyRun({ checkpoint: { dir, config, backend: 'wasm' }, stopAfterRound: 2 });
    assert.equal(stopped.completedRounds, 2);
    const state = await readCheckpointState(dir);
    assert.equal(state?.round, 2);
    assert.equal(state?.rounds.length, 2);
    assert.deepEqual((await fsp.readdir(checkpointDir(dir))).sort(), ['params-000002.bin', 'state.json']);
    const resumed = await tinyRun({ checkpoint: { dir, config, resume: true } });
    assert.equal(resumed.resumedFrom, 2);
    assert.equal(resumed.completedRounds, 4);
    assert.deepEqual(withoutSeconds(resumed.rounds), withoutSeconds(full.rounds));
    assert.deepEqual(arrays(resumed.params), arrays(full.params));
    assert.equal(resumed.finalAccuracy, full.finalAccuracy);
    // Resuming a finished run changes nothing.
    const again = await tinyRun({ checkpoint: { dir, config, resume: true } });
    assert.equal(again.completedRounds, 4);
    assert.deepEqual(arrays(again.params), arrays(full.params));
    // Mismatched settings, a missing checkpoint and a corrupt one are clear errors.
    await assert.rejects(tinyRun({ checkpoint: { dir, config: { name: 'other', rounds: 4 }, resume: true } }), (e: Error) => e instanceof CheckpointError && /other settings.*name/.test(e.message));
    await assert.rejects(tinyRun({ seed: 99, checkpoint: { dir, config, resume: true } }), CheckpointError);
    await assert.rejects(tinyRun({ checkpoint: { dir: path.join(dir, 'nope'), config, resume: true } }), (e: Error) => e instanceof CheckpointError && /no checkpoint/.test(e.message));
    const bin = path.join(checkpointDir(dir), 'params-000004.bin');
    const bytes = await fsp.readFile(bin);
    bytes[10] = bytes[10]! ^ 0xff;
    await fsp.writeFile(bin, bytes);
    await assert.rejects(tinyRun({ checkpoint: { dir, config, resume: true } }), (e: Error) => e instanceof CheckpointError && /corrupt/.test(e.message));
    await fsp.writeFile(bin, bytes.subarray(0, 20));
    await assert.rejects(tinyRun({ checkpoint: { dir, config, resume: true } }), (e: Error) => e instanceof CheckpointError && /truncated/.test(e.message));
    for (const r of [full, stopped, resumed, again]) disposeParams(r.params);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('worker threads train the clients of a round in parallel with results identical to in-thread training', async () => {
  const seq = await tinyRun();
  const c = collector();
  await assert.rejects(tinyRun({ workers: 2 }), /modelOptions/);
  const par = await tinyRun({ workers: 2, modelOptions: { width: 5 }, observers: [c.observer] });
  assert.deepEqual(withoutSeconds(par.rounds), withoutSeconds(seq.rounds));
  assert.deepEqual(arrays(par.params), arrays(seq.params));
  assert.equal(c.obs.length, 4 * 4);
  for (const x of c.obs) for (const order of x.truth.epochOrders) assert.deepEqual([...order].sort((a, b) => a - b), x.truth.indices);
  const fs = await tinyRun({ strategy: fedsgd({ serverLr: 0.3 }), rounds: 2 });
  const fp = await tinyRun({ strategy: fedsgd({ serverLr: 0.3 }), rounds: 2, workers: 3, modelOptions: { width: 5 } });
  assert.deepEqual(arrays(fp.params), arrays(fs.params));
  const custom = { ...fedavg(), name: 'custom', describe: () => ({ algorithm: 'custom' }) };
  await assert.rejects(tinyRun({ strategy: custom, workers: 2, modelOptions: { width: 5 } }), /built-in strategies/);
  for (const r of [seq, par, fs, fp]) disposeParams(r.params);
});

test('no tensor leaks: a run leaves only the returned parameters behind', async () => {
  const warm = await tinyRun({ rounds: 1 });
  disposeParams(warm.params);
  const before = tf.memory().numTensors;
  const r = await tinyRun({ observers: [recordingObserver()], transforms: [{ name: 'x2', apply: async (d) => mapParams(d, (t) => tf.mul(t, 2)) }] });
  assert.equal(tf.memory().numTensors, before + Object.keys(r.params).length);
  disposeParams(r.params);
  const g = await tinyRun({ strategy: fedsgd({ serverLr: 0.2 }) });
  disposeParams(g.params);
  assert.equal(tf.memory().numTensors, before);
});

// ---------------------------------------------------------------------------------------------
// Convergence of the paper's CNN

test('FedAvg trains the CNN on synthetic data to high accuracy; IID converges faster than 2-shard non-IID', async () => {
  // Small and easy enough for a test on 2 cores: 14x14 images of 4 classes, 600 samples, 3 clients.
  const { train, test: testSet } = generateSynthetic({ seed: 0, trainSize: 600, testSize: 300, shape: [14, 14, 1], classes: 4, noise: 0.05, distractorProb: 0 });
  const model = createModel('cnn', { inputShape: [14, 14, 1], classes: 4 });
  const run = (kind: 'iid' | 'shards') =>
    runFederated({
      model, train, test: testSet, strategy: fedavg({ epochs: 2, batchSize: 10, lr: 0.2 }), rounds: 4, fraction: 1, seed: 0,
      partition: partition(train.labels, 3, kind === 'iid' ? { kind: 'iid' } : { kind: 'shards', shardsPerClient: 2 }, new Rng(0).fork('partition')),
    });
  const iid = await run('iid');
  const shards = await run('shards');
  const acc = (r: typeof iid) => r.rounds.map((m) => m.accuracy!);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  console.log(`# cnn 14x14x1, 4 classes, K=3, E=2, B=10: IID ${acc(iid).map((v) => v.toFixed(3)).join(' ')} | shards ${acc(shards).map((v) => v.toFixed(3)).join(' ')}`);
  assert.ok(iid.finalAccuracy! > 0.9, `IID final accuracy ${iid.finalAccuracy}`);
  assert.ok(mean(acc(iid)) > mean(acc(shards)) + 0.05, 'IID ahead of shards on average over the rounds');
  assert.ok(iid.finalAccuracy! > shards.finalAccuracy!);
  assert.ok(iid.rounds.every((m) => Number.isFinite(m.loss!) && Number.isFinite(m.trainLoss)));
  disposeParams(iid.params);
  disposeParams(shards.params);
});
