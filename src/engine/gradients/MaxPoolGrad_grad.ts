import { tf } from '../tf-core.js';
import type { PoolAttrs } from './MaxPool_grad.js';

/**
 * MaxPoolGrad (dx = Aᵀ dy, where A picks each window's first maximal element of x): linear in dy,
 * piecewise constant in x and y. With upstream G shaped like x:
 *   d/ddy = A G = G gathered at each window's argmax   (via MaxPoolWithArgmax, batch included in the index)
 *   d/dx = d/dy = 0.
 * Missing from stock tfjs.
 */
export const maxPoolGradGrad: tf.GradConfig = {
  kernelName: 'MaxPoolGrad',
  inputsToSave: ['input', 'output'],
  gradFunc: (g, saved, attrs) => {
    const [input, output] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { filterSize, strides, pad } = attrs as unknown as PoolAttrs;
    return {
      dy: () => {
        const { indexes } = tf.maxPoolWithArgmax(input, filterSize, strides, pad as 'same', true);
        return tf.reshape(tf.gather(tf.reshape(g as tf.Tensor, [-1]), tf.reshape(indexes, [-1])), output.shape);
      },
      input: () => tf.zerosLike(input),
      output: () => tf.zerosLike(output),
    };
  },
};
