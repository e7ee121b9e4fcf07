/**
 * **geomed** — geometric median by the smoothed Weiszfeld algorithm, as in RFA (Pillutla, Kakade,
 * Harchaoui 2022, "Robust Aggregation for Federated Learning", IEEE TSP; Weiszfeld 1937).
 *
 *     geomed(x; α) = argmin_z Σ_i α_i ‖z − x_i‖,               α_i = w_i / Σ w
 *     z ← Σ_i β_i x_i / Σ_i β_i,   β_i = α_i / max(ε, ‖z − x_i‖)   (one Weiszfeld step)
 *
 * repeated until the objective improves by less than tol·objective, or maxIter steps.
 *
 * Parameters:
 * - `eps` (number > 0, default 1e-6): smoothing ε, keeps the step defined when z meets an x_i (RFA's ν).
 * - `maxIter` (int ≥ 1, default 100): at most this many Weiszfeld steps.
 * - `tol` (number ≥ 0, default 1e-6): relative objective improvement under which it stops (RFA).
 * - `init` (median | mean | zero, default median): the starting point. The coordinate-wise median keeps
 *   a huge outlier from dragging the start away; ByzFL and FLPoison start from zero and run 3 steps
 *   (`geomed:init=zero,maxIter=3,tol=0`, with ByzFL's `eps=0.1`).
 * The weights (sample counts) enter as α, as in RFA.
 *
 * Example: the geometric median of [0,0], [1,0], [0,1] (equal weights) is the Fermat point
 * (0.2113, 0.2113); of [0], [1], [100] it is [1].
 *
 * Breakdown point 1/2. Non-finite updates are dropped first. Cost per step: 2·n·d.
 */
import { BaseAggregator, canonicalName, normalisedWeights, type RunResult } from './base.js';
import { coordinateMedian } from './median.js';
import type { AggregatorComponent } from './types.js';
import { sqDist, weightedMean64 } from './vectors.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const geomedComponent: AggregatorComponent = {
  name: 'geomed',
  summary: 'geometric median by smoothed Weiszfeld (RFA, Pillutla et al.)',
  role: 'aggregator',
  params: {
    eps: { type: 'number', above: 0, default: 1e-6, description: 'smoothing: distances below eps count as eps' },
    maxIter: { type: 'int', min: 1, default: 100, description: 'maximum Weiszfeld steps' },
    tol: { type: 'number', min: 0, default: 1e-6, description: 'stop when the objective improves by less than tol*objective' },
    init: { type: 'string', choices: ['median', 'mean', 'zero'], default: 'median', description: 'starting point' },
  },
  build: (v) => new Geomed({ eps: v['eps'] as number, maxIter: v['maxIter'] as number, tol: v['tol'] as number, init: v['init'] as GeomedOptions['init'] }),
};

export interface GeomedOptions {
  eps: number;
  maxIter: number;
  tol: number;
  init: 'median' | 'mean' | 'zero';
}

/** Smoothed Weiszfeld on a stack; returns the point (float64) and the number of steps taken. */
export function geometricMedian(
  updates: readonly Float32Array[],
  alpha: readonly number[],
  o: GeomedOptions,
): { z: Float64Array; iterations: number; objective: number } {
  const n = updates.length;
  const d = updates[0]!.length;
  let z: Float64Array =
    o.init === 'median' ? Float64Array.from(coordinateMedian(updates)) : o.init === 'mean' ? weightedMean64(updates, alpha) : new Float64Array(d);
  const dist = new Float64Array(n);
  let prev = Infinity;
  let objective = Infinity;
  let iterations = 0;
  for (let t = 0; t <= o.maxIter; t++) {
    objective = 0;
    for (let i = 0; i < n; i++) {
      dist[i] = Math.sqrt(sqDist(updates[i]!, z));
      objective += alpha[i]! * dist[i]!;
    }
    if (t === o.maxIter || prev - objective <= o.tol * objective) break;
    prev = objective;
    const next = new Float64Array(d);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const b = alpha[i]! / Math.max(o.eps, dist[i]!);
      if (b === 0) continue;
      total += b;
      const x = updates[i]!;
      for (let j = 0; j < d; j++) next[j]! += b * x[j]!;
    }
    for (let j = 0; j < d; j++) next[j]! /= total;
    z = next;
    iterations++;
  }
  return { z, iterations, objective };
}

export class Geomed extends BaseAggregator {
  constructor(readonly options: GeomedOptions) {
    super(canonicalName(geomedComponent, { ...options }), { ...options });
  }

  run(updates: Float32Array[], weights: number[]): RunResult {
    const { z, iterations } = geometricMedian(updates, normalisedWeights(this.name, weights), this.options);
    return { out: Float32Array.from(z), iterations };
  }
}
