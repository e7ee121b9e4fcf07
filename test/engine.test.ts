/** Backends, models, RNG determinism and memory discipline. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/engine/tf.js';
import { BackendError, describeChoice, selectBackend } from '../src/engine/backend.js';
import { Rng } from '../src/engine/rng.js';
import { countParams, createModel, disposeParams, ModelError } from '../src/models/index.js';
import { dlgObjective, paramGradients } from '../attacks/leakage/objective.js';
import { oneHot } from '../src/engine/ops.js';

before(async () => {
  await tf.setBackend('cpu');
});

test('explicit backends start or fail clearly; auto falls back and says why', async () => {
  assert.equal((await selectBackend('cpu')).name, 'cpu');
  assert.equal((await selectBackend('wasm')).name, 'wasm');
  await assert.rejects(selectBackend('nope'), BackendError);
  process.env['FEDATTACK_DISABLE_WEBGPU'] = '1';
  try {
    await assert.rejects(selectBackend('webgpu'), (e: Error) => e instanceof BackendError && /webgpu.*FEDATTACK_DISABLE_WEBGPU/i.test(e.message));
  } finally {
    delete process.env['FEDATTACK_DISABLE_WEBGPU'];
  }
  const auto = await selectBackend('auto');
  assert.ok(['tensorflow', 'webgpu', 'wasm', 'cpu'].includes(auto.name));
  if (auto.name === 'wasm') {
    assert.ok(auto.skipped.some((s) => s.name.includes('tfjs-node')), 'skipped list should explain tfjs-node');
    assert.match(describeChoice(auto), /^backend: wasm .*skipped/);
  }
  await tf.setBackend('cpu');
});

test('models: shapes and parameter counts of the papers', () => {
  const mnist = { inputShape: [28, 28, 1] as [number, number, number], classes: 10 };
  assert.equal(countParams(createModel('mlp', mnist)), 199210);
  assert.equal(countParams(createModel('cnn', mnist)), 1663370);
  const lenet = createModel('lenet', { inputShape: [32, 32, 3], classes: 100 });
  assert.deepEqual(lenet.paramShapes.find(([n]) => n === 'fw')![1], [768, 100]);
  assert.deepEqual(createModel('lenet', mnist).paramShapes.find(([n]) => n === 'fw')![1], [588, 10]);
  for (const name of ['lenet', 'mlp', 'cnn', 'convnet']) {
    const m = createModel(name, { inputShape: [32, 32, 3], classes: 7 });
    const p = m.init(1);
    const y = tf.tidy(() => m.apply(p, tf.zeros([3, 32, 32, 3]) as tf.Tensor4D).shape);
    assert.deepEqual(y, [3, 7], name);
    disposeParams(p);
  }
  assert.throws(() => createModel('resnet', mnist), ModelError);
  assert.throws(() => createModel('mlp', { inputShape: [0, 28, 1], classes: 10 }), ModelError);
  const lm = createModel('lenet', mnist);
  const lp = lm.init(0);
  assert.throws(() => tf.tidy(() => lm.apply(lp, tf.zeros([1, 32, 32, 3]) as tf.Tensor4D)), /expects input \[B, 28, 28, 1\]/);
  disposeParams(lp);
});

test('same seed, same parameters; LeNet init is U(-0.5, 0.5)', () => {
  const m = createModel('lenet', { inputShape: [32, 32, 3], classes: 10 });
  const a = m.init(42);
  const b = m.init(42);
  const c = m.init(43);
  assert.deepEqual(Array.from(a['c1w']!.dataSync()), Array.from(b['c1w']!.dataSync()));
  assert.notDeepEqual(Array.from(a['c1w']!.dataSync()), Array.from(c['c1w']!.dataSync()));
  const v = Array.from(a['fw']!.dataSync());
  assert.ok(Math.min(...v) >= -0.5 && Math.max(...v) < 0.5);
  assert.ok(Math.abs(v.reduce((s, x) => s + x, 0) / v.length) < 0.01);
  [a, b, c].forEach(disposeParams);
});

test('Rng: deterministic, roughly the right moments', () => {
  const a = new Rng(9);
  const b = new Rng(9);
  assert.deepEqual([a.uniform(), a.normal(), a.int(10)], [b.uniform(), b.normal(), b.int(10)]);
  const r = new Rng(1);
  const n = r.normalArray(20000);
  const mean = n.reduce((s, x) => s + x, 0) / n.length;
  const varr = n.reduce((s, x) => s + (x - mean) ** 2, 0) / n.length;
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(varr - 1) < 0.05);
  const g = Array.from({ length: 5000 }, () => r.gamma(0.5));
  assert.ok(Math.abs(g.reduce((s, x) => s + x, 0) / g.length - 0.5) < 0.05);
  assert.deepEqual(new Rng(3).permutation(10).sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('tensor count stays flat over 1000 DLG objective + gradient evaluations', async () => {
  await tf.setBackend('wasm');
  try {
    const model = createModel('lenet', { inputShape: [32, 32, 3], classes: 10 });
    const params = model.init(0);
    const target = tf.tidy(() => paramGradients(model, params, tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D, oneHot([3], 10)));
    const x = tf.variable(tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 2));
    const y = tf.variable(tf.randomNormal([1, 10], 0, 1, 'float32', 3));
    const step = (): void => {
      tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => dlgObjective(model, params, target, a as tf.Tensor4D, b))([x, y]);
        x.assign(tf.sub(x, tf.mul(1e-4, grads[0]!)));
        y.assign(tf.sub(y, tf.mul(1e-4, grads[1]!)));
        value.dataSync();
      });
    };
    for (let i = 0; i < 10; i++) step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 1000; i++) step();
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, y, ...target]);
    disposeParams(params);
  } finally {
    await tf.setBackend('cpu');
  }
});
