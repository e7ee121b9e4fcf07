import { tf } from '../tf-core.js';

/** Tanh: dx = dy · (1 − tanh(x)²), recomputed from the saved input (see Sigmoid_grad for why). */
export const tanhGrad: tf.GradConfig = {
  kernelName: 'Tanh',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => tf.mul(dy as tf.Tensor, tf.sub(1, tf.square(tf.tanh(x)))) };
  },
};
