/**
 * The fused kernels (cpu and wasm): SoftCrossEntropy with its gradient kernels, the squared distance of
 * gradient lists with its ScaledDifference gradient kernel, the sigmoid-gradient kernels, and FusedConv2D
 * (convolution + bias) with its gradient. They compute what the primitive ops compute: values against float64, derivatives of orders 1–3 (including paths through the upstream
 * gradient dy) against the same functions built from primitives, and first- and second-order finite
 * differences on cpu (cpu autodiff on wasm).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/engine/tf.js';
import { runCheck, type CheckCase, type CheckInput } from '../src/verify/gradcheck.js';
import { convBias, logSoftmax, softCrossEntropy } from '../src/engine/ops.js';
import { euclideanDistance } from '../attacks/leakage/objective.js';
import { Rng } from '../src/engine/rng.js';

before(async () => {
  await tf.setBackend('cpu');
});

const BACKENDS = ['cpu', 'wasm'];

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void => {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i]! - want[i]!) <= tol * (1 + scale), `${what} [${i}]: ${got[i]} vs ${want[i]}`);
  }
};

/** The loss from primitives only (what ops.ts computed before the fused kernel). */
const primitiveCrossEntropy = (z: tf.Tensor, t: tf.Tensor): tf.Scalar => tf.neg(tf.mean(tf.sum(tf.mul(t, logSoftmax(z)), -1))) as tf.Scalar;
const primitiveDistance = (a: tf.Tensor[], b: tf.Tensor[]): tf.Scalar =>
  a.map((g, i) => tf.sum(tf.squaredDifference(g, b[i]!))).reduce((p, q) => tf.add(p, q)) as tf.Scalar;

/**
 * f, its gradient, and derivatives of orders 2 and 3 (gradients of Σ c·(previous gradient)), plus
 * second- and third-order ones through f² (the upstream dy of the inner gradient then depends on the
 * inputs) and through ‖∇f − c‖² (the DLG pattern).
 */
function derivatives(f: (xs: tf.Tensor[]) => tf.Scalar, xs: tf.Tensor[], cs: tf.Tensor[]): number[][] {
  return tf.tidy(() => {
    const dot = (gs: tf.Tensor[]): tf.Scalar => gs.map((g, i) => tf.sum(tf.mul(g, cs[i]!))).reduce((p, q) => tf.add(p, q)) as tf.Scalar;
    const g1 = (...v: tf.Tensor[]): tf.Tensor[] => tf.grads((...u: tf.Tensor[]) => f(u))(v);
    const g2 = (...v: tf.Tensor[]): tf.Tensor[] => tf.grads((...u: tf.Tensor[]) => dot(g1(...u)))(v);
    const g3 = (...v: tf.Tensor[]): tf.Tensor[] => tf.grads((...u: tf.Tensor[]) => dot(g2(...u)))(v);
    const sq = (...v: tf.Tensor[]): tf.Tensor[] => tf.grads((...u: tf.Tensor[]) => dot(tf.grads((...w: tf.Tensor[]) => tf.square(f(w)) as tf.Scalar)(u)))(v);
    const sq3 = tf.grads((...u: tf.Tensor[]) => dot(sq(...u)))(xs);
    // ‖∇f − c‖² (the DLG pattern) differentiated once more
    const dlg = (...v: tf.Tensor[]): tf.Tensor[] => tf.grads((...u: tf.Tensor[]) => primitiveDistance(g1(...u), cs))(v);
    // and once more (third order with every upstream gradient depending on the inputs)
    const dlg3 = tf.grads((...u: tf.Tensor[]) => dot(dlg(...u)))(xs);
    return [f(xs), ...g1(...xs), ...g2(...xs), ...g3(...xs), ...sq(...xs), ...sq3, ...dlg(...xs), ...dlg3].map((t) => Array.from(t.dataSync()));
  });
}

test('fused SoftCrossEntropy: value, and derivatives of orders 1–3 w.r.t. logits and targets, equal the primitive loss', async () => {
  const rng = new Rng(31);
  const B = 3;
  const C = 7;
  const zv = rng.normalArray(B * C).map((v) => 2 * v);
  // soft targets whose rows do not sum to 1 (the kernel must not assume they do), one exact zero
  const tv = rng.uniformArray(B * C, 0, 0.4);
  tv[4] = 0;
  const cz = rng.normalArray(B * C);
  const ct = rng.normalArray(B * C);
  let want = 0;
  for (let b = 0; b < B; b++) {
    const row = zv.slice(b * C, (b + 1) * C);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    for (let c = 0; c < C; c++) want += tv[b * C + c]! * (lse - row[c]!);
  }
  want /= B;
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    try {
      const run = (f: (z: tf.Tensor, t: tf.Tensor) => tf.Scalar): number[][] =>
        derivatives(([z, t]) => tf.mul(f(z!, t!), 1.7) as tf.Scalar, [tf.tensor2d(zv, [B, C]), tf.tensor2d(tv, [B, C])], [tf.tensor2d(cz, [B, C]), tf.tensor2d(ct, [B, C])]);
      const ours = run(softCrossEntropy);
      const ref = run(primitiveCrossEntropy);
      // the gradients' fallbacks where a gradient kernel is missing: primitives for the gradient's
      // gradient, then also for the gradient itself
      const missing = async (names: string[]): Promise<number[][]> => {
        const configs = names.map((n) => tf.getKernel(n, backend)!);
        names.forEach((n) => tf.unregisterKernel(n, backend));
        try {
          return run(softCrossEntropy);
        } finally {
          configs.forEach((c) => tf.registerKernel(c));
        }
      };
      for (const names of [['FedattackSoftCrossEntropyGradGradZ', 'FedattackSoftCrossEntropyGradGradT'],
        ['FedattackSoftCrossEntropyGradGradZ', 'FedattackSoftCrossEntropyGradGradT', 'FedattackSoftCrossEntropyGrad']]) {
        (await missing(names)).forEach((o, i) => close(o, ref[i]!, 2e-5, `${backend} without ${names.length} kernels: derivative ${i}`));
      }
      assert.ok(Math.abs(ours[0]![0]! / 1.7 - want) <= 1e-6 * Math.abs(want), `${backend}: value ${ours[0]![0]! / 1.7} vs ${want}`);
      ours.forEach((o, i) => close(o, ref[i]!, 2e-5, `${backend}: derivative ${i}`));
      // the fused path really is one kernel forward (not the primitive ops)
      const names: string[] = [];
      const prof = await tf.profile(() => tf.tidy(() => softCrossEntropy(tf.tensor2d(zv, [B, C]), tf.tensor2d(tv, [B, C]))));
      for (const k of prof.kernels) names.push(k.name);
      assert.ok(names.includes('FedattackSoftCrossEntropy'), `${backend}: ${names.join(',')}`);
    } finally {
      await tf.setBackend('cpu');
    }
  }
});

test('fused squared distance: value against float64, and derivatives of orders 1–3 equal the per-tensor primitive sum', async () => {
  const rng = new Rng(37);
  const shapes = [[5, 5, 3, 4], [4], [30, 7], [7], [1]];
  const n = (s: number[]): number => s.reduce((p, q) => p * q, 1);
  const av = shapes.map((s) => rng.normalArray(n(s)));
  const bv = shapes.map((s) => rng.normalArray(n(s)));
  const cv = shapes.map((s) => rng.normalArray(n(s)));
  let want = 0;
  av.forEach((a, i) => a.forEach((v, j) => (want += (v - bv[i]![j]!) ** 2)));
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    try {
      const mk = (vs: Float32Array[]): tf.Tensor[] => vs.map((v, i) => tf.tensor(v, shapes[i]!));
      // both lists are differentiated (the b_i gradients run with k = −2), squared elementwise first so
      // that the third derivatives are not zero
      const sq = (ts: tf.Tensor[]): tf.Tensor[] => ts.map((t) => tf.mul(t, t));
      const run = (f: (a: tf.Tensor[], b: tf.Tensor[]) => tf.Scalar): number[][] =>
        derivatives((xs) => f(sq(xs.slice(0, shapes.length)), sq(xs.slice(shapes.length))), [...mk(av), ...mk(bv)], [...mk(cv), ...mk(av)]);
      const ours = run(euclideanDistance);
      const ref = run(primitiveDistance);
      ours.forEach((o, i) => close(o, ref[i]!, 2e-5, `${backend}: derivative ${i}`));
      // the gradient's fallback (primitives) where ScaledDifference is missing
      const scaled = tf.getKernel('FedattackScaledDifference', backend)!;
      tf.unregisterKernel('FedattackScaledDifference', backend);
      try {
        run(euclideanDistance).forEach((o, i) => close(o, ref[i]!, 2e-5, `${backend} without ScaledDifference: derivative ${i}`));
      } finally {
        tf.registerKernel(scaled);
      }
      const value = tf.tidy(() => euclideanDistance(mk(av), mk(bv)).dataSync()[0]!);
      assert.ok(Math.abs(value - want) <= 1e-6 * want, `${backend}: ${value} vs ${want}`);
      const prof = await tf.profile(() => tf.tidy(() => euclideanDistance(mk(av), mk(bv))));
      assert.ok(prof.kernels.some((k) => k.name === 'FedattackSquaredDistance'), `${backend}: fused kernel not used`);
    } finally {
      await tf.setBackend('cpu');
    }
  }
});

test('fused sigmoid gradients (from the input x): derivatives of orders 1–3 equal a sigmoid built from exp', async () => {
  const rng = new Rng(47);
  const shape = [4, 6];
  const xv = rng.normalArray(24).map((v) => 2 * v);
  const wv = rng.normalArray(24);
  const cs = [rng.normalArray(24), rng.normalArray(24)];
  const expSigmoid = (x: tf.Tensor): tf.Tensor => tf.div(1, tf.add(1, tf.exp(tf.neg(x))));
  // nested sigmoids and products: every input of both kernels depends on x and w at every order
  const f = (sig: (x: tf.Tensor) => tf.Tensor) => ([x, w]: tf.Tensor[]): tf.Scalar =>
    tf.add(tf.sum(tf.mul(sig(tf.mul(sig(x!), w!)), sig(tf.mul(x!, w!)))), tf.sum(tf.mul(sig(w!), x!))) as tf.Scalar;
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    try {
      const run = (sig: (x: tf.Tensor) => tf.Tensor): number[][] =>
        derivatives(f(sig), [tf.tensor(xv, shape), tf.tensor(wv, shape)], cs.map((c) => tf.tensor(c, shape)));
      const ours = run(tf.sigmoid);
      const ref = run(expSigmoid);
      ours.forEach((o, i) => close(o, ref[i]!, 2e-5, `${backend}: derivative ${i}`));
      const prof = await tf.profile(() => tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.sigmoid(x)))(tf.tensor(xv, shape))));
      assert.ok(prof.kernels.some((k) => k.name === 'FedattackSigmoidBackprop'), `${backend}: fused kernel not used`);
    } finally {
      await tf.setBackend('cpu');
    }
  }
});

test('fused softmax gradient: derivatives of orders 1–3 equal a softmax built from exp', async () => {
  const rng = new Rng(59);
  const shape = [3, 7];
  const zv = rng.normalArray(21).map((v) => 2 * v);
  const wv = rng.normalArray(21);
  const cs = [rng.normalArray(21), rng.normalArray(21)];
  const expSoftmax = (z: tf.Tensor): tf.Tensor => { const e = tf.exp(tf.sub(z, tf.max(z, -1, true))); return tf.div(e, tf.sum(e, -1, true)); };
  // softmax of softmax-dependent logits, weighted: every input of the kernel depends on z and w at every order
  const f = (sm: (z: tf.Tensor) => tf.Tensor) => ([z, w]: tf.Tensor[]): tf.Scalar =>
    tf.sum(tf.mul(sm(tf.mul(sm(z!), w!)), tf.mul(sm(z!), w!))) as tf.Scalar;
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    try {
      const run = (sm: (z: tf.Tensor) => tf.Tensor): number[][] =>
        derivatives(f(sm), [tf.tensor(zv, shape), tf.tensor(wv, shape)], cs.map((c) => tf.tensor(c, shape)));
      const ours = run((z) => tf.softmax(z, -1));
      const ref = run(expSoftmax);
      ours.forEach((o, i) => close(o, ref[i]!, 2e-5, `${backend}: derivative ${i}`));
      const prof = await tf.profile(() => tf.tidy(() => tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.softmax(z), tf.tensor(wv, shape))))(tf.tensor(zv, shape))));
      assert.ok(prof.kernels.some((k) => k.name === 'FedattackSoftmaxBackprop'), `${backend}: fused kernel not used`);
    } finally {
      await tf.setBackend('cpu');
    }
  }
});

test('convBias (FusedConv2D on cpu/wasm): value and derivatives of orders 1–3 w.r.t. input, filter and bias equal conv2d + add', async () => {
  const rng = new Rng(53);
  const geos: [number, number, 'same' | 'valid' | number][] = [[5, 2, 2], [3, 1, 'same'], [3, 2, 'valid'], [3, 2, 'same']];
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    try {
      for (const [k, s, pad] of geos) {
        const xv = rng.normalArray(2 * 7 * 6 * 2);
        const wv = rng.normalArray(k * k * 2 * 3).map((v) => 0.4 * v);
        const bv = rng.normalArray(3).map((v) => 0.2 * v);
        const mk = (): tf.Tensor[] => [tf.tensor4d(xv, [2, 7, 6, 2]), tf.tensor4d(wv, [k, k, 2, 3]), tf.tensor1d(bv)];
        const cs = mk().map((t) => tf.tidy(() => tf.randomNormal(t.shape, 0, 1, 'float32', 7)));
        // a sigmoid after the convolution makes every derivative order non-zero
        const f = (op: (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor) => tf.Tensor) => ([x, w, b]: tf.Tensor[]): tf.Scalar =>
          tf.sum(tf.sigmoid(op(x as tf.Tensor4D, w as tf.Tensor4D, b!))) as tf.Scalar;
        const ours = derivatives(f((x, w, b) => convBias(x, w, b, s, pad)), mk(), cs);
        const ref = derivatives(f((x, w, b) => tf.add(tf.conv2d(x, w, s, pad as 'same'), b)), mk(), cs);
        tf.dispose(cs);
        ours.forEach((o, i) => close(o, ref[i]!, 2e-5, `${backend} k${k} s${s} ${pad}: derivative ${i}`));
      }
      const prof = await tf.profile(() => tf.tidy(() => convBias(tf.ones([1, 4, 4, 2]) as tf.Tensor4D, tf.ones([3, 3, 2, 3]) as tf.Tensor4D, tf.ones([3]), 1, 'same')));
      assert.deepEqual(prof.kernels.map((k) => k.name), ['FusedConv2D'], backend);
      // FusedConv2D with an activation has no (correct) gradient here: refused, not silently wrong
      assert.throws(() => tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(tf.engine().runKernel('FusedConv2D',
        { x, filter: tf.ones([3, 3, 2, 3]), bias: tf.ones([3]) } as unknown as tf.NamedTensorMap,
        { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], activation: 'relu' } as unknown as tf.NamedAttrMap) as tf.Tensor))(tf.ones([1, 4, 4, 2]))), /no gradient for FusedConv2D/);
    } finally {
      await tf.setBackend('cpu');
    }
  }
});

const input = (rng: Rng, name: string, shape: number[], scale: number): CheckInput =>
  ({ name, shape, values: rng.normalArray(shape.reduce((p, q) => p * q, 1)).map((v) => v * scale) });

/**
 * Finite-difference checks: the loss w.r.t. logits and targets (order 1), and ‖∇_W L − T‖² of a dense
 * layer w.r.t. its input and label logits through the fused loss and distance (order 2: the gradient
 * kernels' own gradients), with the loss squared in a third case (dy then depends on the inputs).
 */
function fusedCases(seed: number): CheckCase[] {
  const rng = new Rng(seed);
  const io = [input(rng, 'x', [3, 5], 1), input(rng, 'y', [3, 4], 1), input(rng, 'w', [5, 4], 0.5), input(rng, 'b', [4], 0.2)];
  const T = [input(rng, 'Tw', [5, 4], 0.1), input(rng, 'Tb', [4], 0.1)];
  const loss = (t: Record<string, tf.Tensor>, w: tf.Tensor, b: tf.Tensor): tf.Scalar =>
    softCrossEntropy(tf.add(tf.matMul(t['x'] as tf.Tensor2D, w as tf.Tensor2D), b), tf.mul(tf.softmax(t['y']!, -1), 1.2));
  const objective = (square: boolean) => (t: Record<string, tf.Tensor>): tf.Scalar => {
    const g = tf.grads((w: tf.Tensor, b: tf.Tensor) => (square ? tf.square(loss(t, w, b)) as tf.Scalar : loss(t, w, b)))([t['w']!, t['b']!]);
    return euclideanDistance(g, [t['Tw']!, t['Tb']!]);
  };
  const cv = [input(rng, 'cx', [2, 6, 6, 2], 1), input(rng, 'cw', [3, 3, 2, 3], 0.4), input(rng, 'cb', [3], 0.2), input(rng, 'cT', [3, 3, 2, 3], 0.05)];
  const convLoss = (t: Record<string, tf.Tensor>, w: tf.Tensor, b: tf.Tensor): tf.Scalar =>
    tf.sum(tf.square(tf.sigmoid(convBias(t['cx'] as tf.Tensor4D, w as tf.Tensor4D, b, 2, 1)))) as tf.Scalar;
  return [
    { name: 'convBias', order: 1, inputs: cv, wrt: ['cx', 'cw', 'cb'], fn: (t) => convLoss(t, t['cw']!, t['cb']!) },
    {
      name: 'convBias DLG-style objective', order: 2, inputs: cv, wrt: ['cx', 'cw', 'cb'],
      fn: (t) => euclideanDistance(tf.grads((w: tf.Tensor, b: tf.Tensor) => convLoss(t, w, b))([t['cw']!, t['cb']!]), [t['cT']!, tf.zeros([3])]),
    },
    { name: 'fused loss', order: 1, inputs: io, wrt: ['x', 'y', 'w', 'b'], fn: (t) => loss(t, t['w']!, t['b']!) },
    { name: 'fused DLG objective', order: 2, inputs: [...io, ...T], wrt: ['x', 'y', 'Tw'], fn: objective(false) },
    { name: 'fused DLG objective, squared loss', order: 2, inputs: [...io, ...T], wrt: ['x', 'y', 'Tb'], fn: objective(true) },
  ];
}

for (const backend of BACKENDS) {
  test(`first- and second-order gradient checks through the fused loss, distance and convolution on ${backend}`, async () => {
    await tf.setBackend(backend);
    try {
      const failures: string[] = [];
      for (const c of fusedCases(41)) {
        for (const seed of [1, 2]) {
          const r = await runCheck(c, seed);
          if (!r.pass) failures.push(`${r.name}: ${r.autodiff} vs ${r.expected} (rel ${r.relError}) ${r.error ?? ''}`);
        }
      }
      assert.deepEqual(failures, []);
    } finally {
      await tf.setBackend('cpu');
    }
  });
}

test('the fused loss kernels leak no tensors', async () => {
  for (const backend of BACKENDS) {
    await tf.setBackend(backend);
    try {
      const c = fusedCases(43)[2]!;
      const t = Object.fromEntries(c.inputs.map((i) => [i.name, tf.tensor(i.values, i.shape)]));
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) {
        tf.dispose(tf.tidy(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => c.fn({ ...t, x, y }))([t['x']!, t['y']!])));
      }
      assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
      tf.dispose(Object.values(t));
    } finally {
      await tf.setBackend('cpu');
    }
  }
});
