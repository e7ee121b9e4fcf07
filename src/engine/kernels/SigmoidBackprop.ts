/**
 * Fused element-wise kernels for the sigmoid's gradient (cpu and wasm, in JavaScript over the values):
 *   SigmoidBackprop(s, dy)      = dy · s · (1 − s)      (dx of y = σ(x), with s = σ(x))
 *   SigmoidBackprop2(s, dy, g)  = g · dy · (1 − 2s)     (its derivative w.r.t. s, times g)
 * One dispatch each instead of three; a DLG evaluation differentiates every sigmoid twice. Each value is
 * computed in float64 and rounded once. Their gradients are in ../gradients/SigmoidBackprop_grad.ts.
 */
import { tf } from '../tf-core.js';
import { floatOutput, floatView, type TensorInfo } from './util.js';

export const SIGMOID_BACKPROP = 'FedattackSigmoidBackprop';
export const SIGMOID_BACKPROP2 = 'FedattackSigmoidBackprop2';

export function sigmoidBackpropKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: SIGMOID_BACKPROP,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { s, dy } = inputs as unknown as { s: TensorInfo; dy: TensorInfo };
      const out = floatOutput(backend, s.shape);
      const sv = floatView(backend, s);
      const dv = floatView(backend, dy);
      const o = floatView(backend, out);
      for (let i = 0; i < o.length; i++) { const v = sv[i]!; o[i] = dv[i]! * v * (1 - v); }
      return out;
    },
  };
}

export function sigmoidBackprop2Kernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: SIGMOID_BACKPROP2,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { s, dy, g } = inputs as unknown as { s: TensorInfo; dy: TensorInfo; g: TensorInfo };
      const out = floatOutput(backend, s.shape);
      const sv = floatView(backend, s);
      const dv = floatView(backend, dy);
      const gv = floatView(backend, g);
      const o = floatView(backend, out);
      for (let i = 0; i < o.length; i++) o[i] = gv[i]! * dv[i]! * (1 - 2 * sv[i]!);
      return out;
    },
  };
}
