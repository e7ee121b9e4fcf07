import { tf } from '../tf-core.js';
import { SIGMOID_BACKPROP, SIGMOID_BACKPROP2 } from '../kernels/SigmoidBackprop.js';

const run = (name: string, inputs: Record<string, tf.Tensor>): tf.Tensor =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap) as tf.Tensor;

/** Whether the fused sigmoid-gradient kernels exist on the current backend (cpu, wasm). */
export function hasFusedSigmoidBackprop(): boolean {
  return tf.getKernel(SIGMOID_BACKPROP, tf.getBackend()) !== undefined;
}

/** dy · s(1 − s) for same-shaped float32 s, dy: the fused kernel where it exists, else primitives. */
export function sigmoidBackprop(s: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  if (hasFusedSigmoidBackprop() && s.dtype === 'float32' && dy.dtype === 'float32' && tf.util.arraysEqual(s.shape, dy.shape)) {
    return run(SIGMOID_BACKPROP, { s, dy });
  }
  return tf.mul(dy, tf.mul(s, tf.sub(1, s)));
}

/** g · dy · (1 − 2s): the fused kernel where it exists, else primitives. */
function sigmoidBackprop2(s: tf.Tensor, dy: tf.Tensor, g: tf.Tensor): tf.Tensor {
  if (hasFusedSigmoidBackprop() && g.dtype === 'float32' && tf.util.arraysEqual(s.shape, g.shape) && tf.util.arraysEqual(dy.shape, g.shape)) {
    return run(SIGMOID_BACKPROP2, { s, dy, g });
  }
  return tf.mul(tf.mul(g, dy), tf.sub(1, tf.mul(2, s)));
}

/** y = dy·s(1−s):  ∂/∂s = dy·(1 − 2s),  ∂/∂dy = s(1 − s). */
export const sigmoidBackpropGrad: tf.GradConfig = {
  kernelName: SIGMOID_BACKPROP,
  inputsToSave: ['s', 'dy'],
  gradFunc: (g, saved) => {
    const [s, dy] = saved as [tf.Tensor, tf.Tensor];
    return { s: () => sigmoidBackprop2(s, dy, g as tf.Tensor), dy: () => sigmoidBackprop(s, g as tf.Tensor) };
  },
};

/** y = g·dy·(1 − 2s):  ∂/∂s = −2·g·dy,  ∂/∂dy = g·(1 − 2s),  ∂/∂g = dy·(1 − 2s) (primitives: any order). */
export const sigmoidBackprop2Grad: tf.GradConfig = {
  kernelName: SIGMOID_BACKPROP2,
  inputsToSave: ['s', 'dy', 'g'],
  gradFunc: (h, saved) => {
    const [s, dy, g] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const u = h as tf.Tensor;
    const oneMinus2s = (): tf.Tensor => tf.sub(1, tf.mul(2, s));
    return {
      s: () => tf.mul(u, tf.mul(tf.mul(g, dy), -2)),
      dy: () => tf.mul(u, tf.mul(g, oneMinus2s())),
      g: () => tf.mul(u, tf.mul(dy, oneMinus2s())),
    };
  },
};
