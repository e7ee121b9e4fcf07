/**
 * **multi-krum** — Multi-Krum (Blanchard, El Mhamdi, Guerraoui, Stainer 2017, "Machine Learning with
 * Adversaries: Byzantine Tolerant Gradient Descent", NeurIPS).
 *
 *     score(i)       = Σ_{j ∈ N_i} ‖x_i − x_j‖²,   N_i = the n − f − 2 nearest other updates
 *     multikrum(x)   = 1/m · Σ_{i ∈ S} x_i,       S = the m updates with the smallest scores
 *
 * Parameters: `f` (int ≥ 0; default: the run's --byzantine); `m` (int ≥ 1; default n − f, as in
 * ByzFL), capped at the number of finite updates. Precondition n ≥ 2f + 3. Weights are ignored (plain
 * average of the selected, as in the paper and ByzFL).
 *
 * Example (f = 1, m = 2): [0,0], [0,1], [1,0], [0.5,0.5], [100,100] → the two best-scored are
 * [0.5,0.5] (score 1) and [0,0] (score 1.5): result [0.25, 0.25].
 *
 * Scores are computed once (not iteratively, unlike Bulyan's selection). Non-finite updates are
 * dropped first (f' = max(0, f − dropped)).
 */
import { BaseAggregator, canonicalName, effectiveF, resolveF, type RunResult } from './base.js';
import { fParam, krumScores, requireKrumClients } from './krum.js';
import { AggregatorError, type AggregatorComponent } from './types.js';
import { mean, pairwiseSqDistances } from './vectors.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const multiKrumComponent: AggregatorComponent = {
  name: 'multi-krum',
  summary: 'average of the m best Krum-scored updates (Blanchard et al. 2017; n >= 2f+3)',
  role: 'aggregator',
  params: {
    f: fParam,
    m: { type: 'int', min: 1, defaultText: 'n - f', description: 'number of updates selected and averaged' },
  },
  build: (v, ctx) => new MultiKrum(resolveF('multi-krum', v, ctx), v['m'] as number | undefined),
};

/** Indices of the m smallest scores, best first (ties: lower index first). */
export function bestM(scores: readonly number[], m: number): number[] {
  return scores
    .map((s, i) => [s, i] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .slice(0, m)
    .map(([, i]) => i);
}

export class MultiKrum extends BaseAggregator {
  constructor(
    readonly f: number,
    readonly m: number | undefined,
  ) {
    super(canonicalName(multiKrumComponent, { f, m }), m === undefined ? { f } : { f, m });
  }

  override checkClients(n: number): void {
    super.checkClients(n);
    requireKrumClients(this.name, n, this.f);
    if (this.m !== undefined && this.m > n) throw new AggregatorError(`${this.name}: cannot select m=${this.m} of n=${n} updates per round`);
  }

  run(updates: Float32Array[], _weights: number[], dropped: number): RunResult {
    const n = updates.length;
    const f = effectiveF(this.f, dropped);
    requireKrumClients(this.name, n, f, dropped);
    const m = Math.min(this.m ?? n - f, n);
    const scores = krumScores(pairwiseSqDistances(updates), n, updates.map((_, i) => i), n - f - 2);
    const selected = bestM(scores, m);
    return { out: mean(selected.map((i) => updates[i]!)), selected };
  }
}
