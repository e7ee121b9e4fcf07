import { tf } from '../tf-core.js';

/** Exp: dx = dy · exp(x), recomputed from the saved input (see Sigmoid_grad for why). */
export const expGrad: tf.GradConfig = {
  kernelName: 'Exp',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => tf.mul(dy as tf.Tensor, tf.exp(x)) };
  },
};
