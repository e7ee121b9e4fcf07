/**
 * BatchMatMul with transposeA/transposeB as an explicit Transpose followed by a plain product (wasm):
 * XNNPACK's transposed path is several times slower on the shapes of a dense layer's gradient
 * ([1,768]ᵀ×[1,100], [768,100]ᵀ). Other cases go to the backend's own kernel unchanged.
 */
import { tf } from '../tf-core.js';
import { callKernel, release, type TensorInfo } from './util.js';

export function batchMatMulKernel(backendName: string): tf.KernelConfig {
  const stock = tf.getKernel('BatchMatMul', backendName);
  const original = stock?.kernelFunc;
  return {
    kernelName: 'BatchMatMul',
    backendName,
    // the wasm kernel binds its wasm function in setupFunc, which the backend runs at initialisation
    ...(stock?.setupFunc !== undefined ? { setupFunc: stock.setupFunc } : {}),
    kernelFunc: (args) => {
      if (original === undefined) throw new Error(`fedattack: no BatchMatMul kernel on ${backendName}`);
      const { inputs, backend, attrs } = args;
      const { a, b } = inputs as unknown as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return original(args);
      const swapLast = (t: TensorInfo): TensorInfo => {
        const r = t.shape.length;
        const perm = Array.from({ length: r }, (_, i) => i);
        [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
        return callKernel(backendName, 'Transpose', backend, { x: t }, { perm });
      };
      const temps: TensorInfo[] = [];
      try {
        const aa = transposeA ? (temps.push(swapLast(a)), temps[temps.length - 1]!) : a;
        const bb = transposeB ? (temps.push(swapLast(b)), temps[temps.length - 1]!) : b;
        return original({ inputs: { a: aa, b: bb }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } } as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
      } finally {
        release(backend, temps);
      }
    },
  };
}
