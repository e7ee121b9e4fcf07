/**
 * The gradient of SoftCrossEntropyGrad (./SoftCrossEntropy.ts) as two fused kernels (cpu and wasm,
 * JavaScript, float64 within a row). With p = softmax(z) per row, S = Σ_c t, gp = Σ_c g·p per row and
 * c = dy/B, for the upstream gradient g of dz = c·(p·S − t):
 *   SoftCrossEntropyGradGradZ(z, t, dy, g) = c·S·p ⊙ (g − gp)   (∂/∂z),
 *   SoftCrossEntropyGradGradT(z, dy, g)    = c·(gp − g)         (∂/∂t).
 * Every DLG evaluation runs them once (the gradient of the loss gradient): 2 dispatches instead of 12
 * primitive ones on [B, 100] tensors. Their gradients: ../gradients/SoftCrossEntropyGradGrad_grad.ts.
 */
import { tf } from '../tf-core.js';
import { floatOutput, floatView, type TensorInfo } from './util.js';

export const SOFT_CROSS_ENTROPY_GRAD_GRAD_Z = 'FedattackSoftCrossEntropyGradGradZ';
export const SOFT_CROSS_ENTROPY_GRAD_GRAD_T = 'FedattackSoftCrossEntropyGradGradT';

/** Softmax of one row into p (float64), returns Σ_c g·p. */
function softmaxRow(z: Float32Array, g: Float32Array, o: number, C: number, p: Float64Array): number {
  let m = -Infinity;
  for (let c = 0; c < C; c++) if (z[o + c]! > m) m = z[o + c]!;
  let s = 0;
  for (let c = 0; c < C; c++) { const e = Math.exp(z[o + c]! - m); p[c] = e; s += e; }
  let gp = 0;
  for (let c = 0; c < C; c++) { p[c]! /= s; gp += g[o + c]! * p[c]!; }
  return gp;
}

/**
 * A [B, C] kernel of (logits, dy, g, …) that fills each output row from p = softmax(z_b), gp and
 * k = dy/B: the shared frame of the two kernels below.
 */
function rowKernel(
  kernelName: string, backendName: string,
  row: (inputs: Record<string, TensorInfo>, backend: unknown) => (o: Float32Array, r: number, C: number, p: Float64Array, gp: number, k: number) => void,
): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { logits, dy, g } = inputs as unknown as Record<'logits' | 'dy' | 'g', TensorInfo>;
      const [B, C] = logits.shape as [number, number];
      const out = floatOutput(backend, [B, C]);
      const z = floatView(backend, logits);
      const gv = floatView(backend, g);
      const o = floatView(backend, out);
      const k = floatView(backend, dy)[0]! / B;
      const p = new Float64Array(C);
      const fill = row(inputs as unknown as Record<string, TensorInfo>, backend);
      for (let b = 0; b < B; b++) fill(o, b * C, C, p, softmaxRow(z, gv, b * C, C, p), k);
      return out;
    },
  };
}

/** ∂/∂z: c·S·p ⊙ (g − gp). */
export function softCrossEntropyGradGradZKernel(backendName: string): tf.KernelConfig {
  return rowKernel(SOFT_CROSS_ENTROPY_GRAD_GRAD_Z, backendName, (inputs, backend) => {
    const t = floatView(backend, inputs['targets']!);
    const gv = floatView(backend, inputs['g']!);
    return (o, r, C, p, gp, k) => {
      let S = 0;
      for (let c = 0; c < C; c++) S += t[r + c]!;
      for (let c = 0; c < C; c++) o[r + c] = k * S * p[c]! * (gv[r + c]! - gp);
    };
  });
}

/** ∂/∂t: c·(gp − g). */
export function softCrossEntropyGradGradTKernel(backendName: string): tf.KernelConfig {
  return rowKernel(SOFT_CROSS_ENTROPY_GRAD_GRAD_T, backendName, (inputs, backend) => {
    const gv = floatView(backend, inputs['g']!);
    return (o, r, C, _p, gp, k) => {
      for (let c = 0; c < C; c++) o[r + c] = k * (gp - gv[r + c]!);
    };
  });
}
