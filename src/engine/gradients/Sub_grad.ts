import { tf } from '../tf-core.js';
import { reduceTo } from './Add_grad.js';

/**
 * Sub: da = dy, db = −dy, each summed over its broadcast axes — tfjs's own gradient, with the final
 * reshape sharing storage instead of a Reshape dispatch. Same values, same gradients of every order.
 */
export const subGrad: tf.GradConfig = {
  kernelName: 'Sub',
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const g = dy as tf.Tensor;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return { a: () => reduceTo(g, a.shape, outShape), b: () => tf.neg(reduceTo(g, b.shape, outShape)) };
  },
};
