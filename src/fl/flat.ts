/**
 * Updates as flat host vectors: the one seam between the harness (tensors) and every host-vector
 * plug-in (aggregators, poisoning attacks). `flatten` concatenates parameters in their key order
 * (one read-back on a GPU); `unflatten` is its inverse.
 */
import { tf } from '../engine/tf.js';
import { readFlat } from '../engine/read.js';
import type { Params } from '../models/types.js';

/**
 * Concatenate every tensor of `p` (in key order) into one new Float32Array. Asynchronous: GPU backends
 * cannot read synchronously in Node; several tensors come back in one transfer there.
 */
export async function flatten(p: Params): Promise<Float32Array> {
  return Float32Array.from(await readFlat(Object.values(p)));
}

/** Number of scalars in `like` (the length `flatten(like)` would have). */
export function paramCount(like: Params): number {
  let d = 0;
  for (const k of Object.keys(like)) d += like[k]!.size;
  return d;
}

/**
 * Split `v` into new float32 tensors with the names and shapes of `like`, in its key order.
 * The caller owns (and disposes) the returned tensors.
 */
export function unflatten(v: Float32Array, like: Params): Params {
  const d = paramCount(like);
  if (v.length !== d) throw new Error(`unflatten: vector has ${v.length} values, the parameters hold ${d}`);
  const out: Params = {};
  let at = 0;
  for (const k of Object.keys(like)) {
    const t = like[k]!;
    out[k] = tf.tensor(v.slice(at, at + t.size), t.shape, 'float32');
    at += t.size;
  }
  return out;
}

// ---------------------------------------------------------------- stack checks

