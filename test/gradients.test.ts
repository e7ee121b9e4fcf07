/**
 * The engine's gradients: every standard first/second-order check passes on cpu (against finite
 * differences) and wasm (against cpu autodiff); the same checks FAIL with tfjs's stock gradients, so
 * they really detect the defects; the replacement kernels agree with direct reference loops.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/engine/tf.js';
import { standardCases, OP_SPECS } from '../src/verify/checks.js';
import { runCheck } from '../src/verify/gradcheck.js';
import { withStockGradients } from '../src/engine/gradients/index.js';
import { conv2DBackpropFilter, maxPoolGrad } from '../src/engine/kernel-ops.js';
import { Rng } from '../src/engine/rng.js';

before(async () => {
  await tf.setBackend('cpu');
});

for (const backend of ['cpu', 'wasm']) {
  test(`all standard gradient checks pass on ${backend}`, async () => {
    await tf.setBackend(backend);
    try {
      const failures: string[] = [];
      for (const c of await standardCases(7)) {
        const r = await runCheck(c, 1);
        if (!r.pass) failures.push(`${r.name} (order ${r.order}): ${r.autodiff} vs ${r.expected}, rel ${r.relError} ${r.error ?? ''}`);
      }
      assert.deepEqual(failures, []);
    } finally {
      await tf.setBackend('cpu');
    }
  });
}

test('the checks cover every op the models use', () => {
  const names = OP_SPECS.map((s) => s.name);
  for (const op of ['dense', 'sigmoid', 'relu', 'tanh', 'softmax', 'conv s2 pad 2', 'conv s1 same', 'maxPool 2x2/2 valid', 'avgPool 3x3/2 same', 'batch-norm moments', 'reshape']) {
    assert.ok(names.includes(op), `missing check for ${op}`);
  }
});

const caseNamed = async (name: string, order: 1 | 2) => (await standardCases(7)).find((c) => c.name === name && c.order === order)!;

test('with stock tfjs gradients the second-order sigmoid check fails (saved-output defect)', async () => {
  const c = await caseNamed('sigmoid', 2);
  const fixed = await runCheck(c, 1);
  assert.ok(fixed.pass);
  const stock = await withStockGradients(['Sigmoid'], () => runCheck(c, 1));
  assert.equal(stock.pass, false, `stock sigmoid unexpectedly passed: ${stock.autodiff} vs ${stock.expected}`);
});

test('with stock tfjs gradients the second-order softmax, exp, tanh and pow checks fail', async () => {
  for (const [name, kernel] of [['softmax', 'Softmax'], ['exp', 'Exp'], ['tanh', 'Tanh'], ['pow', 'Pow']] as const) {
    const c = await caseNamed(name, 2);
    const stock = await withStockGradients([kernel], () => runCheck(c, 1));
    assert.equal(stock.pass, false, `stock ${kernel} unexpectedly passed`);
  }
});

test('without the Conv2DBackpropFilter gradient a conv model cannot be double-differentiated', async () => {
  const c = await caseNamed('conv s1 same', 2);
  const stock = await withStockGradients(['Conv2DBackpropFilter'], () => runCheck(c, 1));
  assert.equal(stock.pass, false);
  assert.match(stock.error ?? '', /gradient/i);
});

/** Direct loop: dW[a,b,ci,co] = Σ x[n, i·s+a−pt, j·s+b−pl, ci] dy[n,i,j,co]. */
function refFilterGrad(x: Float32Array, xs: number[], dy: Float32Array, ds: number[], k: number, s: number, pt: number, pl: number, co: number): Float32Array {
  const [N, H, W, C] = xs as [number, number, number, number];
  const [, OH, OW] = ds as [number, number, number, number];
  const out = new Float32Array(k * k * C * co);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) for (let ci = 0; ci < C; ci++) for (let o = 0; o < co; o++) {
    let acc = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) {
      const r = i * s + a - pt;
      const c = j * s + b - pl;
      if (r < 0 || r >= H || c < 0 || c >= W) continue;
      acc += x[((n * H + r) * W + c) * C + ci]! * dy[((n * OH + i) * OW + j) * co + o]!;
    }
    out[((a * k + b) * C + ci) * co + o] = acc;
  }
  return out;
}

for (const backend of ['cpu', 'wasm']) {
  test(`Conv2DBackpropFilter kernel on ${backend} matches a direct loop (strides, paddings, odd sizes)`, async () => {
    await tf.setBackend(backend);
    try {
      const rng = new Rng(3);
      for (const [H, k, s, pad] of [[7, 3, 1, 'same'], [7, 3, 2, 'same'], [8, 5, 2, 2], [9, 3, 2, 'valid'], [6, 2, 2, 'valid'], [32, 5, 2, 2]] as const) {
        const xs = [2, H, H, 3];
        const x = rng.normalArray(2 * H * H * 3);
        const info = tf.backend_util.computeConv2DInfo(xs as [number, number, number, number], [k, k, 3, 4], s, 1, pad);
        const ds = [2, info.outHeight, info.outWidth, 4];
        const dy = rng.normalArray(ds.reduce((p, q) => p * q, 1));
        const got = tf.tidy(() => conv2DBackpropFilter(tf.tensor4d(x, xs as [number, number, number, number]), tf.tensor4d(dy, ds as [number, number, number, number]), [k, k, 3, 4], s, pad).dataSync());
        const want = refFilterGrad(x, xs, dy, ds, k, s, info.padInfo.top, info.padInfo.left, 4);
        for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-4 * (1 + Math.abs(want[i]!)), `H${H} k${k} s${s} ${pad}: [${i}] ${got[i]} vs ${want[i]}`);
      }
    } finally {
      await tf.setBackend('cpu');
    }
  });
}

test('wasm MaxPoolGrad and MaxPoolWithArgmax agree with cpu (3 channels, 8x8, where stock wasm was wrong)', async () => {
  const rng = new Rng(5);
  const x = rng.normalArray(2 * 8 * 8 * 3);
  const dy = rng.normalArray(2 * 4 * 4 * 3);
  const run = (): { g: Float32Array; idx: Int32Array } => tf.tidy(() => {
    const xt = tf.tensor4d(x, [2, 8, 8, 3]);
    const y = tf.maxPool(xt, 2, 2, 'valid');
    const g = maxPoolGrad(tf.tensor4d(dy, [2, 4, 4, 3]), xt, y, 2, 2, 'valid').dataSync() as Float32Array;
    const idx = tf.maxPoolWithArgmax(xt, 2, 2, 'valid', true).indexes.dataSync() as Int32Array;
    return { g, idx };
  });
  await tf.setBackend('cpu');
  const cpu = run();
  await tf.setBackend('wasm');
  const wasm = run();
  await tf.setBackend('cpu');
  assert.deepEqual(Array.from(wasm.g), Array.from(cpu.g));
  assert.deepEqual(Array.from(wasm.idx), Array.from(cpu.idx));
});

test('wasm Conv2DBackpropInput (as an XNNPACK convolution) and transposed BatchMatMul agree with cpu', async () => {
  const rng = new Rng(11);
  const cases = [[7, 3, 1, 'same'], [7, 3, 2, 'same'], [8, 5, 2, 2], [9, 3, 2, 'valid'], [32, 5, 2, 2], [6, 2, 2, 'valid'], [8, 5, 1, 2]] as const;
  const run = (): number[][] => cases.map(([H, k, s, pad]) => tf.tidy(() => {
    const xs: [number, number, number, number] = [2, H, H, 3];
    const info = tf.backend_util.computeConv2DInfo(xs, [k, k, 3, 4], s, 1, pad);
    const dy = tf.tensor4d(new Rng(H * 31 + k).normalArray(2 * info.outHeight * info.outWidth * 4), [2, info.outHeight, info.outWidth, 4]);
    const w = tf.tensor4d(new Rng(k).normalArray(k * k * 12), [k, k, 3, 4]);
    return Array.from(tf.conv2dTranspose(dy, w, xs, s, pad as 'same').dataSync());
  }));
  const [av, bv, cv] = [rng.normalArray(6 * 5), rng.normalArray(6 * 4), rng.normalArray(4 * 5)];
  const mm = (): number[][] => tf.tidy(() => {
    const a = tf.tensor2d(av, [6, 5]);
    const b = tf.tensor2d(bv, [6, 4]);
    const c = tf.tensor2d(cv, [4, 5]);
    return [Array.from(tf.matMul(a, b, true, false).dataSync()), Array.from(tf.matMul(a, c, false, true).dataSync()), Array.from(tf.matMul(b, a, true, false).dataSync())];
  });
  await tf.setBackend('cpu');
  const cpu = run();
  const cpuMm = mm();
  await tf.setBackend('wasm');
  const wasm = run();
  const wasmMm = mm();
  await tf.setBackend('cpu');
  cases.forEach((c, i) => cpu[i]!.forEach((v, j) => assert.ok(Math.abs(v - wasm[i]![j]!) < 1e-4 * (1 + Math.abs(v)), `${c.join(' ')} [${j}] ${wasm[i]![j]} vs ${v}`)));
  cpuMm.forEach((m, i) => m.forEach((v, j) => assert.ok(Math.abs(v - wasmMm[i]![j]!) < 1e-4 * (1 + Math.abs(v)), `matMul ${i} [${j}]`)));
});
