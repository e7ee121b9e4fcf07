import { tf } from '../tf-core.js';
import { sharedReshape } from '../shared-clone.js';

/**
 * Sum: dx = dy (reshaped to keep the reduced axes) broadcast to x's shape by a multiplication with
 * ones — tfjs's own gradient, with large ones made by the Fill kernel instead of `ones()`, which builds
 * them in a JavaScript array and copies them to the backend (76 800 values per DLG evaluation for the
 * dense layer's weight gradient), and dy reshaped without a Reshape dispatch. Same values, same
 * gradients of every order.
 */
export const sumGrad: tf.GradConfig = {
  kernelName: 'Sum',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const shape = x.shape.slice();
    for (const ax of tf.util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x.shape)) shape[ax] = 1;
    // small: ones() costs less than a kernel dispatch; large: Fill avoids building and copying the array
    const ones = x.size >= 1024 ? tf.fill(x.shape, 1, 'float32') : tf.ones(x.shape, 'float32');
    const derX = tf.mul(sharedReshape(dy as tf.Tensor, shape), ones);
    return { x: () => derX };
  },
};
