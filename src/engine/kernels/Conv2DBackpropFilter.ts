/**
 * Conv2DBackpropFilter as an ordinary convolution, for backends whose own kernel is missing (wasm) or
 * slow (cpu: 66 of ~85 ms of a LeNet DLG step). With x padded explicitly to xp,
 *   dW[a, b, ci, co] = Σ_{n,i,j} xp[n, i·s_h + a, j·s_w + b, ci] · dy[n, i, j, co],
 * which is conv2d( transpose(xp → [ci, H, W, n]), transpose(dy → [oh, ow, n, co]), stride 1,
 * dilation s ) cropped to [ci, kh, kw, co] and transposed to [kh, kw, ci, co]. It runs on the
 * backend's own (fast) Conv2D kernel. NHWC, dilation 1 only (as tfjs's own).
 * On cpu and wasm (direct access to values) it is instead im2col and one matrix product (XNNPACK on wasm,
 * where Transpose and Pad are slow generic loops; on cpu the dilated convolution was the slow part):
 *   dW [KK = kh·kw·Ci, Co] = colᵀ [KK, R] · dy [R = N·oh·ow, Co],
 *   colᵀ[(a, b, ci), (n, i, j)] = x[n, i·s_h − pt + a, j·s_w − pl + b, ci]  (0 outside),
 * with colᵀ written in one pass over the values (after zeroing it).
 */
import { tf } from '../tf-core.js';
import { callKernel, release, filterGradInfo, floatOutput, floatView, hasDirectValues, type TensorInfo } from './util.js';

export function conv2DBackpropFilterKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
      const info = filterGradInfo(x, attrs);
      const { top, bottom, left, right } = info.padInfo;
      const run = (name: string, ins: Record<string, TensorInfo>, at: Record<string, unknown>): TensorInfo =>
        callKernel(backendName, name, backend, ins, at);
      const temps: TensorInfo[] = [];
      // im2col writes kh·kw·Ci·N·oh·ow values in JavaScript; on wasm, beyond ~100k of them (DLG LeNet at
      // batch ≥ 5) the convolution route below is as fast (measured A/B)
      const im2colSize = info.filterHeight * info.filterWidth * info.inChannels * info.batchSize * info.outHeight * info.outWidth;
      if (hasDirectValues(backendName) && x.dtype === 'float32' && dy.dtype === 'float32' && (backendName === 'cpu' || im2colSize <= 100_000)) {
        try {
          const [N, H, W, Ci] = x.shape as [number, number, number, number];
          const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, outChannels: Co } = info;
          const R = N * oh * ow;
          const KK = kh * kw * Ci;
          const colT = floatOutput(backend, [KK, R]);
          temps.push(colT);
          const src = floatView(backend, x);
          const col = floatView(backend, colT);
          // zeros first, then per filter tap (u, v) and in-bounds output pixel r one run of Ci values from
          // x (contiguous) into column r of rows (u, v, ·) (stride R): 4x faster in V8 at Ci = 12 than
          // row-wise strided reads (LeNet layer 2: 172 → 44 µs), 1.2x at Ci = 3
          col.fill(0);
          for (let u = 0; u < kh; u++) {
            for (let v = 0; v < kw; v++) {
              const base = (u * kw + v) * Ci * R;
              for (let n = 0; n < N; n++) {
                for (let i = 0; i < oh; i++) {
                  const yy = i * sh - top + u;
                  if (yy < 0 || yy >= H) continue;
                  for (let j = 0; j < ow; j++) {
                    const xx = j * sw - left + v;
                    if (xx < 0 || xx >= W) continue;
                    const k = ((n * H + yy) * W + xx) * Ci;
                    let o = base + (n * oh + i) * ow + j;
                    for (let ci = 0; ci < Ci; ci++, o += R) col[o] = src[k + ci]!;
                  }
                }
              }
            }
          }
          const dy2 = run('Reshape', { x: dy }, { shape: [R, Co] });
          temps.push(dy2);
          const dw = run('BatchMatMul', { a: colT, b: dy2 }, { transposeA: false, transposeB: false });
          temps.push(dw);
          return run('Reshape', { x: dw }, { shape: [kh, kw, Ci, Co] });
        } finally {
          release(backend, temps);
        }
      }
      try {
        let xp = x;
        if (top !== 0 || bottom !== 0 || left !== 0 || right !== 0) {
          xp = run('PadV2', { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 });
          temps.push(xp);
        }
        const xt = run('Transpose', { x: xp }, { perm: [3, 1, 2, 0] });
        temps.push(xt);
        const dyt = run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
        temps.push(dyt);
        let w = run('Conv2D', { x: xt, filter: dyt }, {
          strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth],
        });
        temps.push(w);
        if (w.shape[1] !== info.filterHeight || w.shape[2] !== info.filterWidth) {
          w = run('Slice', { x: w }, { begin: [0, 0, 0, 0], size: [w.shape[0], info.filterHeight, info.filterWidth, w.shape[3]] });
          temps.push(w);
        }
        return run('Transpose', { x: w }, { perm: [1, 2, 0, 3] });
      } finally {
        release(backend, temps);
      }
    },
  };
}
