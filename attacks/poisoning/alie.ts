/**
 * **alie** — "A Little Is Enough" (Baruch, Baruch, Goldberg 2019, "A Little Is Enough: Circumventing
 * Defenses For Distributed Learning", NeurIPS).
 *
 *     s     = ⌊n/2 + 1⌋ − f                  (honest clients the attacker needs "behind" it)
 *     z_max = Φ⁻¹((n − s) / n)               (Φ: the standard normal CDF)
 *     x_byz = μ − z_max · σ                  (per coordinate; μ, σ: mean and std of the honest updates)
 *
 * with n the clients aggregated in the round and f the Byzantine among them. Every Byzantine client
 * sends the same vector. σ is the population standard deviation (numpy's default, as FLPoison).
 *
 * Parameters: `z` (number; default: z_max from n and f as above) overrides the factor. ByzFL's
 * ALittleIsEnough(τ = 1.5) sends μ + τ·σ with the sample std: `alie:z=-1.5` up to the std's ddof.
 * FLPoison's variant computes z from the honest count, Φ⁻¹((n − f − s)/(n − f)).
 * Threat model: omniscient (sees the honest updates).
 *
 * Example: n = 50, f = 12 → s = 14, z = Φ⁻¹(36/50) = Φ⁻¹(0.72) = 0.5828; n = 50, f = 24 → z = 1.7507.
 * Honest [0, 1] and [2, 3] with z = 1 → μ = [1, 2], σ = [1, 1] → [0, 1].
 *
 * Φ⁻¹ is Acklam's rational approximation (relative error < 1.15e-9 over (0, 1)).
 */
import { canonicalSpec } from '../../src/core/spec.js';
import { AttackError, requireHonest, type CraftContext, type MaliciousCraft, type PoisoningComponent } from './types.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const alieComponent: PoisoningComponent = {
  name: 'alie',
  summary: 'send mean - z*std of the honest updates, z from n and f (Baruch et al. 2019; omniscient)',
  params: {
    z: { type: 'number', defaultText: 'z_max = PhiInverse((n - s)/n), s = floor(n/2+1) - f', description: 'factor of the per-coordinate std' },
  },
  build: (v) => new Alie(v['z'] as number | undefined),
};

// Acklam's coefficients.
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

/**
 * Φ⁻¹(p): the standard normal quantile (Acklam's algorithm). Throws RangeError outside (0, 1).
 * Φ⁻¹(0.975) = 1.959964, Φ⁻¹(0.5) = 0.
 */
export function inverseNormalCdf(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`inverseNormalCdf needs 0 < p < 1, got ${p}`);
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  }
  if (p > 1 - P_LOW) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) / (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1);
}

/** ALIE's z_max for n clients of which f Byzantine: Φ⁻¹((n − s)/n), s = ⌊n/2 + 1⌋ − f. */
export function alieZ(n: number, f: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(f) || n < 1 || f < 0 || f > n) {
    throw new AttackError(`alie: needs integers 0 <= f <= n, got n=${n}, f=${f}`);
  }
  const s = Math.floor(n / 2 + 1) - f;
  const p = (n - s) / n;
  if (!(p > 0 && p < 1)) {
    throw new AttackError(`alie: z_max is undefined for n=${n}, f=${f} ((n-s)/n = ${p}; f is a majority); give z explicitly, e.g. alie:z=1.5`);
  }
  return inverseNormalCdf(p);
}

/** μ − z·σ per coordinate over the stack (population σ), accumulated in float64. */
export function alieVector(honest: readonly Float32Array[], z: number): Float32Array {
  const m = honest.length;
  const d = honest[0]!.length;
  const out = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += honest[i]![j]!;
    const mu = s / m;
    let v = 0;
    for (let i = 0; i < m; i++) {
      const t = honest[i]![j]! - mu;
      v += t * t;
    }
    out[j] = mu - z * Math.sqrt(v / m);
  }
  return out;
}

export class Alie implements MaliciousCraft {
  readonly name: string;
  readonly params: { z?: number };
  readonly seesHonestUpdates = true;
  readonly needsOwnUpdate = false;
  /** The z used in the last craft (for reports). */
  lastZ: number | undefined;

  constructor(readonly z?: number) {
    this.name = canonicalSpec(alieComponent, { z });
    this.params = z === undefined ? {} : { z };
  }

  craft(ctx: CraftContext): Float32Array {
    const z = this.z ?? alieZ(ctx.numClients, ctx.numByzantine);
    this.lastZ = z;
    return alieVector(requireHonest(this.name, ctx), z);
  }
}
