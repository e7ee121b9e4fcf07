/**
 * **gaussian** — send pure Gaussian noise (the Byzantine behaviour evaluated by Blanchard et al. 2017,
 * "Machine Learning with Adversaries: Byzantine Tolerant Gradient Descent", NeurIPS; FLPoison's
 * Gaussian attack).
 *
 *     x_byz ~ N(mu, sigma² I_d)
 *
 * Parameters: `sigma` (number ≥ 0, default 1, FLPoison's noise_std), `mu` (number, default 0).
 * Blanchard et al. used sigma = 200; on a d = 1.66M CNN even sigma = 1 gives an update of norm
 * ≈ sqrt(d) ≈ 1290, far above honest updates. Threat model: not omniscient, no training needed.
 *
 * Example: gaussian:sigma=100 → every coordinate an independent draw of N(0, 100²).
 */
import { canonicalSpec } from '../../src/core/spec.js';
import { updateDim, type CraftContext, type MaliciousCraft, type PoisoningComponent } from './types.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const gaussianComponent: PoisoningComponent = {
  name: 'gaussian',
  summary: 'send N(mu, sigma^2) noise in every coordinate (Blanchard et al. 2017)',
  params: {
    sigma: { type: 'number', min: 0, default: 1, description: 'standard deviation of every coordinate' },
    mu: { type: 'number', default: 0, description: 'mean of every coordinate' },
  },
  build: (v) => new Gaussian(v['sigma'] as number, v['mu'] as number),
};

export class Gaussian implements MaliciousCraft {
  readonly name: string;
  readonly params: { sigma: number; mu: number };
  readonly seesHonestUpdates = false;
  readonly needsOwnUpdate = false;

  constructor(
    readonly sigma = 1,
    readonly mu = 0,
  ) {
    this.name = canonicalSpec(gaussianComponent, { sigma, mu });
    this.params = { sigma, mu };
  }

  craft(ctx: CraftContext): Float32Array {
    return ctx.rng.normalArray(updateDim(this.name, ctx), this.mu, this.sigma);
  }
}
