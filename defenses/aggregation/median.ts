/**
 * **median** — coordinate-wise median (Yin, Chen, Ramchandran, Bartlett 2018, "Byzantine-Robust
 * Distributed Learning: Towards Optimal Statistical Rates", ICML).
 *
 *     [median(x_1..x_n)]_j = median(x_{1,j}, ..., x_{n,j})   for every coordinate j
 *
 * with the mean of the two middle values when n is even (numpy's convention, as in ByzFL).
 *
 * Parameters: none. Weights are ignored (a Byzantine client could claim any sample count).
 *
 * Example: median([1], [2], [100]) = [2]; median([1,5], [2,6], [100,-7]) = [2, 5].
 *
 * Robust to fewer than n/2 arbitrary updates per coordinate. Non-finite updates are dropped first.
 * Cost: O(n·d) (a quickselect of n values per coordinate).
 */
import { BaseAggregator, type RunResult } from './base.js';
import type { AggregatorComponent } from './types.js';
import { coordinateWise, medianOf } from './vectors.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const medianComponent: AggregatorComponent = {
  name: 'median',
  summary: 'coordinate-wise median (Yin et al. 2018)',
  role: 'aggregator',
  params: {},
  build: () => new Median(),
};

/** Coordinate-wise median of a stack. */
export function coordinateMedian(updates: readonly Float32Array[]): Float32Array {
  return coordinateWise(updates, medianOf);
}

export class Median extends BaseAggregator {
  constructor() {
    super('median', {});
  }

  run(updates: Float32Array[]): RunResult {
    return { out: coordinateMedian(updates) };
  }
}
