import { tf } from '../tf-core.js';
import { SCALED_DIFFERENCE, SQUARED_DISTANCE } from '../kernels/SquaredDistance.js';

/** k·dy·(a − b) for a scalar dy: the fused kernel where it exists, else primitives. */
export function scaledDifference(a: tf.Tensor, b: tf.Tensor, dy: tf.Tensor, k: number): tf.Tensor {
  if (tf.getKernel(SCALED_DIFFERENCE, tf.getBackend()) !== undefined && dy.size === 1) {
    return tf.engine().runKernel(SCALED_DIFFERENCE, { a, b, dy } as unknown as tf.NamedTensorMap, { k } as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  return tf.mul(tf.sub(a, b), tf.mul(dy, k));
}

/**
 * SquaredDistance(a0..a{n−1}, b0..b{n−1}) = Σ_i ‖a_i − b_i‖²:  ∂/∂a_i = 2·dy·(a_i − b_i),
 * ∂/∂b_i = −2·dy·(a_i − b_i), each one ScaledDifference dispatch. The inputs are one array
 * [a0..a{n−1}, b0..b{n−1}] (ops.ts fusedSquaredDistance), so the gradients are too, by index.
 */
export const squaredDistanceGrad: tf.GradConfig = {
  kernelName: SQUARED_DISTANCE,
  saveAllInputs: true,
  gradFunc: (dy, saved, attrs) => {
    const n = (attrs as unknown as { n: number }).n;
    const s = saved as tf.Tensor[];
    const out: (() => tf.Tensor)[] = [];
    for (let i = 0; i < n; i++) out[i] = () => scaledDifference(s[i]!, s[n + i]!, dy as tf.Tensor, 2);
    for (let i = 0; i < n; i++) out[n + i] = () => scaledDifference(s[i]!, s[n + i]!, dy as tf.Tensor, -2);
    return out as unknown as Record<string, () => tf.Tensor>;
  },
};
