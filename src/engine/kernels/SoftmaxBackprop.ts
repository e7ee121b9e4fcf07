/**
 * The softmax's gradient along the last axis as one fused kernel (cpu and wasm, JavaScript, float64
 * within a row), from the softmax's *input* (the saved-output fix, ../gradients/Softmax_grad.ts):
 *   SoftmaxBackprop(logits, dy) = p ⊙ (dy − Σ_c dy·p),  p = softmax(logits) per row.
 * One dispatch instead of five (Softmax, Multiply, Sum, Multiply, Sub); a DLG evaluation runs it once,
 * for the dummy label's softmax. Gradient: ../gradients/SoftmaxBackprop_grad.ts.
 */
import { tf } from '../tf-core.js';
import { floatOutput, floatView, type TensorInfo } from './util.js';

export const SOFTMAX_BACKPROP = 'FedattackSoftmaxBackprop';

export function softmaxBackpropKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: SOFTMAX_BACKPROP,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { logits, dy } = inputs as unknown as { logits: TensorInfo; dy: TensorInfo };
      const C = logits.shape[logits.shape.length - 1]!;
      const out = floatOutput(backend, logits.shape);
      const z = floatView(backend, logits);
      const g = floatView(backend, dy);
      const o = floatView(backend, out);
      const p = new Float64Array(C);
      for (let r = 0; r < o.length; r += C) {
        let m = -Infinity;
        for (let c = 0; c < C; c++) if (z[r + c]! > m) m = z[r + c]!;
        let sum = 0;
        for (let c = 0; c < C; c++) { const e = Math.exp(z[r + c]! - m); p[c] = e; sum += e; }
        let s = 0;
        for (let c = 0; c < C; c++) { p[c]! /= sum; s += g[r + c]! * p[c]!; }
        for (let c = 0; c < C; c++) o[r + c] = p[c]! * (g[r + c]! - s);
      }
      return out;
    },
  };
}
