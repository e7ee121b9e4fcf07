/**
 * fedattack's kernel fixes for TensorFlow.js 4.22.0, one file per kernel, registered per backend:
 * - Conv2DBackpropFilter as a convolution (wasm has none; cpu's own is ~4x slower end to end);
 * - MaxPoolGrad and MaxPoolWithArgmax in JavaScript (wasm's are wrong for some channel counts);
 * - AvgPoolGrad consistent with the forward pass under 'same' padding (cpu and wasm);
 * - Identity sharing storage instead of copying (wasm; the engine clones every saved tensor);
 * - Conv2DBackpropInput as an XNNPACK convolution, and transposed BatchMatMul via Transpose (wasm, speed);
 * - WebGPU: AddN in chunks (storage-buffer limits), Conv2DBackpropFilter as split-K matrix products.
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
import { replaceKernel } from './util.js';

const FIXES: Record<string, ((backendName: string) => tf.KernelConfig)[]> = {
  cpu: [conv2DBackpropFilterKernel, avgPoolGradKernel],
  wasm: [conv2DBackpropFilterKernel, maxPoolGradKernel, maxPoolWithArgmaxKernel, avgPoolGradKernel, identityKernel,
    conv2DBackpropInputKernel, batchMatMulKernel],
  webgpu: [avgPoolGradKernel, addNKernel, conv2DBackpropFilterMMKernel],
};

const done = new Set<string>();
/** Registers the fixes for one backend (idempotent). Call after the backend's package is imported. */
export function registerKernelFixes(backendName: string): void {
  if (done.has(backendName)) return;
  for (const make of FIXES[backendName] ?? []) replaceKernel(make(backendName));
  done.add(backendName);
}
