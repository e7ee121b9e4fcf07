/**
 * **ipm** — inner-product manipulation (Xie, Koyejo, Gupta 2020, "Fall of Empires: Breaking
 * Byzantine-tolerant SGD by Inner Product Manipulation", UAI).
 *
 *     x_byz = −ε · (1/|H|) Σ_{i ∈ H} x_i            (H: this round's honest updates)
 *
 * Parameters: `eps` ε (number > 0, default 0.1, FLPoison's default: small ε slips past Krum and
 * Bulyan; large ε, e.g. 10 or 100, breaks the mean and median-like rules). ByzFL's FallOfEmpires(τ)
 * sends (1 − τ)·mean, i.e. ε = τ − 1 (its default τ = 3 is ε = 2); ByzFL's SignFlipping is ε = 1.
 * Threat model: omniscient (sees the honest updates).
 *
 * Example: honest [1, 2] and [3, 4], ε = 0.5 → −0.5 · [2, 3] = [−1, −1.5].
 */
import { canonicalSpec } from '../../src/core/spec.js';
import { requireHonest, type CraftContext, type MaliciousCraft, type PoisoningComponent } from './types.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const ipmComponent: PoisoningComponent = {
  name: 'ipm',
  summary: 'send -eps times the mean of the honest updates (Xie et al. 2020; omniscient)',
  params: {
    eps: { type: 'number', above: 0, default: 0.1, description: 'epsilon: small slips past Krum/Bulyan, large breaks mean/median' },
  },
  build: (v) => new Ipm(v['eps'] as number),
};

/** −ε · mean(honest), accumulated in float64. */
export function ipmVector(honest: readonly Float32Array[], eps: number): Float32Array {
  const d = honest[0]!.length;
  const acc = new Float64Array(d);
  for (const h of honest) for (let j = 0; j < d; j++) acc[j]! += h[j]!;
  const out = new Float32Array(d);
  const s = -eps / honest.length;
  for (let j = 0; j < d; j++) out[j] = s * acc[j]!;
  return out;
}

export class Ipm implements MaliciousCraft {
  readonly name: string;
  readonly params: { eps: number };
  readonly seesHonestUpdates = true;
  readonly needsOwnUpdate = false;

  constructor(readonly eps = 0.1) {
    this.name = canonicalSpec(ipmComponent, { eps });
    this.params = { eps };
  }

  craft(ctx: CraftContext): Float32Array {
    return ipmVector(requireHonest(this.name, ctx), this.eps);
  }
}
