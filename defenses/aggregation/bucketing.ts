/**
 * **bucketing** (pre-aggregator) — random bucketing (Karimireddy, He, Jaggi 2022, "Byzantine-Robust
 * Learning on Heterogeneous Datasets via Bucketing", ICLR).
 *
 *     π = a random permutation of 1..n;  bucket b = {π(b·s+1), ..., π(min(n, (b+1)·s))}
 *     bucketing_s(x) = ( mean of bucket 0, ..., mean of bucket ⌈n/s⌉−1 )
 *
 * Parameters: `s` (int ≥ 1, default 2, as the paper's experiments and FLPoison; ByzFL defaults to 1,
 * the identity). The last bucket holds the n mod s leftovers when s does not divide n. Each bucket's
 * mean is weighted by its members' sample counts and the bucket carries their total weight, so
 * `bucketing+mean` equals `mean`. The permutation is drawn from a generator seeded by the run's seed
 * (a new permutation every round).
 *
 * Example (s = 2, permutation 2,0,1): [1], [4], [7] → buckets {7, 1}, {4} → [4], [4].
 *
 * The next aggregator sees ⌈n/s⌉ updates, still with f Byzantine at most (each Byzantine update
 * contaminates one bucket): its precondition applies to ⌈n/s⌉.
 */
import { Rng } from '../../src/engine/rng.js';
import { canonicalName } from './base.js';
import type { PreAggregator, PreAggregatorComponent, Stack } from './types.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const bucketingComponent: PreAggregatorComponent = {
  name: 'bucketing',
  summary: 'average random buckets of s updates (Karimireddy et al. 2022)',
  role: 'pre-aggregator',
  params: {
    s: { type: 'int', min: 1, default: 2, description: 'bucket size' },
  },
  build: (v, ctx) => new Bucketing(v['s'] as number, ctx.seed ?? 0),
};

/** Weighted bucket means for a given permutation `perm` of 0..n-1. */
export function bucketize(updates: readonly Float32Array[], weights: readonly number[], perm: readonly number[], s: number): Stack {
  const d = updates[0]!.length;
  const out: Stack = { updates: [], weights: [] };
  for (let start = 0; start < perm.length; start += s) {
    const members = perm.slice(start, start + s);
    let total = 0;
    for (const i of members) total += weights[i]!;
    const acc = new Float64Array(d);
    for (const i of members) {
      // members with zero total weight are averaged uniformly
      const w = total > 0 ? weights[i]! / total : 1 / members.length;
      const x = updates[i]!;
      for (let j = 0; j < d; j++) acc[j]! += w * x[j]!;
    }
    out.updates.push(Float32Array.from(acc));
    out.weights.push(total);
  }
  return out;
}

export class Bucketing implements PreAggregator {
  readonly name: string;
  readonly params: { s: number };
  readonly preservesIndices = false;
  private readonly rng: Rng;

  constructor(
    readonly s: number,
    seed = 0,
  ) {
    this.name = canonicalName(bucketingComponent, { s });
    this.params = { s };
    this.rng = new Rng(seed).fork('bucketing');
  }

  apply(updates: Float32Array[], weights: number[]): Stack {
    return bucketize(updates, weights, this.rng.permutation(updates.length), this.s);
  }

  outputCount(n: number): number {
    return Math.ceil(n / this.s);
  }
}
