import { tf } from '../tf-core.js';
import { conv2DBackpropInput, type Rounding, type Pad } from '../kernel-ops.js';

/**
 * Conv2DBackpropFilter (dW = Σ_{n,i,j} x[n, i·s+a, j·s+b, :] ⊗ dy[n, i, j, :], bilinear in x and dy),
 * missing from stock tfjs, which makes every conv model impossible to double-differentiate.
 * With upstream G shaped like the filter:
 *   d/dx  = Conv2DBackpropInput(dy, G)   (= conv2dTranspose(dy, G))
 *   d/ddy = conv2d(x, G)
 * Verified against central finite differences (test/gradcheck.test.ts).
 */
export const conv2DBackpropFilterGrad: tf.GradConfig = {
  kernelName: 'Conv2DBackpropFilter',
  inputsToSave: ['x', 'dy'],
  gradFunc: (g, saved, attrs) => {
    const [x, dy] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as { strides: [number, number] | number; pad: Pad; dimRoundingMode?: Rounding };
    return {
      x: () => conv2DBackpropInput(x.shape, dy, g as tf.Tensor4D, a.strides, a.pad, a.dimRoundingMode),
      dy: () => tf.conv2d(x, g as tf.Tensor4D, a.strides, a.pad as 'same', 'NHWC', 1, a.dimRoundingMode),
    };
  },
};
