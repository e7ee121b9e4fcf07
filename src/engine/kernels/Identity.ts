/**
 * Identity that shares the input's storage (reference-counted), as the cpu backend's does. The wasm
 * backend copies instead, and the engine clones every tensor it saves for a gradient through Identity:
 * ~150 copies per DLG evaluation on LeNet. Tensors are immutable (a Variable's assign swaps storage),
 * so sharing is safe.
 */
import { tf } from '../tf-core.js';
import type { TensorInfo } from './util.js';

export function identityKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'Identity',
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { x } = inputs as unknown as { x: TensorInfo };
      (backend as { incRef(id: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype } as TensorInfo;
    },
  };
}
