/**
 * Conv2DBackpropFilter as kh·kw matrix products, for GPU backends. With x padded explicitly to xp,
 *   dW[a, b] = X_abᵀ · DY,   X_ab = xp[:, a : a + s_h·oh : s_h, b : b + s_w·ow : s_w, :] as [N·oh·ow, ci],
 *                            DY = dy as [N·oh·ow, co].
 * tfjs-backend-webgpu's own kernel gives every one of the kh·kw·ci·co outputs one thread that loops
 * over all N·oh·ow positions (65 536 serial steps for a batch of 64 at 32x32); these long-K products
 * instead run on its split-K matrix-product program. NHWC, dilation 1 only (as tfjs's own).
 */
import { tf } from '../tf-core.js';
import { callKernel, filterGradInfo, release, type TensorInfo } from './util.js';

export function conv2DBackpropFilterMMKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
      const info = filterGradInfo(x, attrs);
      const { top, bottom, left, right } = info.padInfo;
      const [N, ci, co] = [info.batchSize, info.inChannels, info.outChannels];
      const [oh, ow, sh, sw] = [info.outHeight, info.outWidth, info.strideHeight, info.strideWidth];
      const run = (name: string, ins: Record<string, TensorInfo>, at: Record<string, unknown>): TensorInfo =>
        callKernel(backendName, name, backend, ins, at);
      const temps: TensorInfo[] = [];
      const keep = <T extends TensorInfo>(t: T): T => {
        temps.push(t);
        return t;
      };
      try {
        let xp = x;
        if (top !== 0 || bottom !== 0 || left !== 0 || right !== 0) {
          xp = keep(run('PadV2', { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 }));
        }
        const dy2 = keep(run('Reshape', { x: dy }, { shape: [1, N * oh * ow, co] }));
        const parts: TensorInfo[] = [];
        for (let r = 0; r < info.filterHeight; r++) {
          for (let c = 0; c < info.filterWidth; c++) {
            const xs = keep(run('StridedSlice', { x: xp }, {
              begin: [0, r, c, 0], end: [N, r + (oh - 1) * sh + 1, c + (ow - 1) * sw + 1, ci], strides: [1, sh, sw, 1],
              beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
            }));
            const x2 = keep(run('Reshape', { x: xs }, { shape: [1, N * oh * ow, ci] }));
            parts.push(keep(run('BatchMatMul', { a: x2, b: dy2 }, { transposeA: true, transposeB: false })));
          }
        }
        // Concat takes its inputs as an array
        const all = parts.length === 1 ? parts[0]! : keep(run('Concat', parts as unknown as Record<string, TensorInfo>, { axis: 0 }));
        return run('Reshape', { x: all }, { shape: [info.filterHeight, info.filterWidth, ci, co] });
      } finally {
        release(backend, temps);
      }
    },
  };
}
