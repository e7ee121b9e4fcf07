/**
 * Loss-side ops built only from primitives whose second derivatives are right (after the fixes in
 * ./gradients). tfjs's own logSoftmax and softmaxCrossEntropy are customGrad ops, whose gradients cannot
 * be differentiated again; these can.
 */
import { tf } from './tf.js';
import { SOFT_CROSS_ENTROPY } from './kernels/SoftCrossEntropy.js';
import { SQUARED_DISTANCE } from './kernels/SquaredDistance.js';

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
 * softmax of the dummy label. On cpu and wasm one fused kernel (./kernels/SoftCrossEntropy.ts) for
 * [B, C] float32 logits and targets of the same shape.
 */
export function softCrossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Scalar {
  if (logits.rank === 2 && logits.dtype === 'float32' && targets.dtype === 'float32' && tf.util.arraysEqual(logits.shape, targets.shape) &&
      tf.getKernel(SOFT_CROSS_ENTROPY, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(SOFT_CROSS_ENTROPY, { logits, targets } as unknown as tf.NamedTensorMap) as tf.Scalar;
  }
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(targets, logSoftmax(logits)), -1))) as tf.Scalar);
}

/** One-hot float targets for integer labels. */
export function oneHot(labels: number[] | Int32Array, classes: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Array.from(labels), 'int32'), classes), 'float32') as tf.Tensor2D);
}

/**
 * Σ_i ‖a_i − b_i‖² for lists of same-shaped float32 tensors: one fused kernel on cpu and wasm
 * (./kernels/SquaredDistance.ts, float64 accumulation), else null.
 */
export function fusedSquaredDistance(a: tf.Tensor[], b: tf.Tensor[]): tf.Scalar | null {
  if (a.length === 0 || a.length !== b.length || tf.getKernel(SQUARED_DISTANCE, tf.getBackend()) === undefined) return null;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.dtype !== 'float32' || b[i]!.dtype !== 'float32' || !tf.util.arraysEqual(a[i]!.shape, b[i]!.shape)) return null;
  }
  // an array of inputs (a0..a{n−1}, b0..b{n−1}): the engine saves all of them for the gradient only then
  const inputs = [...a, ...b];
  return tf.engine().runKernel(SQUARED_DISTANCE, inputs as unknown as tf.NamedTensorMap, { n: a.length } as unknown as tf.NamedAttrMap) as tf.Scalar;
}

/**
 * conv2d(x, filter) + bias, NHWC. On cpu and wasm one FusedConv2D dispatch (XNNPACK adds the bias on
 * wasm; gradient in ./gradients/FusedConv2D_grad.ts), elsewhere Conv2D and Add.
 */
export function convBias(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor, stride: number, pad: 'same' | 'valid' | number): tf.Tensor4D {
  const backend = tf.getBackend();
  if ((backend === 'cpu' || backend === 'wasm') && bias.rank === 1 && x.dtype === 'float32' && filter.dtype === 'float32' && bias.dtype === 'float32') {
    return tf.engine().runKernel('FusedConv2D', { x, filter, bias } as unknown as tf.NamedTensorMap, {
      strides: [stride, stride], pad, dataFormat: 'NHWC', dilations: [1, 1], activation: 'linear',
    } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  return tf.add(tf.conv2d(x, filter, stride, pad as 'same'), bias) as tf.Tensor4D;
}
