/**
 * MaxPoolWithArgmax in plain JavaScript (outputs: the pooled values and, per output element, the flat
 * index of its first maximum, with or without the batch in the index — TensorFlow's convention).
 * Replaces the wasm kernel, which is wrong for some channel counts.
 */
import { tf } from '../tf-core.js';
import { maxPoolArgmax, poolInfo } from './MaxPoolGrad.js';
import { readValues, writeValues, type PoolKernelAttrs, type TensorInfo } from './util.js';

export function maxPoolWithArgmaxKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'MaxPoolWithArgmax',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x } = inputs as unknown as { x: TensorInfo };
      const a = attrs as unknown as PoolKernelAttrs;
      const info = poolInfo(x.shape, a);
      const { max, argmax } = maxPoolArgmax(readValues(backend, x), info);
      if (!a.includeBatchInIndex) {
        const perImage = info.inHeight * info.inWidth * info.inChannels;
        for (let i = 0; i < argmax.length; i++) argmax[i] = argmax[i]! % perImage;
      }
      return [
        writeValues(backend, max, info.outShape, 'float32'),
        writeValues(backend, argmax, info.outShape, 'int32'),
      ];
    },
  };
}
