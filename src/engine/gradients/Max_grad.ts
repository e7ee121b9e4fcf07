import { tf } from '../tf-core.js';

/**
 * Max over `reductionIndices`: dx = dy at the positions equal to the maximum, 0 elsewhere (all tied
 * positions, as stock tfjs). The maximum is recomputed from the saved input instead of saving the output,
 * and the mask is built from Step, which has a (zero) gradient, so that this gradient can be differentiated.
 */
export const maxGrad: tf.GradConfig = {
  kernelName: 'Max',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor];
    const axes = tf.util.parseAxisParam((attrs as unknown as { reductionIndices: number | number[] }).reductionIndices, x.shape);
    return {
      x: () => {
        const g = dy as tf.Tensor;
        const dyKept = g.rank < x.rank ? tf.reshape(g, tf.backend_util.expandShapeToKeepDim(g.shape, axes)) : g;
        // 1 where x equals the maximum, else 0; built with Step (gradient zero) rather than Equal (no gradient)
        const mask = tf.sub(1, tf.step(tf.sub(tf.max(x, axes, true), x)));
        return tf.mul(mask, dyKept);
      },
    };
  },
};
