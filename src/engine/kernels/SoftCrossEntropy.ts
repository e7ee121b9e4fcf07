/**
 * Soft-target cross-entropy as fused kernels (cpu and wasm, JavaScript over the values, float64 within a
 * row, each result rounded once):
 *   SoftCrossEntropy(z, t)          = (1/B) Σ_b Σ_c t[b,c] · (lse(z[b]) − z[b,c])      (a scalar)
 *   SoftCrossEntropyGrad(z, t, dy)  = (dy/B) · (softmax(z[b])_c · Σ_c' t[b,c'] − t[b,c])  (∂/∂z, [B, C])
 * with lse the log-sum-exp. Built from primitives (ops.ts: max, sub, exp, sum, log, mul, sum, mean, neg)
 * the loss is 10 dispatches, its gradient ~21 and the gradient's gradient (every DLG evaluation) ~50,
 * mostly on [B, 100] tensors at ~5 µs each; fused, 1 + 1 + ~11 (see ../gradients/SoftCrossEntropy_grad.ts
 * and SoftCrossEntropyGrad_grad.ts).
 */
import { tf } from '../tf-core.js';
import { floatOutput, floatView, type TensorInfo } from './util.js';

export const SOFT_CROSS_ENTROPY = 'FedattackSoftCrossEntropy';
export const SOFT_CROSS_ENTROPY_GRAD = 'FedattackSoftCrossEntropyGrad';

/** log Σ_c exp(z[o + c]) over one row of C values, in float64. */
function logSumExp(z: Float32Array, o: number, C: number): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) if (z[o + c]! > m) m = z[o + c]!;
  if (m === -Infinity || m === Infinity) return m;
  let s = 0;
  for (let c = 0; c < C; c++) s += Math.exp(z[o + c]! - m);
  return m + Math.log(s);
}

export function softCrossEntropyKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: SOFT_CROSS_ENTROPY,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { logits, targets } = inputs as unknown as { logits: TensorInfo; targets: TensorInfo };
      const [B, C] = logits.shape as [number, number];
      const out = floatOutput(backend, []);
      const z = floatView(backend, logits);
      const t = floatView(backend, targets);
      let total = 0;
      for (let b = 0; b < B; b++) {
        const o = b * C;
        const lse = logSumExp(z, o, C);
        let row = 0;
        for (let c = 0; c < C; c++) { const tc = t[o + c]!; if (tc !== 0) row += tc * (lse - z[o + c]!); }
        total += row;
      }
      floatView(backend, out)[0] = total / B;
      return out;
    },
  };
}

export function softCrossEntropyGradKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: SOFT_CROSS_ENTROPY_GRAD,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { logits, targets, dy } = inputs as unknown as { logits: TensorInfo; targets: TensorInfo; dy: TensorInfo };
      const [B, C] = logits.shape as [number, number];
      const out = floatOutput(backend, [B, C]);
      const z = floatView(backend, logits);
      const t = floatView(backend, targets);
      const o = floatView(backend, out);
      const k = floatView(backend, dy)[0]! / B;
      for (let b = 0; b < B; b++) {
        const r = b * C;
        const lse = logSumExp(z, r, C);
        let S = 0;
        for (let c = 0; c < C; c++) S += t[r + c]!;
        for (let c = 0; c < C; c++) o[r + c] = k * (Math.exp(z[r + c]! - lse) * S - t[r + c]!);
      }
      return out;
    },
  };
}
