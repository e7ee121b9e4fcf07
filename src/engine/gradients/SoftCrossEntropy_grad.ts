import { tf } from '../tf-core.js';
import { SOFT_CROSS_ENTROPY, SOFT_CROSS_ENTROPY_GRAD } from '../kernels/SoftCrossEntropy.js';

const run = (name: string, inputs: Record<string, tf.Tensor>): tf.Tensor =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap) as tf.Tensor;

/** Whether the fused soft cross-entropy kernels exist on the current backend (cpu, wasm). */
export function hasFusedSoftCrossEntropy(): boolean {
  return tf.getKernel(SOFT_CROSS_ENTROPY, tf.getBackend()) !== undefined;
}

/** ∂/∂z of (1/B) Σ t·(lse(z) − z), times dy: the fused kernel where it exists, else primitives. */
export function softCrossEntropyBackprop(logits: tf.Tensor, targets: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  if (tf.getKernel(SOFT_CROSS_ENTROPY_GRAD, tf.getBackend()) !== undefined) return run(SOFT_CROSS_ENTROPY_GRAD, { logits, targets, dy });
  const B = logits.shape[0]!;
  const p = tf.softmax(logits, -1);
  return tf.mul(tf.sub(tf.mul(p, tf.sum(targets, -1, true)), targets), tf.div(dy, B));
}

/**
 * SoftCrossEntropy(z, t) = (1/B) Σ_b Σ_c t·(lse(z_b) − z_bc):
 *   ∂/∂z = (dy/B)·(softmax(z)·Σ_c t − t)  (the fused SoftCrossEntropyGrad kernel),
 *   ∂/∂t = (dy/B)·(lse(z) − z) = −(dy/B)·log softmax(z)  (primitives).
 */
export const softCrossEntropyGrad: tf.GradConfig = {
  kernelName: SOFT_CROSS_ENTROPY,
  inputsToSave: ['logits', 'targets'],
  gradFunc: (dy, saved) => {
    const [z, t] = saved as [tf.Tensor, tf.Tensor];
    const g = dy as tf.Tensor;
    return {
      logits: () => softCrossEntropyBackprop(z, t, g),
      targets: () => {
        const shifted = tf.sub(z, tf.max(z, -1, true));
        const negLogSoftmax = tf.sub(tf.log(tf.sum(tf.exp(shifted), -1, true)), shifted);
        return tf.mul(negLogSoftmax, tf.div(g, z.shape[0]!));
      },
    };
  },
};
