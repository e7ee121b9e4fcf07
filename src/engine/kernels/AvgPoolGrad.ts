/**
 * AvgPoolGrad consistent with tfjs's forward AvgPool: each window averages only its in-bounds pixels,
 *   y[o] = (1/|W_o|) Σ_{p ∈ W_o} x[p]   ⇒   dx[p] = Σ_{o : p ∈ W_o} dy[o] / |W_o|.
 * The stock cpu and wasm kernels divide by the full window size instead, so with 'same' padding the
 * first-order gradient is wrong at the borders (max error 0.46 on a 5x5, 2x2/2 'same' test).
 * tfjs-backend-webgpu's kernel has the same defect (multiplier 1/(fh·fw)); there, where data cannot be
 * read synchronously, the fix stays on the device: dx = stock(dy · fh·fw / |W_o|), the per-position
 * factor computed on the host from the geometry alone.
 */
import { tf } from '../tf-core.js';
import { poolInfo } from './MaxPoolGrad.js';
import { poolWindow, readValues, release, writeValues, type PoolKernelAttrs, type TensorInfo } from './util.js';

export function avgPoolGradKernel(backendName: string): tf.KernelConfig {
  if (backendName === 'webgpu') return onDevice(backendName);
  return {
    kernelName: 'AvgPoolGrad',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, input } = inputs as unknown as { dy: TensorInfo; input: TensorInfo };
      const info = poolInfo(input.shape, attrs as unknown as PoolKernelAttrs);
      const [B, H, W, C] = [info.batchSize, info.inHeight, info.inWidth, info.inChannels];
      const g = readValues(backend, dy);
      const dx = new Float32Array(B * H * W * C);
      let o = 0;
      for (let b = 0; b < B; b++) {
        for (let r = 0; r < info.outHeight; r++) {
          for (let c = 0; c < info.outWidth; c++) {
            const [r0, r1, c0, c1] = poolWindow(info, r, c);
            const inv = 1 / Math.max(1, (r1 - r0) * (c1 - c0));
            for (let ch = 0; ch < C; ch++, o++) {
              const v = g[o]! * inv;
              for (let rr = r0; rr < r1; rr++) {
                for (let cc = c0; cc < c1; cc++) dx[((b * H + rr) * W + cc) * C + ch]! += v;
              }
            }
          }
        }
      }
      return writeValues(backend, dx, input.shape, 'float32');
    },
  };
}

/** The composite fix for device backends: rescale dy per output position, then the stock kernel. */
function onDevice(backendName: string): tf.KernelConfig {
  const stock = tf.getKernel('AvgPoolGrad', backendName);
  const mul = tf.getKernel('Multiply', backendName);
  if (stock === undefined || mul === undefined) throw new Error(`fedattack: backend '${backendName}' has no AvgPoolGrad/Multiply kernel to fix`);
  return {
    kernelName: 'AvgPoolGrad',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { dy, input } = inputs as unknown as { dy: TensorInfo; input: TensorInfo };
      const info = poolInfo(input.shape, attrs as unknown as PoolKernelAttrs);
      const full = info.filterHeight * info.filterWidth;
      const factor = new Float32Array(info.outHeight * info.outWidth);
      for (let r = 0; r < info.outHeight; r++) {
        for (let c = 0; c < info.outWidth; c++) {
          const [r0, r1, c0, c1] = poolWindow(info, r, c);
          factor[r * info.outWidth + c] = full / Math.max(1, (r1 - r0) * (c1 - c0));
        }
      }
      const f = writeValues(backend, factor, [1, info.outHeight, info.outWidth, 1], 'float32');
      const call = (k: tf.KernelConfig, ins: Record<string, TensorInfo>, a: Record<string, unknown>): TensorInfo =>
        k.kernelFunc({ inputs: ins, backend, attrs: a } as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
      const scaled = call(mul, { a: dy, b: f }, {});
      try {
        return call(stock, { dy: scaled, input }, attrs as unknown as Record<string, unknown>);
      } finally {
        release(backend, [f, scaled]);
      }
    },
  };
}
