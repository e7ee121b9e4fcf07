/**
 * **mean** — FedAvg's weighted average (McMahan et al. 2017, "Communication-Efficient Learning of Deep
 * Networks from Decentralized Data").
 *
 *     mean(x_1..x_n; w) = Σ_i w_i x_i / Σ_i w_i,        w_i = n_k (the client's sample count)
 *
 * Parameters: none.
 *
 * Example: mean([1,2], [3,4], [5,9]; w = [1,1,2]) = [3.5, 6].
 *
 * Not robust: one update moves the result arbitrarily far. A NaN/Inf update throws
 * `CorruptUpdateError` naming the clients (never a silent NaN model); call `findCorruptUpdates` first
 * to stop cleanly.
 */
import { BaseAggregator, normalisedWeights, type RunResult } from './base.js';
import { CorruptUpdateError, type AggregatorComponent } from './types.js';
import { weightedMean } from '../../src/fl/flat.js';
import { assertFiniteOutput, checkStack, describeCorrupt, findCorruptUpdates } from './vectors.js';

export { findCorruptUpdates } from './vectors.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const meanComponent: AggregatorComponent = {
  name: 'mean',
  summary: 'weighted mean by sample counts (FedAvg; not robust)',
  role: 'aggregator',
  params: {},
  build: () => new Mean(),
};

export class Mean extends BaseAggregator {
  override readonly dropsNonFinite = false;

  constructor() {
    super('mean', {});
  }

  override aggregate(updates: Float32Array[], weights: number[]): Float32Array {
    const d = checkStack(this.name, updates, weights);
    const corrupt = findCorruptUpdates(updates);
    if (corrupt.length > 0) {
      throw new CorruptUpdateError(
        `mean: ${corrupt.length} of ${updates.length} updates contain NaN/Inf (${describeCorrupt(corrupt, d)}); ` +
          `the model was not updated. Use a robust aggregator (e.g. --aggregator median) to drop such updates`,
        corrupt.map((c) => ({ index: c.index, nonFinite: c.nonFinite })),
      );
    }
    this.lastInfo = { n: updates.length, dropped: [] };
    return assertFiniteOutput(this.name, this.run(updates, weights).out);
  }

  run(updates: Float32Array[], weights: number[]): RunResult {
    return { out: weightedMean(updates, normalisedWeights(this.name, weights)) };
  }
}
