/**
 * Flattened updates and the vector kernels every aggregator is built from.
 *
 * `flatten` turns named parameters (or a parameter delta) into one Float32Array in the model's
 * parameter order; `unflatten` turns such a vector back into tensors shaped like a reference. The
 * kernels work on plain Float32Arrays and accumulate in float64, so that sums over millions of
 * coordinates and squared distances between nearby updates keep their precision.
 *
 * Costs: coordinate-wise rules are a quickselect over n values per coordinate (O(n·d)); Krum-family
 * rules and nnm need the n(n−1)/2 pairwise squared distances (O(n²·d)), computed here from
 * differences in float64, in blocks of coordinates so the n rows of a block stay in cache (~0.9 ns
 * per coordinate-pair). Measured CPU time, d = 1.66M (the MNIST CNN), one core of the 2-core dev
 * machine: n = 10: mean 0.12 s, median 0.3 s, krum 0.12 s, bulyan 0.37 s; n = 100 (f = 20): mean
 * 1.2 s, median 3.6 s, trimmed-mean 5.0 s, krum / multi-krum 7.7 s, bulyan 11.3 s, geomed 4.8 s
 * (2 steps from the median), centered-clip 0.8 s. A float32 Gram matrix by tf.matMul on the wasm
 * backend took 19 s CPU for n = 100, slower than this and prone to cancellation, so it is not used.
 */
import { tf } from '../../src/engine/tf.js';
import { readFlat } from '../../src/engine/read.js';
import type { Params } from '../../src/models/types.js';
import { AggregatorError } from './types.js';

// ---------------------------------------------------------------- flatten / unflatten

export { flatten, isFiniteVector, paramCount, unflatten, weightedMean, weightedMean64 } from '../../src/fl/flat.js';
import { isFiniteVector, weightedMean } from '../../src/fl/flat.js';

/**
 * Check a stack: at least one update, equal lengths, one finite non-negative weight per update with a
 * positive sum. Returns d. `who` names the aggregator in messages.
 */
export function checkStack(who: string, updates: readonly Float32Array[], weights: readonly number[]): number {
  if (updates.length === 0) throw new AggregatorError(`${who}: no updates to aggregate`);
  const d = updates[0]!.length;
  for (let i = 1; i < updates.length; i++) {
    if (updates[i]!.length !== d) throw new AggregatorError(`${who}: update ${i} has ${updates[i]!.length} values, update 0 has ${d}`);
  }
  if (weights.length !== updates.length) throw new AggregatorError(`${who}: ${updates.length} updates but ${weights.length} weights`);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (!Number.isFinite(w) || w < 0) throw new AggregatorError(`${who}: weight ${i} is ${w}; weights must be finite and >= 0`);
    sum += w;
  }
  if (!(sum > 0)) throw new AggregatorError(`${who}: the weights sum to 0`);
  return d;
}

/** Number of non-finite coordinates of v. */
export function countNonFinite(v: Float32Array): number {
  let c = 0;
  for (let j = 0; j < v.length; j++) if (!Number.isFinite(v[j]!)) c++;
  return c;
}

/** One suspicious update found by `findCorruptUpdates`. */
export interface CorruptUpdate {
  index: number;
  /** Number of NaN or ±Inf coordinates. */
  nonFinite: number;
  /** L2 norm of the finite coordinates (float64). */
  norm: number;
  /** 'non-finite' or 'norm' (finite, but over maxNorm). */
  reason: 'non-finite' | 'norm';
}

/**
 * Updates that must not reach a plain mean: any with a NaN/Inf coordinate, and, when `maxNorm` is
 * given, any whose L2 norm exceeds it. Empty when all is well. The harness calls this before `mean`
 * and stops with `describeCorrupt` if anything comes back.
 */
export function findCorruptUpdates(updates: readonly Float32Array[], opts: { maxNorm?: number } = {}): CorruptUpdate[] {
  const maxNorm = opts.maxNorm ?? Infinity;
  const out: CorruptUpdate[] = [];
  updates.forEach((v, index) => {
    let nonFinite = 0;
    let s = 0;
    for (let j = 0; j < v.length; j++) {
      const x = v[j]!;
      if (x - x !== 0) nonFinite++;
      else s += x * x;
    }
    const n = Math.sqrt(s);
    if (nonFinite > 0) out.push({ index, nonFinite, norm: n, reason: 'non-finite' });
    else if (n > maxNorm) out.push({ index, nonFinite: 0, norm: n, reason: 'norm' });
  });
  return out;
}

/** One line describing corrupt updates, for errors and reports. */
export function describeCorrupt(corrupt: readonly CorruptUpdate[], d?: number): string {
  return corrupt
    .map((c) =>
      c.reason === 'non-finite'
        ? `update ${c.index}: ${c.nonFinite}${d !== undefined ? `/${d}` : ''} non-finite values`
        : `update ${c.index}: norm ${c.norm.toExponential(3)}`,
    )
    .join('; ');
}

/** The updates with a non-finite coordinate removed, with their weights and the indices kept/dropped. */
export function dropNonFinite(
  updates: readonly Float32Array[],
  weights: readonly number[],
): { updates: Float32Array[]; weights: number[]; kept: number[]; dropped: number[] } {
  const kept: number[] = [];
  const dropped: number[] = [];
  updates.forEach((v, i) => (isFiniteVector(v) ? kept : dropped).push(i));
  return { updates: kept.map((i) => updates[i]!), weights: kept.map((i) => weights[i]!), kept, dropped };
}

/** Throw unless every coordinate of the output is finite. */
export function assertFiniteOutput(who: string, v: Float32Array): Float32Array {
  const bad = countNonFinite(v);
  if (bad > 0) {
    throw new AggregatorError(`${who}: the aggregate has ${bad} non-finite values (float32 overflow of huge updates?); refusing to update the model`);
  }
  return v;
}

// ---------------------------------------------------------------- norms, distances, means

export function dot(a: Float32Array, b: Float32Array): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n = a.length;
  const m = n - (n % 4);
  for (let j = 0; j < m; j += 4) {
    s0 += a[j]! * b[j]!;
    s1 += a[j + 1]! * b[j + 1]!;
    s2 += a[j + 2]! * b[j + 2]!;
    s3 += a[j + 3]! * b[j + 3]!;
  }
  for (let j = m; j < n; j++) s0 += a[j]! * b[j]!;
  return s0 + s1 + s2 + s3;
}

export function sqNorm(a: Float32Array | Float64Array): number {
  let s0 = 0, s1 = 0;
  const n = a.length;
  const m = n - (n % 2);
  for (let j = 0; j < m; j += 2) {
    s0 += a[j]! * a[j]!;
    s1 += a[j + 1]! * a[j + 1]!;
  }
  if (m < n) s0 += a[m]! * a[m]!;
  return s0 + s1;
}

export function norm(a: Float32Array | Float64Array): number {
  return Math.sqrt(sqNorm(a));
}

/** ‖a − b‖² accumulated in float64 (no cancellation: differences first). */
export function sqDist(a: Float32Array | Float64Array, b: Float32Array | Float64Array, from = 0, to = a.length): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const m = to - ((to - from) % 4);
  for (let j = from; j < m; j += 4) {
    const t0 = a[j]! - b[j]!;
    const t1 = a[j + 1]! - b[j + 1]!;
    const t2 = a[j + 2]! - b[j + 2]!;
    const t3 = a[j + 3]! - b[j + 3]!;
    s0 += t0 * t0;
    s1 += t1 * t1;
    s2 += t2 * t2;
    s3 += t3 * t3;
  }
  for (let j = m; j < to; j++) {
    const t = a[j]! - b[j]!;
    s0 += t * t;
  }
  return s0 + s1 + s2 + s3;
}

/** Coordinates per block in `pairwiseSqDistances`: n rows of a block fit in L2 for n ≤ ~100. */
export const BLOCK = 2048;

/**
 * The n×n matrix of squared L2 distances (row-major Float64Array, zero diagonal), computed directly
 * from differences in float64, block by block over the coordinates.
 */
export function pairwiseSqDistances(updates: readonly Float32Array[]): Float64Array {
  const n = updates.length;
  const d = n === 0 ? 0 : updates[0]!.length;
  const D = new Float64Array(n * n);
  for (let from = 0; from < d; from += BLOCK) {
    const to = Math.min(d, from + BLOCK);
    for (let i = 0; i < n; i++) {
      const a = updates[i]!;
      for (let k = i + 1; k < n; k++) D[i * n + k]! += sqDist(a, updates[k]!, from, to);
    }
  }
  for (let i = 0; i < n; i++) for (let k = i + 1; k < n; k++) D[k * n + i] = D[i * n + k]!;
  return D;
}

/** Unweighted mean of a stack. */
export function mean(updates: readonly Float32Array[]): Float32Array {
  return weightedMean(updates, updates.map(() => 1));
}

/** `v` scaled to L2 norm `bound` if its norm exceeds it, else an unchanged copy. */
export function clipToNorm(v: Float32Array, bound: number): Float32Array {
  const n = norm(v);
  const out = Float32Array.from(v);
  if (n > bound) {
    const s = bound / n;
    for (let j = 0; j < out.length; j++) out[j]! *= s;
  }
  return out;
}

// ---------------------------------------------------------------- coordinate-wise kernels

/**
 * out[j] = reduce(column j) for every coordinate j, where column j holds the n values updates[i][j]
 * (in float64, in a scratch buffer the reducer may reorder).
 */
export function coordinateWise(updates: readonly Float32Array[], reduce: (col: Float64Array, n: number) => number): Float32Array {
  const n = updates.length;
  const d = updates[0]!.length;
  const out = new Float32Array(d);
  const col = new Float64Array(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) col[i] = updates[i]![j]!;
    out[j] = reduce(col, n);
  }
  return out;
}

/** Sort a[lo..hi] ascending in place (insertion sort; for short ranges). */
function insertionSort(a: Float64Array, lo: number, hi: number): void {
  for (let i = lo + 1; i <= hi; i++) {
    const x = a[i]!;
    let k = i - 1;
    while (k >= lo && a[k]! > x) {
      a[k + 1] = a[k]!;
      k--;
    }
    a[k + 1] = x;
  }
}

/**
 * Quickselect: reorder a[lo..hi] so that a[k] holds the value it would have after sorting, every
 * a[lo..k-1] ≤ a[k] and every a[k+1..hi] ≥ a[k]. Values must not be NaN.
 */
export function selectKth(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi - lo > 16) {
    // median of three as pivot, placed at lo
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return; // j < k < i: a[k] equals the pivot and is in place
  }
  insertionSort(a, lo, hi);
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/** Median of col[0..n-1] (mean of the two middle values for even n). Reorders col. */
export function medianOf(col: Float64Array, n: number): number {
  const h = n >>> 1;
  if (n <= 24) {
    insertionSort(col, 0, n - 1);
    return n % 2 === 1 ? col[h]! : 0.5 * (col[h - 1]! + col[h]!);
  }
  selectKth(col, 0, n - 1, h);
  if (n % 2 === 1) return col[h]!;
  let below = -Infinity;
  for (let i = 0; i < h; i++) if (col[i]! > below) below = col[i]!;
  return 0.5 * (below + col[h]!);
}

/** Mean of col[0..n-1] without its b smallest and b largest values (needs n > 2b). Reorders col. */
export function trimmedMeanOf(col: Float64Array, n: number, b: number): number {
  if (b > 0) {
    if (n <= 24) insertionSort(col, 0, n - 1);
    else {
      selectKth(col, 0, n - 1, b);
      selectKth(col, b, n - 1, n - b - 1);
    }
  }
  let s = 0;
  for (let i = b; i < n - b; i++) s += col[i]!;
  return s / (n - 2 * b);
}

/**
 * Mean of the `beta` values of col[0..n-1] closest to their median (Bulyan's coordinate rule).
 * Sorts col. Ties in distance go to the smaller value.
 */
export function meanAroundMedianOf(col: Float64Array, n: number, beta: number): number {
  if (n <= 24) insertionSort(col, 0, n - 1);
  else col.subarray(0, n).sort();
  const h = n >>> 1;
  const med = n % 2 === 1 ? col[h]! : 0.5 * (col[h - 1]! + col[h]!);
  // the beta closest values form a window of the sorted column around the median
  let i = n % 2 === 1 ? h : h - 1; // last index with value <= median
  let k = i + 1;
  let s = 0;
  for (let taken = 0; taken < beta; taken++) {
    if (k >= n || (i >= 0 && med - col[i]! <= col[k]! - med)) s += col[i--]!;
    else s += col[k++]!;
  }
  return s / beta;
}
