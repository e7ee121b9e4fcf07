/**
 * **nnm** (pre-aggregator) — nearest-neighbour mixing (Allouah, Farhadkhani, Guerraoui, Gupta, Pinot,
 * Stephan 2023, "Fixing by Mixing: A Recipe for Optimal Byzantine ML under Heterogeneity", AISTATS).
 *
 *     nnm_f(x_1..x_n) = ( 1/(n−f) Σ_{j ∈ N_1} x_j, ..., 1/(n−f) Σ_{j ∈ N_n} x_j )
 *
 * where N_i is the set of the n − f nearest updates to x_i in L2, x_i itself included (ties: lower
 * index). Parameters: `f` (int ≥ 0; default: the run's --byzantine); needs n > f. Weights pass
 * through; the mixing itself is unweighted, as in the paper and ByzFL.
 *
 * Example (f = 1): [1], [4], [7] → [2.5], [2.5], [5.5] (ByzFL's example).
 *
 * Non-finite updates are dropped before (f' = max(0, f − dropped)). Cost: n² distances plus n(n−f)
 * vector additions, O(n²·d).
 */
import { afterDrop, canonicalName, effectiveF, resolveF } from './base.js';
import { fParam } from './krum.js';
import { AggregatorError, type PreAggregator, type PreAggregatorComponent, type Stack } from './types.js';
import { BLOCK, pairwiseSqDistances } from './vectors.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const nnmComponent: PreAggregatorComponent = {
  name: 'nnm',
  summary: 'replace every update by the mean of its n-f nearest neighbours (Allouah et al. 2023)',
  role: 'pre-aggregator',
  params: { f: fParam },
  build: (v, ctx) => new Nnm(resolveF('nnm', v, ctx)),
};

export class Nnm implements PreAggregator {
  readonly name: string;
  readonly params: { f: number };
  readonly preservesIndices = true;

  constructor(readonly f: number) {
    this.name = canonicalName(nnmComponent, { f });
    this.params = { f };
  }

  apply(updates: Float32Array[], weights: number[], dropped: number): Stack {
    const n = updates.length;
    const f = effectiveF(this.f, dropped);
    if (n <= f) throw new AggregatorError(`${this.name} needs n > f updates, got n=${n} for f=${f}${afterDrop(dropped)}`);
    const D = pairwiseSqDistances(updates);
    const k = n - f;
    const d = updates[0]!.length;
    const neighbours = updates.map((_, i) =>
      updates
        .map((__, j) => j)
        .sort((a, b) => D[i * n + a]! - D[i * n + b]! || a - b)
        .slice(0, k),
    );
    // sums block by block over the coordinates, so the n rows of a block stay in cache
    const mixed = updates.map(() => new Float32Array(d));
    const acc = new Float64Array(BLOCK);
    for (let from = 0; from < d; from += BLOCK) {
      const len = Math.min(BLOCK, d - from);
      for (let i = 0; i < n; i++) {
        acc.fill(0, 0, len);
        for (const j of neighbours[i]!) {
          const x = updates[j]!;
          for (let t = 0; t < len; t++) acc[t]! += x[from + t]!;
        }
        const out = mixed[i]!;
        for (let t = 0; t < len; t++) out[from + t] = acc[t]! / k;
      }
    }
    return { updates: mixed, weights: [...weights] };
  }

  outputCount(n: number): number {
    if (n <= this.f) throw new AggregatorError(`${this.name} needs n > f updates per round, got n=${n} for f=${this.f}`);
    return n;
  }
}
