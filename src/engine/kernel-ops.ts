/**
 * Differentiable wrappers for the tfjs kernels that have no public op: they run the kernel through the
 * engine, so the call is recorded on the gradient tape like any op.
 */
import { tf } from './tf-core.js';

export type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
export type Rounding = 'floor' | 'round' | 'ceil' | undefined;
type Pair = [number, number] | number;

/** dW of a 2-D NHWC convolution: the kernel Conv2DBackpropFilter(x, dy). */
export function conv2DBackpropFilter(
  x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number],
  strides: Pair, pad: Pad, dimRoundingMode?: Rounding,
): tf.Tensor4D {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy } as unknown as tf.NamedTensorMap,
    { strides, pad, dataFormat: 'NHWC', dimRoundingMode, filterShape } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** dx of a 2-D NHWC convolution: the kernel Conv2DBackpropInput(dy, filter). */
export function conv2DBackpropInput(
  inputShape: [number, number, number, number], dy: tf.Tensor4D, filter: tf.Tensor4D,
  strides: Pair, pad: Pad, dimRoundingMode?: Rounding,
): tf.Tensor4D {
  return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter } as unknown as tf.NamedTensorMap,
    { strides, pad, dataFormat: 'NHWC', dimRoundingMode, inputShape } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** dx of max pooling: the kernel MaxPoolGrad(dy, input, output). */
export function maxPoolGrad(
  dy: tf.Tensor4D, input: tf.Tensor4D, output: tf.Tensor4D,
  filterSize: Pair, strides: Pair, pad: Pad, dimRoundingMode?: Rounding,
): tf.Tensor4D {
  return tf.engine().runKernel('MaxPoolGrad', { dy, input, output } as unknown as tf.NamedTensorMap,
    { filterSize, strides, pad, dimRoundingMode } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** dx of average pooling: the kernel AvgPoolGrad(dy, input). */
export function avgPoolGrad(
  dy: tf.Tensor4D, input: tf.Tensor4D, filterSize: Pair, strides: Pair, pad: Pad, dimRoundingMode?: Rounding,
): tf.Tensor4D {
  return tf.engine().runKernel('AvgPoolGrad', { dy, input } as unknown as tf.NamedTensorMap,
    { filterSize, strides, pad, dimRoundingMode } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
