/**
 * Conv2DBackpropInput as a stride-1 convolution on XNNPACK (wasm's own kernel is a plain loop: 1.8 ms of
 * a ~7 ms LeNet DLG evaluation). With forward padding (top pt, left pl) and stride s,
 *   dx[n, i, j, ci] = Σ_{a,b,co} dyd[n, i + pt − a, j + pl − b, co] · W[a, b, ci, co],
 * where dyd is dy dilated by s (s − 1 zeros between entries). That is a 'valid' conv2d of dyd padded by
 * (kh − 1 − pt) on top (and what completes the height below) with W rotated by 180° and its channel
 * axes swapped. The dilated, padded dy and the rotated filter are written in one pass each on the wasm
 * heap. Cases it does not cover (NCHW, dilated filters, negative padding, non-float32) fall back to the
 * backend's own kernel.
 */
import { tf } from '../tf-core.js';
import { callKernel, release, wasmOutput, wasmView, type TensorInfo } from './util.js';

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
      const top = kh - 1 - info.padInfo.top;
      const left = kw - 1 - info.padInfo.left;
      const dh = (oh - 1) * sh + 1;
      const dw = (ow - 1) * sw + 1;
      const bottom = H + kh - 1 - dh - top;
      const right = W + kw - 1 - dw - left;
      if ((a.dataFormat !== undefined && a.dataFormat !== 'NHWC') || dy.dtype !== 'float32' || filter.dtype !== 'float32' ||
          dy.shape[1] !== oh || dy.shape[2] !== ow || top < 0 || left < 0 || bottom < 0 || right < 0 || original === undefined) {
        if (original === undefined) throw new Error(`fedattack: no Conv2DBackpropInput kernel on ${backendName}`);
        return original(args);
      }
      const run = (name: string, ins: Record<string, TensorInfo>, at: Record<string, unknown>): TensorInfo =>
        callKernel(backendName, name, backend, ins, at);
      const temps: TensorInfo[] = [];
      const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
      try {
        const C = dy.shape[3]!;
        const [fh, fw, fi, fo] = filter.shape as [number, number, number, number];
        // dy dilated by the stride and zero-padded, and the filter rotated by 180° with its channel axes
        // swapped, each in one pass over the wasm heap (the backend's Reverse alone took 120 µs).
        const HP = H + kh - 1;
        const WP = W + kw - 1;
        const padded = keep(wasmOutput(backend, [N, HP, WP, C]));
        const wT = keep(wasmOutput(backend, [fh, fw, fo, fi]));
        const src = wasmView(backend, dy);
        const dst = wasmView(backend, padded);
        dst.fill(0);
        for (let n = 0; n < N; n++) {
          for (let i = 0; i < oh; i++) {
            for (let j = 0; j < ow; j++) {
              const s0 = ((n * oh + i) * ow + j) * C;
              const d0 = ((n * HP + top + i * sh) * WP + left + j * sw) * C;
              for (let c = 0; c < C; c++) dst[d0 + c] = src[s0 + c]!;
            }
          }
        }
        const f = wasmView(backend, filter);
        const g = wasmView(backend, wT);
        for (let p = 0; p < fh; p++) {
          for (let q = 0; q < fw; q++) {
            const s0 = ((fh - 1 - p) * fw + (fw - 1 - q)) * fi * fo;
            const d0 = (p * fw + q) * fo * fi;
            for (let ci = 0; ci < fi; ci++) {
              for (let co = 0; co < fo; co++) g[d0 + co * fi + ci] = f[s0 + ci * fo + co]!;
            }
          }
        }
        const out = run('Conv2D', { x: padded, filter: wT }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
        if (out.shape[1] !== H || out.shape[2] !== W || out.shape[3] !== Cin) {
          release(backend, [out]);
          return original(args);
        }
        return out;
      } finally {
        release(backend, temps);
      }
    },
  };
}
