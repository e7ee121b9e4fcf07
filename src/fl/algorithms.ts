/**
 * Federated algorithms as {@link Strategy} objects: what a client computes and how the server applies
 * the aggregate Δ (the weighted mean by default, or any robust aggregator).
 *
 * FedAvg (McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized Data",
 * AISTATS 2017, Algorithm 1):
 * ```
 *   client k:  E epochs of local SGD (batch B, step η) from w_t  →  sends Δ_k = w_k − w_t
 *   server:    w_{t+1} = w_t + η_s · Σ_k (n_k/n) Δ_k        (η_s = 1: w_{t+1} = Σ_k (n_k/n) w_k)
 * ```
 * Parameters: epochs E (default 5), batchSize B (default 10; 0 = the full local dataset, B = ∞), lr η
 * (default 0.1), serverLr η_s (default 1).
 *
 * FedSGD (same paper, the E = 1, B = ∞ baseline, with clients sending gradients):
 * ```
 *   client k:  g_k = ∇F_k(w_t)  over all n_k local samples
 *   server:    w_{t+1} = w_t − η_s · Σ_k (n_k/n) g_k
 * ```
 * Parameters: serverLr η_s (default 0.1). FedAvg with E = 1, B = ∞, η = η_s is the same algorithm up
 * to rounding.
 *
 * FedProx (Li et al., "Federated Optimization in Heterogeneous Networks", MLSys 2020): FedAvg whose local
 * objective adds the proximal term μ/2·‖w − w_t‖²; μ ∈ {0.001, 0.01, 0.1, 1} in the paper, default
 * 0.01 here. μ = 0 is FedAvg exactly (same operations).
 */
import { tf } from '../engine/tf.js';
import { localGradient, localSgd } from './client.js';
import type { ClientResult, ClientTask, Params, Strategy } from './types.js';

export const ALGORITHM_NAMES = ['fedavg', 'fedsgd', 'fedprox'] as const;
export type AlgorithmName = (typeof ALGORITHM_NAMES)[number];

export interface FedAvgOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  serverLr?: number;
}

export interface FedProxOptions extends FedAvgOptions {
  mu?: number;
}

export interface FedSgdOptions {
  serverLr?: number;
}

export const DEFAULTS = { epochs: 5, batchSize: 10, lr: 0.1, serverLr: 1, fedsgdServerLr: 0.1, mu: 0.01 } as const;

/** w + η_s·Δ (η_s = 1: w + Δ, no multiplication). */
function addScaled(global: Params, aggregate: Params, scale: number): Params {
  const out: Params = {};
  for (const [name, w] of Object.entries(global)) {
    const d = aggregate[name];
    if (d === undefined) throw new Error(`server update: the aggregate has no parameter '${name}'`);
    out[name] = tf.tidy(() => (scale === 1 ? tf.add(w, d) : tf.add(w, tf.mul(d, scale))));
  }
  return out;
}

function checkPositive(name: string, v: number): void {
  if (!(v > 0) || !Number.isFinite(v)) throw new Error(`${name} must be a finite number > 0, got ${v}`);
}

function localStrategy(name: 'fedavg' | 'fedprox', o: FedProxOptions, mu: number): Strategy {
  const epochs = o.epochs ?? DEFAULTS.epochs;
  const batchSize = o.batchSize ?? DEFAULTS.batchSize;
  const lr = o.lr ?? DEFAULTS.lr;
  const serverLr = o.serverLr ?? DEFAULTS.serverLr;
  checkPositive('lr', lr);
  checkPositive('server lr', serverLr);
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`local epochs must be an integer >= 1, got ${epochs}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 0)) throw new Error(`batch size must be an integer >= 0 (0 = full batch), got ${batchSize}`);
  if (!(mu >= 0) || !Number.isFinite(mu)) throw new Error(`mu must be a finite number >= 0, got ${mu}`);
  return {
    name,
    kind: 'update',
    clientUpdate: (task: ClientTask): Promise<ClientResult> => localSgd(task, { epochs, batchSize, lr, mu }),
    serverUpdate: (global, aggregate) => addScaled(global, aggregate, serverLr),
    settings: name === 'fedprox' ? { algorithm: 'fedprox', epochs, batchSize, lr, serverLr, mu } : { algorithm: 'fedavg', epochs, batchSize, lr, serverLr },
  };
}

/** FedAvg (see the file header). */
export function fedavg(o: FedAvgOptions = {}): Strategy {
  return localStrategy('fedavg', o, 0);
}

/** FedProx: FedAvg with the proximal term μ/2·‖w − w_t‖² in the local objective. */
export function fedprox(o: FedProxOptions = {}): Strategy {
  return localStrategy('fedprox', o, o.mu ?? DEFAULTS.mu);
}

/** FedSGD: clients send full-batch gradients, the server takes one step of size η_s. */
export function fedsgd(o: FedSgdOptions = {}): Strategy {
  const serverLr = o.serverLr ?? DEFAULTS.fedsgdServerLr;
  checkPositive('server lr', serverLr);
  return {
    name: 'fedsgd',
    kind: 'gradient',
    clientUpdate: async (task: ClientTask): Promise<ClientResult> => {
      const { grads, loss } = await localGradient(task);
      const n = task.data.indices.length;
      return { kind: 'gradient', delta: grads, numSamples: n, batchSize: n, localSteps: 1, epochs: 1, lr: serverLr, loss, epochOrders: [task.data.indices.slice()] };
    },
    serverUpdate: (global, aggregate) => addScaled(global, aggregate, -serverLr),
    settings: { algorithm: 'fedsgd', serverLr },
  };
}

export interface AlgorithmOptions extends FedProxOptions {}

/** A strategy by name; options that do not apply to it are ignored (FedSGD uses serverLr only). Also
 *  rebuilds a built-in strategy from its {@link Strategy.settings} (worker threads). */
export function makeStrategy(name: string, o: AlgorithmOptions = {}): Strategy {
  switch (name) {
    case 'fedavg':
      return fedavg(o);
    case 'fedprox':
      return fedprox(o);
    case 'fedsgd':
      return fedsgd(o.serverLr !== undefined ? { serverLr: o.serverLr } : {});
    default:
      throw new Error(`unknown algorithm '${name}' (known: ${ALGORITHM_NAMES.join(', ')})`);
  }
}
