/**
 * Fused element-wise kernels for the sigmoid's gradient (cpu and wasm, in JavaScript over the values),
 * from the sigmoid's *input* x (s = σ(x) is recomputed inside, as the saved-output fix requires):
 *   SigmoidBackprop(x, dy)      = dy · s(1 − s)              (dx of y = σ(x))
 *   SigmoidBackprop2(x, dy, g)  = g · dy · s(1 − s)(1 − 2s)  (its derivative w.r.t. x, times g)
 * One dispatch each. Taking s = σ(x) as an input instead (the previous form) cost a Sigmoid dispatch
 * before every SigmoidBackprop and a Sigmoid + SigmoidBackprop pair for the path through s in the
 * second-order gradient: 9 → 5 dispatches per sigmoid layer in a DLG evaluation (LeNet: 110 → 98).
 * s comes from the backend's own Sigmoid kernel, called directly (wasm's is SIMD; Math.exp in JavaScript
 * made these kernels ~3x slower); the rest is computed in float64 and rounded once.
 * Gradients: ../gradients/SigmoidBackprop_grad.ts.
 */
import { tf } from '../tf-core.js';
import { callKernel, floatOutput, floatView, release, type TensorInfo } from './util.js';

/** σ(x) by the backend's own Sigmoid kernel (not taped); release it after use. */
const sigmoidOf = (backendName: string, backend: unknown, x: TensorInfo): TensorInfo => callKernel(backendName, 'Sigmoid', backend, { x }, {});

export const SIGMOID_BACKPROP = 'FedattackSigmoidBackprop';
export const SIGMOID_BACKPROP2 = 'FedattackSigmoidBackprop2';

export function sigmoidBackpropKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: SIGMOID_BACKPROP,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
      const sig = sigmoidOf(backendName, backend, x);
      const out = floatOutput(backend, x.shape);
      const sv = floatView(backend, sig);
      const dv = floatView(backend, dy);
      const o = floatView(backend, out);
      for (let i = 0; i < o.length; i++) { const s = sv[i]!; o[i] = dv[i]! * s * (1 - s); }
      release(backend, [sig]);
      return out;
    },
  };
}

export function sigmoidBackprop2Kernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: SIGMOID_BACKPROP2,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { x, dy, g } = inputs as unknown as { x: TensorInfo; dy: TensorInfo; g: TensorInfo };
      const sig = sigmoidOf(backendName, backend, x);
      const out = floatOutput(backend, x.shape);
      const sv = floatView(backend, sig);
      const dv = floatView(backend, dy);
      const gv = floatView(backend, g);
      const o = floatView(backend, out);
      for (let i = 0; i < o.length; i++) { const s = sv[i]!; o[i] = gv[i]! * dv[i]! * s * (1 - s) * (1 - 2 * s); }
      release(backend, [sig]);
      return out;
    },
  };
}
