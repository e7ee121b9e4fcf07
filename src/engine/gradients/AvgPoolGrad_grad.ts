import { tf } from '../tf-core.js';
import type { PoolAttrs } from './MaxPool_grad.js';

/**
 * AvgPoolGrad (dx = Bᵀ dy with B the averaging operator, each window divided by its count of
 * in-bounds pixels): linear in dy, independent of the input's values. With upstream G shaped like x:
 *   d/ddy = B G = avgPool(G)   and   d/dinput = 0.
 * Missing from stock tfjs. Relies on the corrected AvgPoolGrad kernel (src/engine/kernels), since the
 * stock one divides by the full window size even where 'same' padding cuts the window.
 */
export const avgPoolGradGrad: tf.GradConfig = {
  kernelName: 'AvgPoolGrad',
  inputsToSave: ['input'],
  gradFunc: (g, saved, attrs) => {
    const [input] = saved as [tf.Tensor4D];
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as PoolAttrs;
    return {
      dy: () => tf.avgPool(g as tf.Tensor4D, filterSize, strides, pad, dimRoundingMode),
      input: () => tf.zerosLike(input),
    };
  },
};
