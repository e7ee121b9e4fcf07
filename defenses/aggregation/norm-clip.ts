/**
 * **norm-clip** — norm bounding, optionally with "weak differential privacy" noise (Sun, Kairouz,
 * Suresh, McMahan 2019, "Can You Really Backdoor Federated Learning?").
 *
 *     norm-clip(x; w) = Σ_i w_i · x_i · min(1, M / ‖x_i‖) / Σ_i w_i  +  N(0, σ² I)
 *
 * Parameters:
 * - `bound` M (number > 0, default 3, FLPoison's norm_threshold): L2 bound on every update.
 * - `noise` σ (number ≥ 0, default 0): std of Gaussian noise added to every coordinate of the
 *   aggregate (the paper's weak DP; FLPoison adds it per client instead). Seeded from the run's seed.
 * Weighted by sample counts, like FedAvg.
 *
 * Example: bound = 1, updates [3,4] and [0,0.5], equal weights: [3,4] is scaled to [0.6,0.8]; result
 * [0.3, 0.65].
 *
 * In a chain (`norm-clip:bound=5+median`) it acts as the `clip` pre-aggregator (noise must be 0 there).
 * Non-finite updates are dropped first.
 */
import { SpecError } from '../../src/core/spec.js';
import { Rng } from '../../src/engine/rng.js';
import { BaseAggregator, canonicalName, normalisedWeights, type RunResult } from './base.js';
import { Clip } from './clip.js';
import type { AggregatorComponent } from './types.js';
import { clipToNorm, weightedMean } from './vectors.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const normClipComponent: AggregatorComponent = {
  name: 'norm-clip',
  summary: 'clip every update to L2 norm <= bound, weighted mean, optional Gaussian noise (Sun et al. 2019)',
  role: 'aggregator',
  params: {
    bound: { type: 'number', above: 0, default: 3, description: 'L2 norm bound M on every update' },
    noise: { type: 'number', min: 0, default: 0, description: 'std of Gaussian noise added to each coordinate of the aggregate' },
  },
  build: (v, ctx) => new NormClip(v['bound'] as number, v['noise'] as number, ctx.seed ?? 0),
  buildPre: (v) => {
    if ((v['noise'] as number) !== 0) throw new SpecError('norm-clip before another aggregator only clips; noise applies only when norm-clip ends the chain');
    return new Clip(v['bound'] as number);
  },
};

export class NormClip extends BaseAggregator {
  private readonly rng: Rng;

  constructor(
    readonly bound: number,
    readonly noise: number,
    seed = 0,
  ) {
    super(canonicalName(normClipComponent, { bound, noise }), { bound, noise });
    this.rng = new Rng(seed).fork('norm-clip');
  }

  run(updates: Float32Array[], weights: number[]): RunResult {
    const out = weightedMean(
      updates.map((u) => clipToNorm(u, this.bound)),
      normalisedWeights(this.name, weights),
    );
    if (this.noise > 0) for (let j = 0; j < out.length; j++) out[j]! += this.noise * this.rng.normal();
    return { out };
  }
}
