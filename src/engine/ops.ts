/**
 * Loss-side ops built only from primitives whose second derivatives are right (after the fixes in
 * ./gradients). tfjs's own logSoftmax and softmaxCrossEntropy are customGrad ops, whose gradients cannot
 * be differentiated again; these can.
 */
import { tf } from './tf.js';

/** log softmax along the last axis: z − max(z) − log Σ exp(z − max(z)). */
export function logSoftmax(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shifted = tf.sub(logits, tf.max(logits, -1, true));
    return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
  });
}

/** softmax along the last axis (the Softmax kernel, whose gradient is fixed). */
export function softmax(logits: tf.Tensor): tf.Tensor {
  return tf.softmax(logits, -1);
}

/**
 * Cross-entropy with soft (or one-hot) targets, averaged over the batch:
 *   L = (1/B) Σ_b −Σ_c t[b, c] · log softmax(z[b])_c
 * This is PyTorch's CrossEntropyLoss (reduction 'mean') for one-hot targets, and DLG's loss for the
 * softmax of the dummy label.
 */
export function softCrossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(targets, logSoftmax(logits)), -1))) as tf.Scalar);
}

/** One-hot float targets for integer labels. */
export function oneHot(labels: number[] | Int32Array, classes: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Array.from(labels), 'int32'), classes), 'float32') as tf.Tensor2D);
}
