import { tf } from '../tf-core.js';
import { SCALED_DIFFERENCE } from '../kernels/SquaredDistance.js';

/**
 * ScaledDifference(a, b, dy) = k·dy·(a − b), dy a scalar; upstream G:
 *   ∂/∂a = k·dy·G,  ∂/∂b = −k·dy·G,  ∂/∂dy = k·Σ G ⊙ (a − b)  (primitives: any order).
 */
export const scaledDifferenceGrad: tf.GradConfig = {
  kernelName: SCALED_DIFFERENCE,
  inputsToSave: ['a', 'b', 'dy'],
  gradFunc: (g, saved, attrs) => {
    const [a, b, dy] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const G = g as tf.Tensor;
    const k = (attrs as unknown as { k: number }).k;
    return {
      a: () => tf.mul(G, tf.mul(dy, k)),
      b: () => tf.mul(G, tf.mul(dy, -k)),
      dy: () => tf.reshape(tf.mul(tf.sum(tf.mul(G, tf.sub(a, b))), k), dy.shape),
    };
  },
};
