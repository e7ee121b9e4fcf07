import { tf } from '../tf-core.js';
import { sigmoidBackprop } from './SigmoidBackprop_grad.js';

/**
 * Sigmoid: dx = dy · σ(x)(1 − σ(x)), with σ(x) recomputed from the saved *input*.
 * Stock tfjs saves the output y, whose engine clone is taped before the kernel, so a gradient of
 * this gradient silently loses every path through y (tfjs #3252). Saving x keeps it second-order correct.
 * dy·s(1 − s), with s recomputed, is one fused kernel on cpu and wasm (./SigmoidBackprop_grad.ts).
 */
export const sigmoidGrad: tf.GradConfig = {
  kernelName: 'Sigmoid',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return {
      x: () => sigmoidBackprop(x, dy as tf.Tensor),
    };
  },
};
