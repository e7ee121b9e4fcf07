/**
 * AddN in chunks, for WebGPU: tfjs-backend-webgpu binds every input as a storage buffer, so an addN of
 * more tensors than the device allows per shader stage (8 by WebGPU's default limits, 16 on Mesa's
 * lavapipe, more on GPUs whose limits we request) fails validation and silently yields garbage. Sums
 * of at most CHUNK inputs are added up in a tree instead (the same sum, another rounding order).
 */
import { tf } from '../tf-core.js';
import { release, type TensorInfo } from './util.js';

const CHUNK = 7;

export function addNKernel(backendName: string): tf.KernelConfig {
  const stock = tf.getKernel('AddN', backendName);
  if (stock === undefined) throw new Error(`fedattack: backend '${backendName}' has no AddN kernel`);
  return {
    kernelName: 'AddN',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const call = (ts: TensorInfo[]): TensorInfo =>
        stock.kernelFunc({ inputs: ts, backend, attrs } as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
      let level = inputs as unknown as TensorInfo[];
      const temps: TensorInfo[] = [];
      try {
        while (level.length > CHUNK) {
          const next: TensorInfo[] = [];
          for (let i = 0; i < level.length; i += CHUNK) {
            const part = level.slice(i, i + CHUNK);
            if (part.length === 1) next.push(part[0]!);
            else {
              const s = call(part);
              temps.push(s);
              next.push(s);
            }
          }
          level = next;
        }
        return call(level);
      } finally {
        release(backend, temps);
      }
    },
  };
}
