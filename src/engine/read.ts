/**
 * Reading tensors back to the host without synchronous reads.
 *
 * tfjs-backend-webgpu cannot read synchronously in Node (its `readSync` goes through OffscreenCanvas),
 * so every host read on a path that may run on WebGPU is an `await tensor.data()`. On cpu and wasm the
 * read resolves at once (their `read` wraps `readSync`); on a GPU each read is a device→host transfer
 * and a pipeline flush, so several tensors are concatenated on the device and read back in one transfer.
 */
import { tf } from './tf.js';

/** True when the active backend keeps tensors in host memory (one read per tensor costs nothing). */
function hostBackend(): boolean {
  const b = tf.getBackend();
  return b === 'cpu' || b === 'wasm' || b === 'tensorflow';
}

/** Reads `tensors` (any shapes, numeric) into one flat host array, in order. Does not dispose them. */
export async function readFlat(tensors: readonly tf.Tensor[], out?: Float64Array): Promise<Float64Array> {
  const total = tensors.reduce((n, t) => n + t.size, 0);
  const dst = out ?? new Float64Array(total);
  if (dst.length < total) throw new Error(`readFlat: output has ${dst.length} slots for ${total} values`);
  if (tensors.length <= 1 || hostBackend()) {
    let off = 0;
    for (const t of tensors) {
      dst.set((await t.data()) as Float32Array, off);
      off += t.size;
    }
    return dst;
  }
  const flat = tf.tidy(() => tf.concat(tensors.map((t) => tf.reshape(tf.cast(t, 'float32'), [-1]))));
  try {
    dst.set((await flat.data()) as Float32Array, 0);
  } finally {
    flat.dispose();
  }
  return dst;
}

/** Reads a tensor back as a Float32Array (a copy the caller owns). */
export async function readValues(t: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from((await t.data()) as Float32Array);
}

/** Reads a one-element tensor back as a number. */
export async function readScalar(t: tf.Tensor): Promise<number> {
  if (t.size !== 1) throw new Error(`readScalar: expected one element, got shape [${t.shape}]`);
  return ((await t.data()) as Float32Array)[0]!;
}
