/**
 * The speed-motivated kernels and engine changes compute exactly what they replace: cpu binary ops
 * bit-identical to a double-precision reference; wasm BatchMatMul / conv gradients equal to cpu's;
 * first- and second-order gradient checks (finite differences on cpu, cpu autodiff on wasm) through
 * every new path; the engine's shared clones keep gradients of every order and leak nothing.
 * No timings here: speed lives in `fedattack bench`.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/engine/tf.js';
import { runCheck, type CheckCase, type CheckInput } from '../src/verify/gradcheck.js';
import { conv2DBackpropFilter, conv2DBackpropInput } from '../src/engine/kernel-ops.js';
import { withStockGradients } from '../src/engine/gradients/index.js';
import { softCrossEntropy } from '../src/engine/ops.js';
import { Rng } from '../src/engine/rng.js';
import { euclideanDistance } from '../attacks/leakage/objective.js';

before(async () => {
  await tf.setBackend('cpu');
});

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void => {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!)), `${what} [${i}]: ${got[i]} vs ${want[i]}`);
  }
};

test('cpu Add/Sub/Multiply/RealDiv/SquaredDifference are bit-identical to a float64 reference under broadcasting', () => {
  const ops: Record<string, (a: number, b: number) => number> = {
    Add: (a, b) => a + b, Sub: (a, b) => a - b, Multiply: (a, b) => a * b, RealDiv: (a, b) => a / b,
    SquaredDifference: (a, b) => (a - b) * (a - b),
  };
  const shapes: [number[], number[]][] = [
    [[2, 3], [2, 3]], [[1, 1], [4, 5]], [[], [3, 4]], [[3, 4], []], [[3, 1], [1, 4]], [[2, 1, 3], [4, 1]],
    [[1, 1, 1, 5], [2, 3, 3, 5]], [[5], [2, 3, 5]], [[2, 3, 1], [2, 3, 4]], [[1], [7]], [[2, 1, 3, 1], [1, 4, 1, 2]], [[0, 3], [1, 3]],
  ];
  const rng = new Rng(3);
  for (const [name, f] of Object.entries(ops)) {
    for (const [sa, sb] of shapes) {
      tf.tidy(() => {
        const n = (s: number[]): number => s.reduce((p, q) => p * q, 1);
        const a = tf.tensor(rng.normalArray(n(sa)), sa);
        const b = tf.tensor(rng.normalArray(n(sb)).map((v) => v + 3), sb);
        const got = (tf.engine().runKernel(name, { a, b } as unknown as tf.NamedTensorMap) as tf.Tensor);
        const out = tf.backend_util.assertAndGetBroadcastShape(sa, sb);
        assert.deepEqual(got.shape, out, `${name} ${sa}×${sb} shape`);
        const A = tf.broadcastTo(a, out).dataSync();
        const B = tf.broadcastTo(b, out).dataSync();
        const g = got.dataSync();
        for (let i = 0; i < A.length; i++) assert.equal(g[i], Math.fround(f(A[i]!, B[i]!)), `${name} ${sa}×${sb} [${i}]`);
      });
    }
  }
  // other dtypes keep the stock kernels
  tf.tidy(() => assert.deepEqual(Array.from(tf.add(tf.tensor1d([1, 2], 'int32'), tf.scalar(3, 'int32')).dataSync()), [4, 5]));
});

test('wasm BatchMatMul gives the same bits the first time it sees an operand and every time after', async () => {
  // the kernel's path is chosen by shape alone: a restart in a worker thread (fresh parameters) computes
  // exactly what the same restart computes in a thread whose parameters were used before
  const rng = new Rng(8);
  const cases: [number[], number[], boolean, boolean][] = [
    [[1, 100], [100, 768], false, false], [[1, 768], [768, 100], false, false], [[1, 100], [768, 100], false, true],
    [[4, 100], [768, 100], false, true], [[4, 768], [768, 100], false, false], [[768, 1], [768, 100], true, false],
  ];
  await tf.setBackend('wasm');
  try {
    for (const [i, [sa, sb, ta, tb]] of cases.entries()) {
      const a = tf.tensor2d(rng.normalArray(sa[0]! * sa[1]!), sa as [number, number]);
      const b = tf.tensor2d(rng.normalArray(sb[0]! * sb[1]!), sb as [number, number]);
      const runs = [];
      for (let r = 0; r < 3; r++) {
        const o = tf.matMul(a, b, ta, tb);
        runs.push(await o.data());
        o.dispose();
      }
      assert.deepEqual(runs[1], runs[0], `case ${i}: second use differs from the first`);
      assert.deepEqual(runs[2], runs[0], `case ${i}: third use differs from the first`);
      tf.dispose([a, b]);
    }
  } finally {
    await tf.setBackend('cpu');
  }
});

test('wasm BatchMatMul (every transpose, shapes on both sides of M ≤ N, reused weights with two shapes, weights used repeatedly) equals cpu', async () => {
  const rng = new Rng(5);
  const cases: [number[], number[], boolean, boolean][] = [
    [[1, 7], [9, 7], false, true], [[3, 7], [9, 7], false, true], [[9, 7], [3, 7], false, true], [[1, 3, 7], [1, 9, 7], false, true],
    [[7, 3], [7, 5], true, false], [[4, 6], [6, 5], false, false], [[6, 4], [5, 6], true, true], [[1, 6], [6, 5], false, false],
    [[2, 3, 4], [2, 4, 5], false, false], [[2, 3, 4], [2, 5, 4], false, true],
    // a row times large weights never seen before (computed in JavaScript), with batch dims of 1
    [[1, 80], [80, 60], false, false], [[1, 1, 80], [80, 60], false, false], [[1, 80], [1, 80, 60], false, false], [[80, 1], [80, 60], true, false],
    [[1, 83], [83, 61], false, false], // rows left over after the four-row passes
  ];
  const vals = cases.map(([sa, sb]) => [rng.normalArray(sa.reduce((p, q) => p * q, 1)), rng.normalArray(sb.reduce((p, q) => p * q, 1))] as const);
  const wv = rng.normalArray(12);
  const run = (): number[][] => tf.tidy(() => {
    const out = cases.map(([sa, sb, ta, tb], i) => {
      const a: tf.Tensor = tf.reshape(tf.tensor1d(vals[i]![0]), sa);
      const b: tf.Tensor = tf.reshape(tf.tensor1d(vals[i]![1]), sb);
      return Array.from(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, ta, tb).dataSync());
    });
    // one tensor as XNNPACK weights under two shapes ([1,12] and, through a reshape sharing its id, [12,1])
    const w = tf.tensor2d(wv, [1, 12]);
    out.push(Array.from(tf.matMul(tf.ones([3, 1]), w).dataSync()));
    out.push(Array.from(tf.matMul(tf.ones([2, 12]), tf.reshape(w, [12, 1])).dataSync()));
    out.push(Array.from(tf.matMul(tf.ones([3, 1]), w).dataSync()));
    // a·bᵀ with b used repeatedly, many such b, one also under a second shape through a reshape, batch
    // dims of 1
    const bs = Array.from({ length: 10 }, (_, i) => tf.tensor2d(vals[0]![1].map((v) => v + i), [9, 7]));
    for (let r = 0; r < 3; r++) {
      bs.forEach((b, i) => out.push(Array.from(tf.matMul(tf.tensor2d(vals[0]![0].map((v) => v * (r + i)), [1, 7]), b, false, true).dataSync())));
      out.push(Array.from(tf.matMul(tf.ones([2, 9]), tf.reshape(bs[0]!, [7, 9]), false, true).dataSync()));
      out.push(Array.from(tf.matMul(tf.ones([1, 1, 7]), tf.reshape(bs[1]!, [1, 9, 7]), false, true).dataSync()));
    }
    return out;
  });
  const cpu = run();
  await tf.setBackend('wasm');
  try {
    const wasm = run();
    cpu.forEach((c, i) => close(wasm[i]!, c, 1e-5, `case ${i}`));
  } finally {
    await tf.setBackend('cpu');
  }
});

/** Direct-loop conv2d transpose (NHWC, numeric or 'valid' padding via computeConv2DInfo). */
function refBackpropInput(dy: Float32Array, w: Float32Array, xs: [number, number, number, number], k: number, ci: number, co: number, info: tf.backend_util.Conv2DInfo): Float32Array {
  const [N, H, W] = xs;
  const dx = new Float32Array(N * H * W * ci);
  for (let n = 0; n < N; n++) for (let i = 0; i < info.outHeight; i++) for (let j = 0; j < info.outWidth; j++) {
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) {
      const y = i * info.strideHeight - info.padInfo.top + a;
      const x = j * info.strideWidth - info.padInfo.left + b;
      if (y < 0 || y >= H || x < 0 || x >= W) continue;
      for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) {
        dx[((n * H + y) * W + x) * ci + c]! += dy[((n * info.outHeight + i) * info.outWidth + j) * co + o]! * w[((a * k + b) * ci + c) * co + o]!;
      }
    }
  }
  return dx;
}

for (const backend of ['cpu', 'wasm']) {
  test(`Conv2DBackpropInput and Conv2DBackpropFilter on ${backend} match direct loops (batch 3, strides, paddings, odd sizes)`, async () => {
    await tf.setBackend(backend);
    try {
      // the last case is large enough for wasm's Conv2DBackpropFilter to take the convolution route; a
      // filter smaller than the stride and a padding beyond a phase's taps take wasm's col2im route
      const cases = [[9, 5, 2, 2], [8, 5, 1, 2], [7, 3, 2, 'same'], [9, 3, 2, 'valid'], [6, 2, 2, 'valid'], [11, 5, 3, 1], [7, 2, 3, 'valid'], [9, 3, 2, 3], [30, 5, 1, 2]] as const;
      for (const [H, k, s, pad] of cases) {
        const xs: [number, number, number, number] = [3, H, H + 1, 2];
        const co = 5;
        const info = tf.backend_util.computeConv2DInfo(xs, [k, k, 2, co], s, 1, pad);
        const rng = new Rng(H * 7 + k);
        const dyv = rng.normalArray(3 * info.outHeight * info.outWidth * co);
        const wv = rng.normalArray(k * k * 2 * co);
        const xv = rng.normalArray(3 * H * (H + 1) * 2);
        const ref = refBackpropInput(dyv, wv, xs, k, 2, co, info);
        tf.tidy(() => {
          const dy = tf.tensor4d(dyv, [3, info.outHeight, info.outWidth, co]);
          close(conv2DBackpropInput(xs, dy, tf.tensor4d(wv, [k, k, 2, co]), s, pad).dataSync(), ref, 1e-4, `dx ${H} ${k} ${s} ${pad}`);
          // dW: <dW, w> = <dy, conv(x, w)> for any w (the adjoint identity), checked against a direct conv
          const dw = conv2DBackpropFilter(tf.tensor4d(xv, xs), dy, [k, k, 2, co], s, pad).dataSync();
          const want = tf.sum(tf.mul(dy, tf.conv2d(tf.tensor4d(xv, xs), tf.tensor4d(wv, [k, k, 2, co]), s, pad as 'same'))).dataSync()[0]!;
          let got = 0;
          for (let i = 0; i < dw.length; i++) got += dw[i]! * wv[i]!;
          assert.ok(Math.abs(got - want) <= 1e-4 * (1 + Math.abs(want)), `dW ${H} ${k} ${s} ${pad}: ${got} vs ${want}`);
        });
      }
    } finally {
      await tf.setBackend('cpu');
    }
  });
}

test('wasm Conv2DBackpropInput with filters used repeatedly (cached rotated copies and phase sub-filters) matches direct loops, across evictions', async () => {
  await tf.setBackend('wasm');
  try {
    const rng = new Rng(23);
    // strided (phase sub-filters: strides 2 and 3, 'same', 'valid', numeric pads, filter = stride,
    // odd sizes) and stride 1 (rotated copy); 12 filters per size, more than the cache holds
    const geos = [[9, 5, 2, 2], [8, 5, 1, 2], [7, 3, 2, 'same'], [9, 3, 2, 'valid'], [6, 2, 2, 'valid'], [11, 5, 3, 1], [10, 4, 2, 'same'], [16, 5, 2, 2]] as const;
    const filters = new Map<number, Float32Array[]>();
    for (const k of [2, 3, 4, 5]) filters.set(k, Array.from({ length: 12 }, (_, i) => rng.normalArray(k * k * 2 * 3).map((v) => v + i)));
    const ws = new Map([...filters].map(([k, fs]) => [k, fs.map((v) => tf.tensor4d(v, [k, k, 2, 3]))]));
    try {
      for (let round = 0; round < 2; round++) {
        for (const [H, k, s, pad] of geos) {
          const xs: [number, number, number, number] = [2, H, H + 1, 2];
          const info = tf.backend_util.computeConv2DInfo(xs, [k, k, 2, 3], s, 1, pad);
          for (const i of [0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 3, 0]) {
            const dyv = rng.normalArray(2 * info.outHeight * info.outWidth * 3);
            tf.tidy(() => {
              const dy = tf.tensor4d(dyv, [2, info.outHeight, info.outWidth, 3]);
              close(conv2DBackpropInput(xs, dy, ws.get(k)![i]!, s, pad).dataSync(), refBackpropInput(dyv, filters.get(k)![i]!, xs, k, 2, 3, info), 1e-4,
                `round ${round} H ${H} k ${k} s ${s} pad ${pad} filter ${i}`);
            });
          }
        }
      }
      // a filter's data seen under another shape (a reshape shares it) is not mistaken for the cached copy
      tf.tidy(() => {
        const xs: [number, number, number, number] = [1, 8, 8, 3];
        const info = tf.backend_util.computeConv2DInfo(xs, [5, 5, 3, 2], 1, 1, 2);
        const dyv = rng.normalArray(info.outHeight * info.outWidth * 2);
        const dy = tf.tensor4d(dyv, [1, info.outHeight, info.outWidth, 2]);
        const w2 = tf.reshape(ws.get(5)![0]!, [5, 5, 3, 2]) as tf.Tensor4D;
        for (let r = 0; r < 3; r++) close(conv2DBackpropInput(xs, dy, w2, 1, 2).dataSync(), refBackpropInput(dyv, filters.get(5)![0]!, xs, 5, 3, 2, info), 1e-4, `reshaped ${r}`);
      });
    } finally {
      for (const w of ws.values()) tf.dispose(w);
    }
  } finally {
    await tf.setBackend('cpu');
  }
});

const input = (rng: Rng, name: string, shape: number[], scale: number): CheckInput =>
  ({ name, shape, values: rng.normalArray(shape.reduce((p, q) => p * q, 1)).map((v) => v * scale) });

/**
 * A small LeNet-like net at batch 3 (conv s2 pad 2 → sigmoid → conv s1 pad 2 → sigmoid → dense): the
 * loss (first order) and the DLG objective ‖∇θ L − T‖² (second order) w.r.t. input and label logits.
 * Batch 3 takes the BatchMatMul paths with M > 1 (aᵀ as a real transpose).
 */
function netCases(seed: number): CheckCase[] {
  const rng = new Rng(seed);
  const params: CheckInput[] = [
    input(rng, 'c1w', [5, 5, 2, 3], 0.4), input(rng, 'c1b', [3], 0.1), input(rng, 'c2w', [5, 5, 3, 3], 0.4),
    input(rng, 'c2b', [3], 0.1), input(rng, 'fw', [4 * 4 * 3, 6], 0.3), input(rng, 'fb', [6], 0.1),
  ];
  const names = params.map((p) => p.name);
  const io = [input(rng, 'x', [3, 8, 8, 2], 1), input(rng, 'y', [3, 6], 1)];
  const targets = params.map((p) => input(rng, `T_${p.name}`, p.shape, 0.05));
  const loss = (t: Record<string, tf.Tensor>, ps: tf.Tensor[]): tf.Scalar => {
    const p: Record<string, tf.Tensor> = {};
    names.forEach((n, i) => (p[n] = ps[i]!));
    let h = tf.sigmoid(tf.add(tf.conv2d(t['x'] as tf.Tensor4D, p['c1w'] as tf.Tensor4D, 2, 2 as unknown as 'same'), p['c1b']!));
    h = tf.sigmoid(tf.add(tf.conv2d(h as tf.Tensor4D, p['c2w'] as tf.Tensor4D, 1, 2 as unknown as 'same'), p['c2b']!));
    const logits = tf.add(tf.matMul(tf.reshape(h, [3, -1]) as tf.Tensor2D, p['fw'] as tf.Tensor2D), p['fb']!);
    return softCrossEntropy(logits, tf.softmax(t['y']!, -1));
  };
  return [
    { name: 'net b3 loss', order: 1, inputs: [...io, ...params], wrt: ['x', 'y', ...names], fn: (t) => loss(t, names.map((n) => t[n]!)) },
    {
      name: 'net b3 DLG objective', order: 2, inputs: [...io, ...params, ...targets], wrt: ['x', 'y'],
      fn: (t) => {
        const g = tf.grads((...a: tf.Tensor[]) => loss(t, a))(names.map((n) => t[n]!));
        return g.map((gi, i) => tf.sum(tf.squaredDifference(gi, t[`T_${names[i]}`]!))).reduce((a, b) => tf.add(a, b)) as tf.Scalar;
      },
    },
  ];
}

for (const backend of ['cpu', 'wasm']) {
  test(`first- and second-order gradient checks through the new kernels and shared clones on ${backend}`, async () => {
    await tf.setBackend(backend);
    try {
      const failures: string[] = [];
      for (const c of netCases(21)) {
        const r = await runCheck(c, 2);
        if (!r.pass) failures.push(`${r.name}: ${r.autodiff} vs ${r.expected} (rel ${r.relError}) ${r.error ?? ''}`);
      }
      assert.deepEqual(failures, []);
    } finally {
      await tf.setBackend('cpu');
    }
  });
}

test('shared clones: third-order derivatives survive, saved tensors dispatch no Identity, and nothing leaks', async () => {
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    try {
      // f(x) = Σ sigmoid(x)·x: f''' has a closed form; tfjs reaches it through three nested tapes of saved tensors
      const xv = [-1.3, 0.2, 0.9];
      const third = tf.tidy(() => {
        const f = (x: tf.Tensor): tf.Tensor => tf.sum(tf.mul(tf.sigmoid(x), x));
        const g1 = (x: tf.Tensor): tf.Tensor => tf.sum(tf.grad(f)(x));
        const g2 = (x: tf.Tensor): tf.Tensor => tf.sum(tf.grad(g1)(x));
        return Array.from(tf.grad(g2)(tf.tensor1d(xv)).dataSync());
      });
      const want = xv.map((x) => {
        const s = 1 / (1 + Math.exp(-x));
        const s1 = s * (1 - s);
        const s2 = s1 * (1 - 2 * s);
        const s3 = s1 * (1 - 6 * s + 6 * s * s);
        return 3 * s2 + x * s3; // (x·s)''' = 3s'' + x s'''
      });
      close(third, want, 1e-4, `${backend} third derivative`);
      // the same nested gradient with the engine's own clones (Identity dispatches) and with shared ones
      const engine = tf.engine() as unknown as { clone?: unknown; runKernel: (n: string, ...r: unknown[]) => unknown };
      const shared = engine.clone;
      const runKernel = engine.runKernel;
      const nested = (): { identities: number; values: number[] } => {
        let identities = 0;
        engine.runKernel = function (this: unknown, n: string, ...r: unknown[]) {
          if (n === 'Identity') identities++;
          return runKernel.call(this, n, ...r);
        };
        try {
          const values = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => tf.sum(tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.sigmoid(z), z)))(x)))(tf.tensor1d(xv)).dataSync()));
          return { identities, values };
        } finally {
          engine.runKernel = runKernel;
        }
      };
      const before = tf.memory().numTensors;
      for (let i = 0; i < 20; i++) nested();
      assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
      const withShared = nested();
      delete engine.clone;
      let withStock: { identities: number; values: number[] };
      try {
        withStock = nested();
      } finally {
        engine.clone = shared;
      }
      assert.deepEqual(withShared.values, withStock.values, `${backend}: shared clones change values`);
      assert.ok(withShared.identities + 5 <= withStock.identities, `${backend}: ${withShared.identities} Identity dispatches with shared clones, ${withStock.identities} without`);
    } finally {
      await tf.setBackend('cpu');
    }
  }
});

test('Multiply, Sum, Mean, Add, Sub, Reshape gradients (no casts, Fill for large ones, shared reshapes) give the stock values at orders 1–3', async () => {
  const rng = new Rng(9);
  const av = rng.normalArray(2 * 3 * 200);
  const bv = rng.normalArray(3 * 1);
  const cv = rng.normalArray(2 * 3 * 200);
  // f mixes broadcasting products and sums over some axes and over all; its 1st–3rd derivatives w.r.t. a
  const derivs = (): number[][] => tf.tidy(() => {
    const a = tf.tensor3d(av, [2, 3, 200]);
    const b = tf.tensor2d(bv, [3, 1]);
    const c = tf.tensor3d(cv, [2, 3, 200]);
    const f0 = (x: tf.Tensor): tf.Tensor => tf.sum(tf.mul(tf.sum(tf.mul(tf.mul(x, b), tf.sigmoid(tf.sub(tf.mul(x, c), b))), [0, 2], true),
      tf.add(tf.reshape(tf.sum(tf.sub(tf.reshape(b, [3, 1, 1]), tf.reshape(x, [2, 3, 10, 20])), [2, 3]), [2, 3, 1]), tf.sum(x, 2, true))));
    // means over some axes (the batch-norm moments' pattern) and over all (the loss's), large and small
    const f = (x: tf.Tensor): tf.Tensor => tf.add(tf.add(f0(x), tf.sum(tf.mul(tf.mean(tf.mul(x, tf.sigmoid(x)), [0, 2], true), tf.reshape(b, [1, 3, 1])))),
      tf.add(tf.mean(tf.square(tf.mul(x, c))), tf.sum(tf.mean(tf.mul(tf.slice(x, [0, 0, 0], [2, 3, 4]), b), 2))));
    const g1 = (x: tf.Tensor): tf.Tensor => tf.grad(f)(x);
    const g2 = (x: tf.Tensor): tf.Tensor => tf.grad((z: tf.Tensor) => tf.sum(tf.mul(g1(z), c)))(x);
    const g3 = (x: tf.Tensor): tf.Tensor => tf.grad((z: tf.Tensor) => tf.sum(tf.mul(g2(z), c)))(x);
    return [g1(a), g2(a), g3(a), tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.grad(f)(tf.mul(z, 1)), tf.sum(tf.square(z)))))(a)].map((t) => Array.from(t.dataSync()));
  });
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    try {
      const ours = derivs();
      const stock = await withStockGradients(['Multiply', 'Sum', 'Mean', 'Add', 'Sub', 'Reshape'], derivs);
      ours.forEach((o, i) => assert.deepEqual(o, stock[i], `${backend}: derivative ${i + 1} differs from stock`));
    } finally {
      await tf.setBackend('cpu');
    }
  }
});

test('euclideanDistance (one fused kernel on cpu/wasm) equals the float64 sum and has the right gradient', async () => {
  const rng = new Rng(13);
  const shapes = [[5, 5, 3, 12], [12], [300, 7], [7], [1]];
  const av = shapes.map((s) => rng.normalArray(s.reduce((p, q) => p * q, 1)));
  const bv = shapes.map((s) => rng.normalArray(s.reduce((p, q) => p * q, 1)));
  let want = 0;
  av.forEach((a, i) => a.forEach((v, j) => (want += (v - bv[i]![j]!) ** 2)));
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    try {
      const { value, grads } = tf.tidy(() => {
        const b = bv.map((v, i) => tf.reshape(tf.tensor1d(v), shapes[i]!));
        const { value: val, grads: gs } = tf.valueAndGrads((...a: tf.Tensor[]) => euclideanDistance(a, b))(av.map((v, i) => tf.reshape(tf.tensor1d(v), shapes[i]!)));
        return { value: val.dataSync()[0]!, grads: gs.map((g) => Array.from(g.dataSync())) };
      });
      assert.ok(Math.abs(value - want) <= 1e-5 * want, `${backend}: ${value} vs ${want}`);
      grads.forEach((g, i) => close(g, av[i]!.map((v, j) => 2 * (v - bv[i]![j]!)), 1e-6, `${backend} grad ${i}`));
    } finally {
      await tf.setBackend('cpu');
    }
  }
});

test('wasm SplitV (contiguous copies) equals cpu along every axis', async () => {
  const rng = new Rng(17);
  const xv = rng.normalArray(4 * 6 * 5);
  const cases: [number[], number | number[], number][] = [[[120], [30, 2, 88], 0], [[4, 6, 5], [1, 3], 0], [[4, 6, 5], [2, 1, 3], 1], [[4, 6, 5], 5, 2], [[4, 6, 5], [4, -1], 2]];
  const run = (): number[][][] => cases.map(([shape, splits, axis]) => tf.tidy(() =>
    tf.split(tf.reshape(tf.tensor1d(xv), shape), splits, axis).map((t) => [...t.shape, ...Array.from(t.dataSync())])));
  const cpu = run();
  await tf.setBackend('wasm');
  try {
    assert.deepEqual(run(), cpu);
  } finally {
    await tf.setBackend('cpu');
  }
});
