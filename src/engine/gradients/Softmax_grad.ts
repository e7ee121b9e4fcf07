import { tf } from '../tf-core.js';
import { SOFTMAX_BACKPROP } from '../kernels/SoftmaxBackprop.js';

/**
 * Softmax along `dim`: with y = softmax(x) recomputed from the saved input,
 * dx = y ⊙ (dy − Σ_dim dy ⊙ y). (Stock tfjs saves y; see Sigmoid_grad for why that breaks DLG.)
 * Along the last axis on cpu and wasm one fused kernel (../kernels/SoftmaxBackprop.ts).
 */
export const softmaxGrad: tf.GradConfig = {
  kernelName: 'Softmax',
  inputsToSave: ['logits'],
  gradFunc: (dy, saved, attrs) => {
    const [logits] = saved as [tf.Tensor];
    const dim = (attrs as unknown as { dim: number }).dim;
    return {
      logits: () => {
        const g = dy as tf.Tensor;
        if ((dim === -1 || dim === logits.rank - 1) && logits.dtype === 'float32' && g.dtype === 'float32' &&
            tf.util.arraysEqual(logits.shape, g.shape) && tf.getKernel(SOFTMAX_BACKPROP, tf.getBackend()) !== undefined) {
          return tf.engine().runKernel(SOFTMAX_BACKPROP, { logits, dy: g } as unknown as tf.NamedTensorMap) as tf.Tensor;
        }
        const y = tf.softmax(logits, dim);
        const dyy = tf.mul(dy as tf.Tensor, y);
        return tf.sub(dyy, tf.mul(tf.sum(dyy, dim, true), y));
      },
    };
  },
};
