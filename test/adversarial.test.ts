/** Adversarial examples: inside the ε-ball and [0,1], higher loss than clean, deterministic by seed. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/engine/tf.js';
import { createModel, disposeParams } from '../src/models/index.js';
import { oneHot, softCrossEntropy } from '../src/engine/ops.js';
import { adversarialExamples, parseAdversarial } from '../defenses/training/adversarial.js';
import { buildClientDefense } from '../defenses/client/index.js';

before(async () => {
  await tf.setBackend('cpu');
});

test('PGD and FGSM stay in the ε-ball and the pixel range and raise the loss', () => {
  const model = createModel('mlp', { inputShape: [8, 8, 1], classes: 4, width: 16 });
  const params = model.init(3);
  const x = tf.randomUniform([6, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = oneHot([0, 1, 2, 3, 0, 1], 4);
  for (const spec of ['pgd:epsilon=0.1,steps=5', 'fgsm:epsilon=0.1', 'pgd:epsilon=0.05,steps=3,randomStart=false']) {
    const opts = parseAdversarial(spec);
    const xa = adversarialExamples(model, params, x, y, opts, 7);
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(xa, x))).dataSync()[0]!);
    assert.ok(d <= opts.epsilon + 1e-6, `${spec}: moved ${d}`);
    assert.ok(tf.tidy(() => tf.min(xa).dataSync()[0]! >= 0 && tf.max(xa).dataSync()[0]! <= 1));
    const clean = tf.tidy(() => softCrossEntropy(model.apply(params, x), y).dataSync()[0]!);
    const adv = tf.tidy(() => softCrossEntropy(model.apply(params, xa), y).dataSync()[0]!);
    assert.ok(adv > clean, `${spec}: adversarial loss ${adv} ≤ clean ${clean}`);
    const again = adversarialExamples(model, params, x, y, opts, 7);
    assert.deepEqual(Array.from(again.dataSync()), Array.from(xa.dataSync()));
    tf.dispose([xa, again]);
  }
  const half = adversarialExamples(model, params, x, y, parseAdversarial('fgsm:epsilon=0.2,mix=0.5'), 1);
  const rowsChanged = tf.tidy(() => Array.from(tf.max(tf.abs(tf.sub(half, x)), [1, 2, 3]).dataSync()).filter((v) => v > 0).length);
  assert.equal(rowsChanged, 3);
  tf.dispose([half, x, y]);
  disposeParams(params);
});

test('bad client-defense specs are clear errors', () => {
  assert.throws(() => parseAdversarial('pgd:epsilon=2'), /epsilon/);
  assert.throws(() => parseAdversarial('pdg'), /pgd/);
});

test('pgd and fgsm from the client-defense registry are batch-level defenses giving the same batches', () => {
  const model = createModel('mlp', { inputShape: [8, 8, 1], classes: 4, width: 16 });
  const params = model.init(3);
  const x = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const y = oneHot([0, 1, 2, 3], 4);
  for (const spec of ['pgd:epsilon=0.1,steps=3', 'fgsm:epsilon=0.2,mix=0.5']) {
    const d = buildClientDefense(spec);
    assert.equal(d.level, 'batch');
    if (d.level !== 'batch') continue;
    const viaRegistry = d.transformBatch(model, params, x, y, 9);
    const direct = adversarialExamples(model, params, x, y, parseAdversarial(spec), 9);
    assert.deepEqual(Array.from(viaRegistry.dataSync()), Array.from(direct.dataSync()));
    assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(viaRegistry, x))).dataSync()[0]!) > 0, `${spec}: batch unchanged`);
    tf.dispose([viaRegistry, direct]);
  }
  tf.dispose([x, y]);
  disposeParams(params);
});
