/**
 * The one place fedattack takes TensorFlow.js from. Importing this module loads the union package
 * (which registers every stock gradient), the wasm backend, and then fedattack's engine fixes —
 * second-order-correct gradients, the missing gradients, corrected kernels — so that no model code can
 * run before they are in place, and the engine's saved-tensor clones without a kernel dispatch
 * (./shared-clone.ts). See src/engine/gradients and src/engine/kernels.
 */
import { tf } from './tf-core.js';
import { registerGradientFixes } from './gradients/index.js';
import { registerKernelFixes } from './kernels/index.js';
import { installSharedClone } from './shared-clone.js';

registerGradientFixes();
registerKernelFixes('cpu');
registerKernelFixes('wasm');
installSharedClone();

export { tf };
export type Tensor = tf.Tensor;
export type Scalar = tf.Scalar;
