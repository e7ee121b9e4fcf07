/**
 * Conv2DBackpropInput on wasm as a matrix product and a col2im (wasm's own kernel is a plain loop: 1.8 ms
 * of a ~7 ms LeNet DLG evaluation). Registered for wasm only: on cpu, whose products are JavaScript too,
 * it is no faster than the stock loop (measured A/B on LeNet DLG). With forward padding (top pt, left pl), stride s, filter
 * W [kh, kw, Ci, Co] seen as [KK = kh·kw·Ci, Co] and dy as [R = N·oh·ow, Co]:
 *   P = dy · Wᵀ  [R, KK]   (XNNPACK; row r holds output pixel r's contribution to its whole window),
 *   dx[n, i·s − pt + a, j·s − pl + b, ci] += P[(n, i, j), (a, b, ci)]  for in-bounds positions (col2im),
 * the col2im and Wᵀ written in one pass each over the values (XNNPACK does the product on wasm). Unlike a transposed convolution over the
 * stride-dilated dy, no multiply-adds are spent on the dilation's zeros (3/4 of them at stride 2). At
 * stride 1 there are no such zeros, and it is a convolution of the padded dy with the rotated filter.
 * The rotated / transposed filter of a filter used repeatedly (a model parameter) is cached
 * (./filter-cache.ts). Cases it does not cover (NCHW, non-float32, other backends) fall back to the
 * backend's own kernel.
 */
import { tf } from '../tf-core.js';
import { callKernel, release, floatOutput, floatView, hasDirectValues, type TensorInfo } from './util.js';
import { cachedCopy } from './filter-cache.js';

export function conv2DBackpropInputKernel(backendName: string): tf.KernelConfig {
  const stock = tf.getKernel('Conv2DBackpropInput', backendName);
  const original = stock?.kernelFunc;
  return {
    kernelName: 'Conv2DBackpropInput',
    backendName,
    // the wasm kernel binds its wasm function in setupFunc, which the backend runs at initialisation
    ...(stock?.setupFunc !== undefined ? { setupFunc: stock.setupFunc } : {}),
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { dy, filter } = inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
      const a = attrs as unknown as {
        strides: [number, number] | number; pad: 'valid' | 'same' | number; dataFormat?: string;
        dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number];
      };
      const info = tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode);
      const [N, H, W, Cin] = a.inputShape;
      const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
      if ((a.dataFormat !== undefined && a.dataFormat !== 'NHWC') || dy.dtype !== 'float32' || filter.dtype !== 'float32' ||
          dy.shape[0] !== N || dy.shape[1] !== oh || dy.shape[2] !== ow || filter.shape[2] !== Cin || !hasDirectValues(backendName) ||
          original === undefined) {
        if (original === undefined) throw new Error(`fedattack: no Conv2DBackpropInput kernel on ${backendName}`);
        return original(args);
      }
      const run = (name: string, ins: Record<string, TensorInfo>, at: Record<string, unknown>): TensorInfo =>
        callKernel(backendName, name, backend, ins, at);
      const temps: TensorInfo[] = [];
      const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
      /** The filter rotated or transposed: cached for filters used repeatedly (./filter-cache.ts). */
      const filterCopy = (key: string, make: () => TensorInfo): TensorInfo => cachedCopy(backend, filter, key, make) ?? keep(make());
      try {
        const top = kh - 1 - info.padInfo.top;
        const left = kw - 1 - info.padInfo.left;
        const HP = H + kh - 1;
        const WP = W + kw - 1;
        if (sh === 1 && sw === 1 && top >= 0 && left >= 0 && top + oh <= HP && left + ow <= WP) {
          // stride 1: a 'valid' convolution of dy zero-padded by (k − 1 − pad) with the filter rotated by
          // 180° and its channel axes swapped (no stride zeros to skip; XNNPACK does all the work)
          const Co = dy.shape[3]!;
          const padded = keep(floatOutput(backend, [N, HP, WP, Co]));
          const wR = filterCopy('rotated', () => {
            const r = floatOutput(backend, [kh, kw, Co, Cin]);
            const f = floatView(backend, filter);
            const g = floatView(backend, r);
            for (let u = 0; u < kh; u++) {
              for (let v = 0; v < kw; v++) {
                const s0 = ((kh - 1 - u) * kw + (kw - 1 - v)) * Cin * Co;
                const d0 = (u * kw + v) * Co * Cin;
                for (let ci = 0; ci < Cin; ci++) {
                  for (let co = 0; co < Co; co++) g[d0 + co * Cin + ci] = f[s0 + ci * Co + co]!;
                }
              }
            }
            return r;
          });
          const src = floatView(backend, dy);
          const dst = floatView(backend, padded);
          dst.fill(0);
          const rowLen = ow * Co;
          for (let n = 0; n < N; n++) {
            for (let i = 0; i < oh; i++) {
              const s0 = (n * oh + i) * rowLen;
              dst.set(src.subarray(s0, s0 + rowLen), ((n * HP + top + i) * WP + left) * Co);
            }
          }
          return run('Conv2D', { x: padded, filter: wR }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
        }
        // P = dy [R, Co] · Wᵀ [Co, KK] on XNNPACK (the rows of P are dy's contributions to each window),
        // then dx = col2im(P): each row scattered into its window, in one pass over the wasm heap.
        const Co = dy.shape[3]!;
        const R = N * oh * ow;
        const KK = kh * kw * Cin;
        const wT = filterCopy('transposed', () => {
          const t = floatOutput(backend, [Co, KK]);
          const f = floatView(backend, filter);
          const g = floatView(backend, t);
          for (let k = 0; k < KK; k++) {
            for (let co = 0; co < Co; co++) g[co * KK + k] = f[k * Co + co]!;
          }
          return t;
        });
        const dy2 = keep(run('Reshape', { x: dy }, { shape: [R, Co] }));
        const P = keep(run('BatchMatMul', { a: dy2, b: wT }, { transposeA: false, transposeB: false }));
        const dx = floatOutput(backend, [N, H, W, Cin]);
        const out = floatView(backend, dx);
        const p = floatView(backend, P);
        out.fill(0);
        const { top: pt, left: pl } = info.padInfo;
        // for one output pixel and one filter row, the (b, ci) part of its window is one contiguous run
        // in both P and dx (clipped at the left/right borders)
        const span = kw * Cin;
        for (let n = 0; n < N; n++) {
          for (let i = 0; i < oh; i++) {
            for (let j = 0; j < ow; j++) {
              const r0 = ((n * oh + i) * ow + j) * KK;
              const x0 = j * sw - pl;
              const c0 = Math.max(0, -x0) * Cin;
              const c1 = Math.min(kw, W - x0) * Cin;
              for (let u = 0; u < kh; u++) {
                const y = i * sh - pt + u;
                if (y < 0 || y >= H) continue;
                const s0 = r0 + u * span;
                const d0 = ((n * H + y) * W + x0) * Cin;
                for (let t = c0; t < c1; t++) out[d0 + t] += p[s0 + t]!;
              }
            }
          }
        }
        return dx;
      } finally {
        release(backend, temps);
      }
    },
  };
}
