import { tf } from '../tf-core.js';

/**
 * Softmax along `dim`: with y = softmax(x) recomputed from the saved input,
 * dx = y ⊙ (dy − Σ_dim dy ⊙ y). (Stock tfjs saves y; see Sigmoid_grad for why that breaks DLG.)
 */
export const softmaxGrad: tf.GradConfig = {
  kernelName: 'Softmax',
  inputsToSave: ['logits'],
  gradFunc: (dy, saved, attrs) => {
    const [logits] = saved as [tf.Tensor];
    const dim = (attrs as unknown as { dim: number }).dim;
    return {
      logits: () => {
        const y = tf.softmax(logits, dim);
        const dyy = tf.mul(dy as tf.Tensor, y);
        return tf.sub(dyy, tf.mul(tf.sum(dyy, dim, true), y));
      },
    };
  },
};
