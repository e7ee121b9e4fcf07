/**
 * **trimmed-mean** — coordinate-wise β-trimmed mean (Yin, Chen, Ramchandran, Bartlett 2018,
 * "Byzantine-Robust Distributed Learning: Towards Optimal Statistical Rates", ICML).
 *
 *     [trmean_b(x_1..x_n)]_j = 1/(n − 2b) · Σ_{i=b+1}^{n−b} x_{(i),j}
 *
 * where x_{(1),j} ≤ ... ≤ x_{(n),j} are the j-th coordinates sorted: the b smallest and b largest
 * values of every coordinate are removed and the rest averaged.
 *
 * Parameters:
 * - `beta` (number in [0, 0.5)): fraction trimmed from each side, b = ⌊β·n⌋ (Yin et al.'s form;
 *   FLPoison's).
 * - `f` (int ≥ 0; default: the run's --byzantine): used when `beta` is not given, b = f (ByzFL's
 *   TrMean(f)). Requires n > 2b.
 * Weights are ignored.
 *
 * Example: trimmed-mean:beta=0.2 over [1], [2], [3], [4], [100]: b = 1, mean(2, 3, 4) = [3].
 *
 * Non-finite updates are dropped first; with `f`, b = max(0, f − dropped).
 */
import { afterDrop, BaseAggregator, canonicalName, effectiveF, resolveF, type RunResult } from './base.js';
import { AggregatorError, type AggregatorComponent } from './types.js';
import { coordinateWise, trimmedMeanOf } from './vectors.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const trimmedMeanComponent: AggregatorComponent = {
  name: 'trimmed-mean',
  summary: 'coordinate-wise trimmed mean: drop the b largest and b smallest per coordinate (Yin et al. 2018)',
  role: 'aggregator',
  params: {
    beta: { type: 'number', min: 0, below: 0.5, defaultText: 'unset (then b = f)', description: 'fraction trimmed from each side, b = floor(beta*n)' },
    f: { type: 'int', min: 0, defaultText: "the run's --byzantine", description: 'values trimmed from each side when beta is not given' },
  },
  build: (v, ctx) => (v['beta'] !== undefined ? new TrimmedMean(v['beta'] as number, undefined) : new TrimmedMean(undefined, resolveF('trimmed-mean', v, ctx))),
};

/** Coordinate-wise mean without the b smallest and b largest values; needs n > 2b. */
export function coordinateTrimmedMean(updates: readonly Float32Array[], b: number): Float32Array {
  return coordinateWise(updates, (col, n) => trimmedMeanOf(col, n, b));
}

export class TrimmedMean extends BaseAggregator {
  /** Exactly one of beta, f is set. */
  constructor(
    readonly beta: number | undefined,
    readonly f: number | undefined,
  ) {
    super(canonicalName(trimmedMeanComponent, beta !== undefined ? { beta } : { f }), beta !== undefined ? { beta } : { f: f! });
  }

  /** Values trimmed from each side for n finite updates. */
  trimCount(n: number, dropped: number): number {
    return this.beta !== undefined ? Math.floor(this.beta * n) : effectiveF(this.f!, dropped);
  }

  override checkClients(n: number): void {
    super.checkClients(n);
    const b = this.trimCount(n, 0);
    if (n <= 2 * b) throw new AggregatorError(`${this.name}: needs n > 2b updates to trim b=${b} from each side, got n=${n}`);
  }

  run(updates: Float32Array[], _weights: number[], dropped: number): RunResult {
    const n = updates.length;
    const b = this.trimCount(n, dropped);
    if (n <= 2 * b) {
      throw new AggregatorError(`${this.name}: needs n > 2b updates to trim b=${b} from each side, got n=${n}${afterDrop(dropped)}`);
    }
    return { out: coordinateTrimmedMean(updates, b) };
  }
}
