import { tf } from '../tf-core.js';

/**
 * Comparisons and logical ops (Greater, Equal, LogicalAnd, ...) are piecewise constant: their
 * derivative is zero wherever it exists. Stock tfjs registers no gradient for them, so any gradient
 * that builds a mask from its input — `where(greater(a, 0), …)` in Pow's, `greaterEqual` in
 * Maximum's — cannot itself be differentiated ("gradient function not found for Greater"). These give
 * each input a zero gradient.
 */
const BINARY = ['Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr'];
const UNARY = ['LogicalNot', 'IsNan', 'IsInf', 'IsFinite'];

const zeros = (t: tf.Tensor) => (): tf.Tensor => tf.zeros(t.shape, 'float32');

export const comparisonGrads: tf.GradConfig[] = [
  ...BINARY.map((kernelName): tf.GradConfig => ({
    kernelName,
    inputsToSave: ['a', 'b'],
    gradFunc: (_dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      return { a: zeros(a), b: zeros(b) };
    },
  })),
  ...UNARY.map((kernelName): tf.GradConfig => ({
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (_dy, saved) => ({ x: zeros((saved as [tf.Tensor])[0]) }),
  })),
];
