import { tf } from '../tf-core.js';

/**
 * Pow y = a^b: da = dy · b · a^(b−1); db = dy · a^b · log(a) where a > 0 (0 elsewhere), each summed
 * over broadcast axes. Stock tfjs saves y for db; here a^b is recomputed from the saved inputs.
 */
export const powGrad: tf.GradConfig = {
  kernelName: 'Pow',
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const reduceTo = (t: tf.Tensor, shape: number[]): tf.Tensor => {
      const axes = tf.backend_util.getReductionAxes(shape, outShape);
      return tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, shape);
    };
    return {
      a: () => {
        const bf = tf.cast(b, 'float32');
        return reduceTo(tf.mul(dy as tf.Tensor, tf.mul(bf, tf.pow(a, tf.sub(bf, 1)))), a.shape);
      },
      b: () => {
        const logA = tf.where(tf.greater(a, 0), tf.log(a), tf.zerosLike(a));
        return reduceTo(tf.mul(dy as tf.Tensor, tf.mul(tf.pow(a, b), logA)), b.shape);
      },
    };
  },
};
