import { tf } from '../tf-core.js';
import { maxPoolGrad as maxPoolGradOp } from '../kernel-ops.js';

/**
 * MaxPool: dx = MaxPoolGrad(dy, x, y). The output y is recomputed from the saved input rather than
 * saved (see Sigmoid_grad), so that a gradient of this gradient sees a clean tape.
 */
export const maxPoolGrad: tf.GradConfig = {
  kernelName: 'MaxPool',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor4D];
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as PoolAttrs;
    return {
      x: () => {
        const y = tf.maxPool(x, filterSize, strides, pad, dimRoundingMode);
        return maxPoolGradOp(dy as tf.Tensor4D, x, y, filterSize, strides, pad, dimRoundingMode);
      },
    };
  },
};

export interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}
