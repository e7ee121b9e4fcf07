/**
 * MaxPoolGrad in plain JavaScript: dx[b, r, c, ch] = Σ of dy over the windows whose *first* maximal
 * in-bounds element (row-major order) is x[b, r, c, ch] — exactly the cpu backend's semantics. Replaces
 * the wasm kernel, which is wrong for some channel counts (23 of 192 elements at 3 channels, 8x8).
 */
import { tf } from '../tf-core.js';
import { poolWindow, readValues, writeValues, type PoolKernelAttrs, type TensorInfo } from './util.js';

/** For every output element, the flat NHWC index (batch included) of its window's first maximum. */
export function maxPoolArgmax(x: Float32Array, info: tf.backend_util.Conv2DInfo): { max: Float32Array; argmax: Int32Array } {
  const [B, H, W, C] = [info.batchSize, info.inHeight, info.inWidth, info.inChannels];
  const n = B * info.outHeight * info.outWidth * C;
  const max = new Float32Array(n);
  const argmax = new Int32Array(n);
  let o = 0;
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < info.outHeight; r++) {
      for (let c = 0; c < info.outWidth; c++) {
        const [r0, r1, c0, c1] = poolWindow(info, r, c);
        for (let ch = 0; ch < C; ch++, o++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let rr = r0; rr < r1; rr += info.dilationHeight) {
            for (let cc = c0; cc < c1; cc += info.dilationWidth) {
              const i = ((b * H + rr) * W + cc) * C + ch;
              const v = x[i]!;
              if (v > best || at < 0) { best = v; at = i; }
            }
          }
          max[o] = best;
          argmax[o] = at;
        }
      }
    }
  }
  return { max, argmax };
}

export function poolInfo(shape: number[], a: PoolKernelAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
}

export function maxPoolGradKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'MaxPoolGrad',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, input } = inputs as unknown as { dy: TensorInfo; input: TensorInfo };
      const info = poolInfo(input.shape, attrs as unknown as PoolKernelAttrs);
      const { argmax } = maxPoolArgmax(readValues(backend, input), info);
      const g = readValues(backend, dy);
      const dx = new Float32Array(input.shape.reduce((p, q) => p * q, 1));
      for (let o = 0; o < argmax.length; o++) dx[argmax[o]!]! += g[o]!;
      return writeValues(backend, dx, input.shape, 'float32');
    },
  };
}
