import { tf } from '../tf-core.js';
import { sharedReshape } from '../shared-clone.js';

/** Reshape: dx = dy reshaped back, sharing storage instead of a Reshape dispatch. */
export const reshapeGrad: tf.GradConfig = {
  kernelName: 'Reshape',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    return { x: () => sharedReshape(dy as tf.Tensor, x.shape) };
  },
};
