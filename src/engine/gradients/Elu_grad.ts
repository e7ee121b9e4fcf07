import { tf } from '../tf-core.js';

/**
 * Elu: dx = dy for x > 0, dy · exp(x) otherwise. Stock tfjs saves the output and calls the EluGrad
 * kernel, which has no gradient of its own; this version is built from differentiable ops on the input.
 */
export const eluGrad: tf.GradConfig = {
  kernelName: 'Elu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return {
      x: () => {
        const pos = tf.step(x); // 1 for x > 0 (Step has a zero gradient; Greater has none)
        return tf.mul(dy as tf.Tensor, tf.add(pos, tf.mul(tf.sub(1, pos), tf.exp(tf.minimum(x, 0)))));
      },
    };
  },
};
