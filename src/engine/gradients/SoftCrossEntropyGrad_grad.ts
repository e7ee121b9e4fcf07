import { tf } from '../tf-core.js';
import { SOFT_CROSS_ENTROPY_GRAD } from '../kernels/SoftCrossEntropy.js';
import { SOFT_CROSS_ENTROPY_GRAD_GRAD_T, SOFT_CROSS_ENTROPY_GRAD_GRAD_Z } from '../kernels/SoftCrossEntropyGradGrad.js';

/**
 * SoftCrossEntropyGrad(z, t, dy) = (dy/B)·(p·S − t), p = softmax(z) per row, S = Σ_c t per row. With
 * upstream G [B, C] and gp = Σ_c G·p per row:
 *   ∂/∂z  = (dy/B)·S·p ⊙ (G − gp)     (softmax's Jacobian),
 *   ∂/∂t  = (dy/B)·(gp − G),
 *   ∂/∂dy = (1/B)·Σ G ⊙ (p·S − t).
 * This runs once per DLG evaluation (the gradient of the loss gradient). On cpu and wasm ∂/∂z and ∂/∂t
 * are one fused kernel each (../kernels/SoftCrossEntropyGradGrad.ts); elsewhere ~11 dispatches of
 * primitives (p, gp and dy/B, shared by the input gradients, are then computed when the gradient
 * function is called). ∂/∂dy (only when dy depends on the inputs) is primitives everywhere.
 */
export const softCrossEntropyGradGrad: tf.GradConfig = {
  kernelName: SOFT_CROSS_ENTROPY_GRAD,
  inputsToSave: ['logits', 'targets', 'dy'],
  gradFunc: (g, saved) => {
    const [z, t, dy] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const G = g as tf.Tensor;
    const B = z.shape[0]!;
    if (tf.getKernel(SOFT_CROSS_ENTROPY_GRAD_GRAD_Z, tf.getBackend()) !== undefined && G.dtype === 'float32') {
      const run = (name: string, inputs: Record<string, tf.Tensor>): tf.Tensor =>
        tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap) as tf.Tensor;
      return {
        logits: () => run(SOFT_CROSS_ENTROPY_GRAD_GRAD_Z, { logits: z, targets: t, dy, g: G }),
        targets: () => run(SOFT_CROSS_ENTROPY_GRAD_GRAD_T, { logits: z, dy, g: G }),
        dy: () => {
          const p = tf.softmax(z, -1);
          return tf.reshape(tf.div(tf.sum(tf.mul(G, tf.sub(tf.mul(p, tf.sum(t, -1, true)), t))), B), dy.shape);
        },
      };
    }
    const p = tf.softmax(z, -1);
    const gp = tf.sum(tf.mul(G, p), -1, true);
    const S = tf.sum(t, -1, true);
    return {
      logits: () => tf.mul(tf.mul(p, tf.sub(G, gp)), tf.mul(S, tf.div(dy, B))),
      targets: () => tf.mul(tf.sub(gp, G), tf.div(dy, B)),
      dy: () => tf.reshape(tf.div(tf.sum(tf.mul(G, tf.sub(tf.mul(p, S), t))), B), dy.shape),
    };
  },
};
