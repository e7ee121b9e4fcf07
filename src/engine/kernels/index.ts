/**
 * fedattack's kernel fixes for TensorFlow.js 4.22.0, one file per kernel, registered per backend:
 * - Conv2DBackpropFilter as im2col + one matrix product (wasm has none; cpu's own is ~4x slower end to end);
 * - MaxPoolGrad and MaxPoolWithArgmax in JavaScript (wasm's are wrong for some channel counts);
 * - AvgPoolGrad consistent with the forward pass under 'same' padding (cpu and wasm);
 * - Identity sharing storage instead of copying (wasm; the engine clones every saved tensor);
 * - Conv2DBackpropInput as col2im + one XNNPACK product, transposed BatchMatMul without XNNPACK weight
 *   packing of large operands, SplitV as contiguous copies (wasm, speed);
 * - float32 Add/Sub/Multiply/RealDiv/SquaredDifference with strided broadcasting (cpu, speed);
 * - fused sigmoid-gradient kernels (cpu and wasm, speed; see ../gradients/SigmoidBackprop_grad.ts);
 * - fused softmax gradient, soft cross-entropy and its gradients, squared distance of gradient lists and
 *   its gradient (cpu and wasm, speed: the DLG loss and objective; ./SoftmaxBackprop.ts,
 *   ./SoftCrossEntropy.ts, ./SoftCrossEntropyGradGrad.ts, ./SquaredDistance.ts);
 *   FusedConv2D (convolution + bias) is tfjs's own kernel, with a gradient in ../gradients;
 * - WebGPU: AvgPoolGrad on the device, AddN in chunks (storage-buffer limits), Conv2DBackpropFilter as
 *   split-K matrix products.
 */
import { tf } from '../tf-core.js';
import { conv2DBackpropFilterKernel } from './Conv2DBackpropFilter.js';
import { maxPoolGradKernel } from './MaxPoolGrad.js';
import { maxPoolWithArgmaxKernel } from './MaxPoolWithArgmax.js';
import { avgPoolGradKernel } from './AvgPoolGrad.js';
import { identityKernel } from './Identity.js';
import { conv2DBackpropInputKernel } from './Conv2DBackpropInput.js';
import { batchMatMulKernel } from './BatchMatMul.js';
import { addNKernel } from './AddN.js';
import { conv2DBackpropFilterMMKernel } from './Conv2DBackpropFilterMM.js';
import { binaryKernel, BINARY_OPS } from './Binary.js';
import { splitVKernel } from './SplitV.js';
import { sigmoidBackpropKernel, sigmoidBackprop2Kernel } from './SigmoidBackprop.js';
import { softCrossEntropyKernel, softCrossEntropyGradKernel } from './SoftCrossEntropy.js';
import { squaredDistanceKernel, scaledDifferenceKernel } from './SquaredDistance.js';
import { softCrossEntropyGradGradZKernel, softCrossEntropyGradGradTKernel } from './SoftCrossEntropyGradGrad.js';
import { softmaxBackpropKernel } from './SoftmaxBackprop.js';
import { replaceKernel } from './util.js';

const FUSED = [sigmoidBackpropKernel, sigmoidBackprop2Kernel, softCrossEntropyKernel, softCrossEntropyGradKernel,
  softCrossEntropyGradGradZKernel, softCrossEntropyGradGradTKernel, squaredDistanceKernel, scaledDifferenceKernel, softmaxBackpropKernel];

const FIXES: Record<string, ((backendName: string) => tf.KernelConfig)[]> = {
  cpu: [conv2DBackpropFilterKernel, avgPoolGradKernel, ...BINARY_OPS.map(binaryKernel), ...FUSED],
  wasm: [conv2DBackpropFilterKernel, maxPoolGradKernel, maxPoolWithArgmaxKernel, avgPoolGradKernel, identityKernel,
    conv2DBackpropInputKernel, batchMatMulKernel, splitVKernel, ...FUSED],
  webgpu: [avgPoolGradKernel, addNKernel, conv2DBackpropFilterMMKernel],
};

const done = new Set<string>();
/** Registers the fixes for one backend (idempotent). Call after the backend's package is imported. */
export function registerKernelFixes(backendName: string): void {
  if (done.has(backendName)) return;
  for (const make of FIXES[backendName] ?? []) replaceKernel(make(backendName));
  done.add(backendName);
}
