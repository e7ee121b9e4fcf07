import { tf } from '../tf-core.js';
import { SOFTMAX_BACKPROP } from '../kernels/SoftmaxBackprop.js';

/**
 * K = SoftmaxBackprop(z, dy) = p ⊙ (dy − s), s = Σ_c dy·p per row; upstream U, with d = dy − s,
 * up = Σ_c U·p and w = Σ_c U·p·d per row:
 *   ∂/∂dy = p ⊙ (U − up) = SoftmaxBackprop(z, U)  (the same kernel),
 *   ∂/∂z  = p ⊙ ((U − up) ⊙ d − w)               (primitives; third-order derivatives only).
 */
export const softmaxBackpropGrad: tf.GradConfig = {
  kernelName: SOFTMAX_BACKPROP,
  inputsToSave: ['logits', 'dy'],
  gradFunc: (u, saved) => {
    const [z, dy] = saved as [tf.Tensor, tf.Tensor];
    const U = u as tf.Tensor;
    return {
      dy: () => tf.engine().runKernel(SOFTMAX_BACKPROP, { logits: z, dy: U } as unknown as tf.NamedTensorMap) as tf.Tensor,
      logits: () => {
        const p = tf.softmax(z, -1);
        const d = tf.sub(dy, tf.sum(tf.mul(dy, p), -1, true));
        const Uc = tf.sub(U, tf.sum(tf.mul(U, p), -1, true));
        const w = tf.sum(tf.mul(U, tf.mul(p, d)), -1, true);
        return tf.mul(p, tf.sub(tf.mul(Uc, d), w));
      },
    };
  },
};
