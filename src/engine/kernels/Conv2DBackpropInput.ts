/**
 * Conv2DBackpropInput on wasm as XNNPACK convolutions: at stride 1 one convolution (below); strided, one
 * stride-1 convolution per output phase (subPixel); otherwise as a matrix product and a col2im (wasm's
 * own kernel is a plain loop: 1.8 ms of a ~7 ms LeNet DLG evaluation). Registered for wasm only: on cpu, whose products are JavaScript too,
 * it is no faster than the stock loop (measured A/B on LeNet DLG). With forward padding (top pt, left pl), stride s, filter
 * W [kh, kw, Ci, Co] seen as [KK = kh·kw·Ci, Co] and dy as [R = N·oh·ow, Co]:
 *   P = dy · Wᵀ  [R, KK]   (XNNPACK; row r holds output pixel r's contribution to its whole window),
 *   dx[n, i·s − pt + a, j·s − pl + b, ci] += P[(n, i, j), (a, b, ci)]  for in-bounds positions (col2im),
 * the col2im and Wᵀ written in one pass each over the values (XNNPACK does the product on wasm). Unlike a transposed convolution over the
 * stride-dilated dy, neither route spends multiply-adds on the dilation's zeros (3/4 of them at stride 2).
 * At stride 1 there are no such zeros, and it is a convolution of the padded dy with the rotated filter.
 * The rotated / transposed filter of a filter used repeatedly (a model parameter) is cached
 * (./filter-cache.ts). Cases it does not cover (NCHW, non-float32, other backends) fall back to the
 * backend's own kernel.
 */
import { tf } from '../tf-core.js';
import { callKernel, release, floatOutput, floatView, hasDirectValues, type TensorInfo } from './util.js';
import { cachedCopies, cachedCopy } from './filter-cache.js';

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
      /**
       * Strided, with a filter used repeatedly: sh·sw phase convolutions. The outputs y ≡ ry − pt (mod sh)
       * (and likewise in x) receive exactly the taps a = ry + sh·m, so they are a stride-1 convolution of
       * dy with the sub-filter of those taps, rotated and with its channel axes swapped, padded so that
       * output row q is y = (Y0 + q)·sh + ry − pt. XNNPACK runs the convolutions (contraction over
       * Ma·Na·Co instead of Co alone in the col2im route below, whose Co = 12 product XNNPACK runs
       * slowly); the sub-filters are cached with a filter used repeatedly. Measured on LeNet's strided
       * layers (interleaved, µs, col2im → phases): cached filter B=1 152 → 107 and 107 → 85, B=8 824 →
       * 480 and 811 → 804; new filter B=1 198 → 196 and 162 → 159, B=8 861 → 507 and 797 → 718.
       * Null where it does not apply (filter smaller than the stride, or padding beyond a phase's taps).
       */
      const subPixel = (): TensorInfo | null => {
        const { top: pt, left: pl } = info.padInfo;
        if (kh < sh || kw < sw) return null;
        const Co = dy.shape[3]!;
        interface Phase { ry: number; rx: number; Ma: number; Na: number; Y0: number; Y1: number; X0: number; X1: number; pad: number[][] }
        const phases: Phase[] = [];
        for (let ry = 0; ry < sh; ry++) {
          for (let rx = 0; rx < sw; rx++) {
            const Ma = Math.ceil((kh - ry) / sh);
            const Na = Math.ceil((kw - rx) / sw);
            const Y0 = Math.ceil((pt - ry) / sh);
            const Y1 = Math.floor((H - 1 + pt - ry) / sh);
            const X0 = Math.ceil((pl - rx) / sw);
            const X1 = Math.floor((W - 1 + pl - rx) / sw);
            if (Y1 < Y0 || X1 < X0) continue;
            const top = Ma - 1 - Y0;
            const left = Na - 1 - X0;
            if (top < 0 || left < 0) return null;
            phases.push({ ry, rx, Ma, Na, Y0, Y1, X0, X1, pad: [[0, 0], [top, Math.max(0, Y1 - oh + 1)], [left, Math.max(0, X1 - ow + 1)], [0, 0]] });
          }
        }
        const makeSubs = (): TensorInfo[] => phases.map(({ ry, rx, Ma, Na }) => {
          const t = floatOutput(backend, [Ma, Na, Co, Cin]);
          const f = floatView(backend, filter);
          const g = floatView(backend, t);
          for (let m = 0; m < Ma; m++) {
            for (let n = 0; n < Na; n++) {
              const s0 = ((ry + sh * (Ma - 1 - m)) * kw + (rx + sw * (Na - 1 - n))) * Cin * Co;
              const d0 = (m * Na + n) * Co * Cin;
              for (let ci = 0; ci < Cin; ci++) {
                for (let co = 0; co < Co; co++) g[d0 + co * Cin + ci] = f[s0 + ci * Co + co]!;
              }
            }
          }
          return t;
        });
        const subs = cachedCopies(backend, filter, `phases ${sh},${sw}`, makeSubs) ?? makeSubs().map(keep);
        const outs = phases.map((ph, i) => keep(run('Conv2D', { x: dy, filter: subs[i]! }, { strides: [1, 1], pad: ph.pad, dataFormat: 'NHWC', dilations: [1, 1] })));
        const dx = floatOutput(backend, [N, H, W, Cin]);
        const d = floatView(backend, dx);
        phases.forEach((ph, i) => {
          const o = floatView(backend, outs[i]!);
          const [, OH, OW] = outs[i]!.shape as [number, number, number, number];
          for (let n = 0; n < N; n++) {
            for (let q = 0; q <= ph.Y1 - ph.Y0; q++) {
              const y = (ph.Y0 + q) * sh + ph.ry - pt;
              for (let r = 0; r <= ph.X1 - ph.X0; r++) {
                const x = (ph.X0 + r) * sw + ph.rx - pl;
                const s0 = ((n * OH + q) * OW + r) * Cin;
                const d0 = ((n * H + y) * W + x) * Cin;
                for (let c = 0; c < Cin; c++) d[d0 + c] = o[s0 + c]!;
              }
            }
          }
        });
        return dx;
      };
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
        const sub = subPixel();
        if (sub !== null) return sub;
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
