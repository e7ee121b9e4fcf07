/**
 * **krum** — Krum (Blanchard, El Mhamdi, Guerraoui, Stainer 2017, "Machine Learning with Adversaries:
 * Byzantine Tolerant Gradient Descent", NeurIPS).
 *
 *     score(i)  = Σ_{j ∈ N_i} ‖x_i − x_j‖²,   N_i = the n − f − 2 nearest other updates to x_i
 *     krum(x)   = x_{i*},  i* = argmin_i score(i)          (ties: the lowest index)
 *
 * Parameters: `f` (int ≥ 0; default: the run's --byzantine), the number of Byzantine updates
 * tolerated. Precondition n ≥ 2f + 3. Weights are ignored.
 *
 * Example (f = 1): [0,0], [0,1], [1,0], [0.5,0.5], [100,100] → scores with n−f−2 = 2 neighbours:
 * [0.5,0.5] has 0.5 + 0.5 = 1, the smallest, so krum returns [0.5, 0.5].
 *
 * ByzFL's Krum sums over n − f − 1 neighbours (its `sort(dist)[1 : n−f]`); this follows the paper.
 * Non-finite updates are dropped first (f' = max(0, f − dropped)). Cost: n(n−1)/2 squared distances
 * of length d, in float64.
 */
import { afterDrop, BaseAggregator, canonicalName, effectiveF, resolveF, type RunResult } from './base.js';
import { AggregatorError, type AggregatorComponent } from './types.js';
import { pairwiseSqDistances, selectKth } from './vectors.js';

export const fParam = {
  type: 'int',
  min: 0,
  defaultText: "the run's --byzantine",
  description: 'number of Byzantine updates tolerated',
} as const;

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const krumComponent: AggregatorComponent = {
  name: 'krum',
  summary: 'the update closest to its n-f-2 nearest neighbours (Blanchard et al. 2017; n >= 2f+3)',
  role: 'aggregator',
  params: { f: fParam },
  build: (v, ctx) => new Krum(resolveF('krum', v, ctx)),
};

/**
 * Krum scores of the updates `active` (indices into the row-major n×n squared-distance matrix D):
 * for each, the sum of its k smallest squared distances to the other active updates.
 */
export function krumScores(D: Float64Array, n: number, active: readonly number[], k: number): number[] {
  const m = active.length;
  const buf = new Float64Array(Math.max(1, m - 1));
  return active.map((i) => {
    let c = 0;
    for (const j of active) if (j !== i) buf[c++] = D[i * n + j]!;
    const kk = Math.min(Math.max(k, 0), c);
    if (kk === 0) return 0;
    if (kk < c) selectKth(buf, 0, c - 1, kk - 1);
    let s = 0;
    for (let t = 0; t < kk; t++) s += buf[t]!;
    return s;
  });
}

/** Position (in `scores`) of the smallest score; ties go to the first. */
export function argmin(scores: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! < scores[best]!) best = i;
  return best;
}

/** Throw unless n ≥ 2f + 3 (Krum's precondition), naming the rule. */
export function requireKrumClients(who: string, n: number, f: number, dropped = 0): void {
  if (n < 2 * f + 3) {
    throw new AggregatorError(`${who} needs n >= 2f+3 = ${2 * f + 3} updates per round for f=${f}, got n=${n}${afterDrop(dropped)}`);
  }
}

export class Krum extends BaseAggregator {
  constructor(readonly f: number) {
    super(canonicalName(krumComponent, { f }), { f });
  }

  override checkClients(n: number): void {
    super.checkClients(n);
    requireKrumClients(this.name, n, this.f);
  }

  run(updates: Float32Array[], _weights: number[], dropped: number): RunResult {
    const n = updates.length;
    const f = effectiveF(this.f, dropped);
    requireKrumClients(this.name, n, f, dropped);
    const D = pairwiseSqDistances(updates);
    const all = updates.map((_, i) => i);
    const i = argmin(krumScores(D, n, all, n - f - 2));
    return { out: Float32Array.from(updates[i]!), selected: [i] };
  }
}
