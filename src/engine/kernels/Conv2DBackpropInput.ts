/**
 * Conv2DBackpropInput as a stride-1 convolution on XNNPACK (wasm's own kernel is a plain loop: 1.8 ms of
 * a ~7 ms LeNet DLG evaluation). With forward padding (top pt, left pl) and stride s,
 *   dx[n, i, j, ci] = Σ_{a,b,co} dyd[n, i + pt − a, j + pl − b, co] · W[a, b, ci, co],
 * where dyd is dy dilated by s (s − 1 zeros between entries). That is a 'valid' conv2d of dyd padded by
 * (kh − 1 − pt) on top (and what completes the height below) with W rotated by 180° and its channel
 * axes swapped. Dilation is a pad of a rank-6 reshape. Cases it does not cover (NCHW, dilated filters,
 * negative padding) fall back to the backend's own kernel.
 */
import { tf } from '../tf-core.js';
import { callKernel, release, type TensorInfo } from './util.js';

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
      if ((a.dataFormat !== undefined && a.dataFormat !== 'NHWC') || top < 0 || left < 0 || bottom < 0 || right < 0 || original === undefined) {
        if (original === undefined) throw new Error(`fedattack: no Conv2DBackpropInput kernel on ${backendName}`);
        return original(args);
      }
      const run = (name: string, ins: Record<string, TensorInfo>, at: Record<string, unknown>): TensorInfo =>
        callKernel(backendName, name, backend, ins, at);
      const temps: TensorInfo[] = [];
      const keep = (t: TensorInfo): TensorInfo => (temps.push(t), t);
      try {
        const C = dy.shape[3]!;
        let d = dy;
        if (sh > 1 || sw > 1) {
          const r6 = keep(run('Reshape', { x: dy }, { shape: [N, oh, 1, ow, 1, C] }));
          const p6 = keep(run('PadV2', { x: r6 }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 }));
          const r4 = keep(run('Reshape', { x: p6 }, { shape: [N, oh * sh, ow * sw, C] }));
          d = keep(run('Slice', { x: r4 }, { begin: [0, 0, 0, 0], size: [N, dh, dw, C] }));
        }
        const padded = keep(run('PadV2', { x: d }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 }));
        const flipped = keep(run('Reverse', { x: filter }, { dims: [0, 1] }));
        const wT = keep(run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }));
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
