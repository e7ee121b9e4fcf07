/**
 * The server side of a round: client sampling, the default aggregator, and the global model.
 *
 * Sampling (McMahan et al. 2017): each round m = max(1, round(C·K)) distinct clients out of K, drawn
 * uniformly without replacement from a seeded stream; returned in ascending order.
 *
 * Default aggregator `mean` (FedAvg's weighted mean, McMahan et al. 2017, eq. for f(w)):
 * ```
 *   Δ = Σ_k (n_k / n) · Δ_k,        n = Σ_k n_k  over the clients of the round
 * ```
 * Parameters: updates Δ_k (model deltas w_k − w_global, or gradients g_k) as flat host vectors, weights
 * n_k ≥ 0 with Σ n_k > 0. Example: updates [1] and [4] with weights 1 and 3 → 0.25·1 + 0.75·4 = 3.25.
 * Robust aggregators (defenses/aggregation/) implement the same {@link Aggregator} interface.
 */
import { tf } from '../engine/tf.js';
import { unflatten, weightedMean } from './flat.js';
import type { Rng } from '../engine/rng.js';
import { disposeParams, type Params } from '../models/index.js';
import type { Aggregator, Strategy } from './types.js';

/** m = max(1, round(C·K)): the number of clients sampled per round. */
export function clientsPerRound(numClients: number, fraction: number): number {
  if (!(Number.isInteger(numClients) && numClients >= 1)) throw new Error(`number of clients must be an integer >= 1, got ${numClients}`);
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`client fraction must be in (0, 1], got ${fraction}`);
  return Math.min(numClients, Math.max(1, Math.round(fraction * numClients)));
}

/** The clients of one round: clientsPerRound(K, C) distinct indices in 0..K-1, ascending. */
export function sampleClients(numClients: number, fraction: number, rng: Rng): number[] {
  return rng.sample(numClients, clientsPerRound(numClients, fraction)).sort((a, b) => a - b);
}

/** Checks that every update has the same names and shapes as the first (crafted updates must match the model). */
export function checkUpdates(updates: Params[], weights: number[]): void {
  if (updates.length === 0) throw new Error('aggregate: no updates');
  if (weights.length !== updates.length) throw new Error(`aggregate: ${updates.length} updates but ${weights.length} weights`);
  const names = Object.keys(updates[0]!);
  for (const [i, u] of updates.entries()) {
    if (Object.keys(u).length !== names.length) throw new Error(`aggregate: update ${i} has parameters ${Object.keys(u).join(', ')}, expected ${names.join(', ')}`);
    for (const n of names) {
      const t = u[n];
      if (t === undefined) throw new Error(`aggregate: update ${i} has no parameter '${n}'`);
      if (!tf.util.arraysEqual(t.shape, updates[0]![n]!.shape)) {
        throw new Error(`aggregate: update ${i} parameter '${n}' has shape [${t.shape}], expected [${updates[0]![n]!.shape}]`);
      }
    }
  }
  for (const w of weights) if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`aggregate: weights must be finite and >= 0, got ${w}`);
}

/** Checks a stack of flat updates: at least one, equal lengths, finite weights >= 0 with a positive sum. */
function checkStack(updates: readonly Float32Array[], weights: readonly number[]): void {
  if (updates.length === 0) throw new Error('aggregate: no updates');
  if (weights.length !== updates.length) throw new Error(`aggregate: ${updates.length} updates but ${weights.length} weights`);
  for (const [i, u] of updates.entries()) {
    if (u.length !== updates[0]!.length) throw new Error(`aggregate: update ${i} has ${u.length} values, update 0 has ${updates[0]!.length}`);
  }
  for (const w of weights) if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`aggregate: weights must be finite and >= 0, got ${w}`);
  if (!(weights.reduce((a, b) => a + b, 0) > 0)) throw new Error('aggregate: the weights sum to 0');
}

/**
 * The harness's default aggregator: FedAvg's sample-weighted mean of the flat updates ({@link weightedMean},
 * the one mean, also behind defenses/aggregation's `mean`). It cannot drop non-finite updates: the harness
 * stops the run on one.
 */
export const meanAggregator: Aggregator = {
  name: 'mean',
  params: {},
  dropsNonFinite: false,
  aggregate(updates: Float32Array[], weights: number[]): Float32Array {
    checkStack(updates, weights);
    return weightedMean(updates, weights);
  },
  checkClients(n: number): void {
    if (!(Number.isInteger(n) && n >= 1)) throw new Error(`mean: needs at least one update per round, got n=${n}`);
  },
  lastInfo: undefined,
  reset(): void {},
};

/**
 * Holds the global model and applies a round: aggregate the flat updates with the aggregator, then let
 * the strategy turn the aggregate into the next global model. Owns `params` (disposes replaced ones).
 */
export class Server {
  constructor(
    public params: Params,
    readonly strategy: Strategy,
    readonly aggregator: Aggregator = meanAggregator,
  ) {}

  /** One server step: params ← strategy.serverUpdate(params, unflatten(aggregator.aggregate(updates, weights))). */
  applyRound(updates: Float32Array[], weights: number[]): void {
    const aggregate = unflatten(this.aggregator.aggregate(updates, weights), this.params);
    try {
      const next = this.strategy.serverUpdate(this.params, aggregate);
      const keep = new Set(Object.values(next).map((t) => t.id));
      tf.dispose(Object.values(this.params).filter((t) => !keep.has(t.id)));
      this.params = next;
    } finally {
      const keep = new Set(Object.values(this.params).map((t) => t.id));
      tf.dispose(Object.values(aggregate).filter((t) => !keep.has(t.id)));
    }
  }

  dispose(): void {
    disposeParams(this.params);
  }
}
