import { tf } from '../tf-core.js';
import { sharedReshape } from '../shared-clone.js';

/** dy summed over the axes `shape` was broadcast along, as a tensor of `shape` (never dy itself). */
export function reduceTo(dy: tf.Tensor, shape: number[], outShape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, outShape);
  return sharedReshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

/**
 * Add: da = dy, db = dy, each summed over its broadcast axes — tfjs's own gradient, with the final
 * reshape sharing storage instead of a Reshape dispatch (./shared-clone.ts). Same values, same
 * gradients of every order.
 */
export const addGrad: tf.GradConfig = {
  kernelName: 'Add',
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const g = dy as tf.Tensor;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return { a: () => reduceTo(g, a.shape, outShape), b: () => reduceTo(g, b.shape, outShape) };
  },
};
