/**
 * Updates as flat host vectors: the one seam between the harness (tensors) and every host-vector
 * plug-in (aggregators, poisoning attacks). `flatten` concatenates parameters in their key order
 * (one read-back on a GPU); `unflatten` is its inverse. The harness flattens each update of a round
 * once and shares the vectors with the malicious clients and the aggregator.
 *
 * The one mean (FedAvg's sample-weighted mean, McMahan et al. 2017), used by the harness's default
 * aggregator and by defenses/aggregation/mean.ts:
 * ```
 *   mean(x_1..x_n; w) = Σ_i (w_i / Σ_j w_j) · x_i        accumulated in float64, rounded once to float32
 * ```
 * Example: mean([1,2], [3,4], [5,9]; w = [1,1,2]) = [3.5, 6].
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

/** Whether every coordinate of v is finite. */
export function isFiniteVector(v: Float32Array): boolean {
  for (let j = 0; j < v.length; j++) {
    const x = v[j]!;
    // x - x is NaN exactly for NaN and ±Inf: one comparison per coordinate.
    if (x - x !== 0) return false;
  }
  return true;
}

/** The weighted mean Σ_i (w_i/Σw)·x_i in float64 (see the file header); weights with a positive sum. */
export function weightedMean64(updates: readonly Float32Array[], weights: readonly number[]): Float64Array {
  const d = updates[0]!.length;
  const acc = new Float64Array(d);
  let total = 0;
  for (const w of weights) total += w;
  for (let i = 0; i < updates.length; i++) {
    const w = weights[i]! / total;
    if (w === 0) continue;
    const u = updates[i]!;
    for (let j = 0; j < d; j++) acc[j]! += w * u[j]!;
  }
  return acc;
}

/** FedAvg's weighted mean of flat updates (see the file header), as a new float32 vector. */
export function weightedMean(updates: readonly Float32Array[], weights: readonly number[]): Float32Array {
  return Float32Array.from(weightedMean64(updates, weights));
}

