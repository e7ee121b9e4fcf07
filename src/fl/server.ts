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
 * Parameters: updates Δ_k (model deltas w_k − w_global, or gradients g_k), weights n_k ≥ 0 with Σ n_k > 0.
 * Example: updates [1] and [4] with weights 1 and 3 → 0.25·1 + 0.75·4 = 3.25.
 * Robust aggregators (defenses/aggregation/) implement the same {@link Aggregator} interface.
 */
import { tf } from '../engine/tf.js';
import { flatten } from './flat.js';
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

/** Checks that every update has the same names and shapes as the first. */
export function checkUpdates(updates: Params[], weights: number[]): void {
  if (updates.length === 0) throw new Error('aggregate: no updates');
  if (weights.length !== updates.length) throw new Error(`aggregate: ${updates.length} updates but ${weights.length} weights`);
  const names = Object.keys(updates[0]!);
  for (const [i, u] of updates.entries()) {
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

/** The weighted mean Σ_k (n_k/n)·Δ_k (see the file header). Sums in client order (deterministic). */
export function weightedMean(updates: Params[], weights: number[]): Params {
  checkUpdates(updates, weights);
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new Error('aggregate: the weights sum to 0');
  const out: Params = {};
  for (const name of Object.keys(updates[0]!)) {
    out[name] = tf.tidy(() => {
      let acc: tf.Tensor | null = null;
      updates.forEach((u, k) => {
        const w = weights[k]! / total;
        if (w === 0) return;
        const term = tf.mul(u[name]!, w);
        acc = acc === null ? term : tf.add(acc, term);
      });
      return acc!;
    });
  }
  return out;
}

/** Concatenates parameters (in their key order) into one host vector (one read-back on a GPU). */
export const paramsToFlat: (p: Params) => Promise<Float32Array> = flatten;

/** The inverse of {@link paramsToFlat}: a host vector cut into tensors shaped like `like`. */
export function flatToParams(v: Float32Array, like: Params): Params {
  const total = Object.values(like).reduce((s, t) => s + t.size, 0);
  if (v.length !== total) throw new Error(`flat vector has ${v.length} values, the parameters ${total}`);
  const out: Params = {};
  let at = 0;
  for (const [name, t] of Object.entries(like)) {
    out[name] = tf.tensor(v.subarray(at, at + t.size), t.shape, 'float32');
    at += t.size;
  }
  return out;
}

/**
 * An {@link Aggregator} over Params from one over flat host vectors (defenses/aggregation/ works on
 * stacks of Float32Array): flattens every update, aggregates, reshapes the result.
 */
export function fromFlatAggregator(flat: { name: string; aggregate(updates: Float32Array[], weights: number[]): Float32Array }): Aggregator {
  return {
    name: flat.name,
    async aggregate(updates: Params[], weights: number[]): Promise<Params> {
      checkUpdates(updates, weights);
      const flats = await Promise.all(updates.map(paramsToFlat));
      return flatToParams(flat.aggregate(flats, weights), updates[0]!);
    },
  };
}

/** The default aggregator: FedAvg's sample-weighted mean. */
export const meanAggregator: Aggregator = { name: 'mean', aggregate: weightedMean };

/**
 * Holds the global model and applies a round: aggregate the updates with the aggregator, then let the
 * strategy turn the aggregate into the next global model. Owns `params` (disposes replaced ones).
 */
export class Server {
  constructor(
    public params: Params,
    readonly strategy: Strategy,
    readonly aggregator: Aggregator = meanAggregator,
  ) {}

  /** One server step: params ← strategy.serverUpdate(params, aggregator.aggregate(updates, weights)). */
  async applyRound(updates: Params[], weights: number[]): Promise<void> {
    const aggregate = await this.aggregator.aggregate(updates, weights);
    try {
      const next = this.strategy.serverUpdate(this.params, aggregate);
      const keep = new Set(Object.values(next).map((t) => t.id));
      tf.dispose(Object.values(this.params).filter((t) => !keep.has(t.id)));
      this.params = next;
    } finally {
      const keep = new Set(Object.values(this.params).map((t) => t.id));
      const inputs = new Set(updates.flatMap((u) => Object.values(u).map((t) => t.id)));
      tf.dispose(Object.values(aggregate).filter((t) => !keep.has(t.id) && !inputs.has(t.id)));
    }
  }

  dispose(): void {
    disposeParams(this.params);
  }
}
