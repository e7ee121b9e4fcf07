/**
 * fedattack's gradient fixes for TensorFlow.js 4.22.0, one file per kernel (named after it), all
 * registered from this list. Each one replaces or adds a gradient so that gradients of gradients — the
 * heart of every gradient-leakage attack — are right. Proved by test/gradcheck.test.ts (first and
 * second order against central finite differences) and by the PyTorch oracle (test/oracle.test.ts).
 */
import { tf } from '../tf-core.js';
import { sigmoidGrad } from './Sigmoid_grad.js';
import { tanhGrad } from './Tanh_grad.js';
import { expGrad } from './Exp_grad.js';
import { eluGrad } from './Elu_grad.js';
import { softmaxGrad } from './Softmax_grad.js';
import { powGrad } from './Pow_grad.js';
import { maxGrad } from './Max_grad.js';
import { maxPoolGrad } from './MaxPool_grad.js';
import { conv2DBackpropFilterGrad } from './Conv2DBackpropFilter_grad.js';
import { maxPoolGradGrad } from './MaxPoolGrad_grad.js';
import { avgPoolGradGrad } from './AvgPoolGrad_grad.js';
import { comparisonGrads } from './Comparison_grad.js';
import { multiplyGrad } from './Multiply_grad.js';
import { sumGrad } from './Sum_grad.js';
import { meanGrad } from './Mean_grad.js';
import { addGrad } from './Add_grad.js';
import { subGrad } from './Sub_grad.js';
import { reshapeGrad } from './Reshape_grad.js';
import { sigmoidBackpropGrad, sigmoidBackprop2Grad } from './SigmoidBackprop_grad.js';
import { softCrossEntropyGrad } from './SoftCrossEntropy_grad.js';
import { softCrossEntropyGradGrad } from './SoftCrossEntropyGrad_grad.js';
import { softCrossEntropyGradGradZGrad, softCrossEntropyGradGradTGrad } from './SoftCrossEntropyGradGrad_grad.js';
import { squaredDistanceGrad } from './SquaredDistance_grad.js';
import { fusedConv2DGrad } from './FusedConv2D_grad.js';
import { softmaxBackpropGrad } from './SoftmaxBackprop_grad.js';
import { scaledDifferenceGrad } from './ScaledDifference_grad.js';

/** Saved-output defect (tfjs #3252): these kernels now save their input and recompute. */
export const savedOutputFixes = [sigmoidGrad, tanhGrad, expGrad, eluGrad, softmaxGrad, powGrad, maxGrad, maxPoolGrad];
/** Gradients stock tfjs lacks. */
export const missingGradients = [conv2DBackpropFilterGrad, maxPoolGradGrad, avgPoolGradGrad, ...comparisonGrads, fusedConv2DGrad];
/** Stock gradients recomputed with fewer or cheaper dispatches (same values, same higher orders). */
export const fasterGradients = [multiplyGrad, sumGrad, meanGrad, addGrad, subGrad, reshapeGrad, sigmoidBackpropGrad, sigmoidBackprop2Grad,
  softCrossEntropyGrad, softCrossEntropyGradGrad, softCrossEntropyGradGradZGrad, softCrossEntropyGradGradTGrad, squaredDistanceGrad, scaledDifferenceGrad,
  softmaxBackpropGrad];

const stock = new Map<string, tf.GradConfig | undefined>();

let registered = false;
export function registerGradientFixes(): void {
  if (registered) return;
  for (const g of [...savedOutputFixes, ...missingGradients, ...fasterGradients]) {
    stock.set(g.kernelName, tf.getGradient(g.kernelName));
    tf.registerGradient(g);
  }
  registered = true;
}

/**
 * Runs fn with tfjs's stock gradients for the named kernels (for tests that prove the checks catch
 * the defects), then puts the fixes back.
 */
export async function withStockGradients<T>(kernels: string[], fn: () => T | Promise<T>): Promise<T> {
  const fixes = [...savedOutputFixes, ...missingGradients, ...fasterGradients].filter((g) => kernels.includes(g.kernelName));
  const unregister = (name: string): void => {
    // tfjs has no unregisterGradient; a config without gradFunc makes the engine report it as missing
    tf.registerGradient({ kernelName: name, gradFunc: undefined } as unknown as tf.GradConfig);
  };
  try {
    for (const g of fixes) {
      const s = stock.get(g.kernelName);
      if (s) tf.registerGradient(s);
      else unregister(g.kernelName);
    }
    return await fn();
  } finally {
    for (const g of fixes) tf.registerGradient(g);
  }
}
