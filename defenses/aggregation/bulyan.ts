/**
 * **bulyan** — Bulyan (El Mhamdi, Guerraoui, Rouault 2018, "The Hidden Vulnerability of Distributed
 * Learning in Byzantium", ICML).
 *
 *     1. selection:   S = ∅; repeat θ = n − 2f times: add to S the Krum choice among the updates not
 *                     yet in S (Krum with the same f, over the remaining set)
 *     2. aggregation: β = θ − 2f;  [bulyan(x)]_j = mean of the β values of {x_{i,j} : i ∈ S} closest
 *                     to their median, for every coordinate j
 *
 * Parameters: `f` (int ≥ 0; default: the run's --byzantine). Precondition n ≥ 4f + 3. Weights are
 * ignored. Krum's neighbour count on a remaining set of r updates is r − f − 2 (at least 0).
 *
 * Example (f = 1, n = 7): updates [1],[2],[3],[4],[5],[6],[1000]. Iterated Krum selects θ = 5:
 * [3], [4], [2], [5], [1]; their median is 3 and the β = 3 values closest to it are 2, 3, 4, so the
 * result is [3]. The outlier [1000] is never selected.
 *
 * FLPoison averages θ (not β) values around the median; this follows the paper. Non-finite updates are
 * dropped first (f' = max(0, f − dropped)).
 */
import { afterDrop, BaseAggregator, canonicalName, effectiveF, resolveF, type RunResult } from './base.js';
import { argmin, fParam, krumScores } from './krum.js';
import { AggregatorError, type AggregatorComponent } from './types.js';
import { coordinateWise, meanAroundMedianOf, pairwiseSqDistances } from './vectors.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const bulyanComponent: AggregatorComponent = {
  name: 'bulyan',
  summary: 'iterated Krum selection of n-2f, then coordinate-wise mean around the median (El Mhamdi et al. 2018; n >= 4f+3)',
  role: 'aggregator',
  params: { f: fParam },
  build: (v, ctx) => new Bulyan(resolveF('bulyan', v, ctx)),
};

function requireBulyanClients(who: string, n: number, f: number, dropped = 0): void {
  if (n < 4 * f + 3) {
    throw new AggregatorError(`${who} needs n >= 4f+3 = ${4 * f + 3} updates per round for f=${f}, got n=${n}${afterDrop(dropped)}`);
  }
}

/** Bulyan's selection: θ indices chosen one at a time by Krum over the not-yet-chosen updates. */
export function bulyanSelect(D: Float64Array, n: number, f: number, theta: number): number[] {
  const remaining = Array.from({ length: n }, (_, i) => i);
  const selected: number[] = [];
  while (selected.length < theta) {
    const scores = krumScores(D, n, remaining, remaining.length - f - 2);
    const pos = argmin(scores);
    selected.push(remaining[pos]!);
    remaining.splice(pos, 1);
  }
  return selected;
}

export class Bulyan extends BaseAggregator {
  constructor(readonly f: number) {
    super(canonicalName(bulyanComponent, { f }), { f });
  }

  override checkClients(n: number): void {
    super.checkClients(n);
    requireBulyanClients(this.name, n, this.f);
  }

  run(updates: Float32Array[], _weights: number[], dropped: number): RunResult {
    const n = updates.length;
    const f = effectiveF(this.f, dropped);
    requireBulyanClients(this.name, n, f, dropped);
    const theta = n - 2 * f;
    const beta = theta - 2 * f;
    const selected = bulyanSelect(pairwiseSqDistances(updates), n, f, theta);
    const chosen = selected.map((i) => updates[i]!);
    return { out: coordinateWise(chosen, (col, m) => meanAroundMedianOf(col, m, beta)), selected };
  }
}
