import { tf } from '../tf-core.js';
import { SOFT_CROSS_ENTROPY_GRAD_GRAD_T, SOFT_CROSS_ENTROPY_GRAD_GRAD_Z } from '../kernels/SoftCrossEntropyGradGrad.js';

/** p = softmax(z), d = g − Σ_c g·p (per row), c = dy/B: shared by both gradients below. */
function common(z: tf.Tensor, g: tf.Tensor, dy: tf.Tensor): { p: tf.Tensor; d: tf.Tensor; c: tf.Tensor } {
  const p = tf.softmax(z, -1);
  return { p, d: tf.sub(g, tf.sum(tf.mul(g, p), -1, true)), c: tf.div(dy, z.shape[0]!) };
}

/**
 * Kz = c·S·p ⊙ d (S = Σ_c t per row); upstream U, with up = Σ_c U·p and w = Σ_c U·p·d per row:
 *   ∂/∂g = c·S·p ⊙ (U − up),   ∂/∂t = c·w (every entry of the row),
 *   ∂/∂z = c·S·p ⊙ ((U − up) ⊙ d − w),   ∂/∂dy = Σ U ⊙ S·p ⊙ d / B.
 * Primitives (any order); only third-order derivatives of the loss run them.
 */
export const softCrossEntropyGradGradZGrad: tf.GradConfig = {
  kernelName: SOFT_CROSS_ENTROPY_GRAD_GRAD_Z,
  inputsToSave: ['logits', 'targets', 'dy', 'g'],
  gradFunc: (u, saved) => {
    const [z, t, dy, g] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const U = u as tf.Tensor;
    const { p, d, c } = common(z, g, dy);
    const S = tf.sum(t, -1, true);
    const Uc = tf.sub(U, tf.sum(tf.mul(U, p), -1, true));
    const pd = tf.mul(p, d);
    const w = tf.sum(tf.mul(U, pd), -1, true);
    return {
      g: () => tf.mul(tf.mul(c, S), tf.mul(p, Uc)),
      targets: () => tf.broadcastTo(tf.mul(c, w), t.shape),
      logits: () => tf.mul(tf.mul(c, S), tf.mul(p, tf.sub(tf.mul(Uc, d), w))),
      dy: () => tf.reshape(tf.div(tf.sum(tf.mul(U, tf.mul(S, pd))), z.shape[0]!), dy.shape),
    };
  },
};

/**
 * Kt = −c·d; upstream U, with ΣU per row:  ∂/∂g = c·(p·ΣU − U),  ∂/∂z = c·ΣU·p ⊙ d,
 * ∂/∂dy = −Σ U ⊙ d / B. Primitives (any order).
 */
export const softCrossEntropyGradGradTGrad: tf.GradConfig = {
  kernelName: SOFT_CROSS_ENTROPY_GRAD_GRAD_T,
  inputsToSave: ['logits', 'dy', 'g'],
  gradFunc: (u, saved) => {
    const [z, dy, g] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const U = u as tf.Tensor;
    const { p, d, c } = common(z, g, dy);
    const sumU = tf.sum(U, -1, true);
    return {
      g: () => tf.mul(c, tf.sub(tf.mul(p, sumU), U)),
      logits: () => tf.mul(tf.mul(c, sumU), tf.mul(p, d)),
      dy: () => tf.reshape(tf.div(tf.neg(tf.sum(tf.mul(U, d))), z.shape[0]!), dy.shape),
    };
  },
};
