import { tf } from '../tf-core.js';
import { SIGMOID_BACKPROP, SIGMOID_BACKPROP2 } from '../kernels/SigmoidBackprop.js';

const run = (name: string, inputs: Record<string, tf.Tensor>): tf.Tensor =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap) as tf.Tensor;

/** Whether the fused sigmoid-gradient kernels exist on the current backend (cpu, wasm). */
export function hasFusedSigmoidBackprop(): boolean {
  return tf.getKernel(SIGMOID_BACKPROP, tf.getBackend()) !== undefined;
}

const sameFloat = (...ts: tf.Tensor[]): boolean =>
  ts.every((t) => t.dtype === 'float32' && tf.util.arraysEqual(t.shape, ts[0]!.shape));

/** dy · σ'(x) = dy · s(1 − s), s = σ(x): the fused kernel where it exists, else primitives. */
export function sigmoidBackprop(x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  if (hasFusedSigmoidBackprop() && sameFloat(x, dy)) return run(SIGMOID_BACKPROP, { x, dy });
  const s = tf.sigmoid(x);
  return tf.mul(dy, tf.mul(s, tf.sub(1, s)));
}

/** g · dy · σ''(x) = g · dy · s(1 − s)(1 − 2s): the fused kernel where it exists, else primitives. */
function sigmoidBackprop2(x: tf.Tensor, dy: tf.Tensor, g: tf.Tensor): tf.Tensor {
  if (hasFusedSigmoidBackprop() && sameFloat(x, dy, g)) return run(SIGMOID_BACKPROP2, { x, dy, g });
  const s = tf.sigmoid(x);
  return tf.mul(tf.mul(g, dy), tf.mul(tf.mul(s, tf.sub(1, s)), tf.sub(1, tf.mul(2, s))));
}

/** y = dy·σ'(x):  ∂/∂x = dy·σ''(x),  ∂/∂dy = σ'(x). */
export const sigmoidBackpropGrad: tf.GradConfig = {
  kernelName: SIGMOID_BACKPROP,
  inputsToSave: ['x', 'dy'],
  gradFunc: (g, saved) => {
    const [x, dy] = saved as [tf.Tensor, tf.Tensor];
    return { x: () => sigmoidBackprop2(x, dy, g as tf.Tensor), dy: () => sigmoidBackprop(x, g as tf.Tensor) };
  },
};

/**
 * y = g·dy·σ''(x), σ'' = s(1 − s)(1 − 2s), σ''' = s(1 − s)(1 − 6s + 6s²), s = σ(x); upstream u:
 *   ∂/∂x = u·g·dy·σ'''(x),  ∂/∂dy = u·g·σ''(x),  ∂/∂g = u·dy·σ''(x)  (primitives: any order).
 */
export const sigmoidBackprop2Grad: tf.GradConfig = {
  kernelName: SIGMOID_BACKPROP2,
  inputsToSave: ['x', 'dy', 'g'],
  gradFunc: (h, saved) => {
    const [x, dy, g] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
    const u = h as tf.Tensor;
    const s = tf.sigmoid(x);
    const s1 = tf.mul(s, tf.sub(1, s));
    const s2 = (): tf.Tensor => tf.mul(s1, tf.sub(1, tf.mul(2, s)));
    return {
      x: () => tf.mul(tf.mul(u, tf.mul(g, dy)), tf.mul(s1, tf.add(tf.sub(1, tf.mul(6, s)), tf.mul(6, tf.square(s))))),
      dy: () => tf.mul(u, tf.mul(g, s2())),
      g: () => tf.mul(u, tf.mul(dy, s2())),
    };
  },
};
