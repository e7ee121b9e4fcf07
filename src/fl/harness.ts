/**
 * The federated round loop. It knows nothing about attacks or defenses; they plug in as data:
 *
 * ```
 * for round t = 1..T:
 *   S_t ← m = max(1, round(C·K)) clients sampled from a stream derived from (seed, t)
 *   for k ∈ S_t, honest:     result_k ← strategy.clientUpdate(w_t, data_k)   then each UpdateTransform
 *   v_k ← flatten(Δ_k) once per update (src/fl/flat.ts): the honest vectors are shared with the
 *                            malicious clients and every vector with the aggregator
 *   for k ∈ S_t, malicious:  Δ_k ← behaviour.craft(ctx_k)   (ctx_k sees w_t, its data, the honest updates)
 *   for k ∈ S_t (in order):  every Observer gets Observation(t, k, Δ_k, n_k, B, steps, η, w_t, model)
 *   any v_k with NaN/Inf:    found once here; an aggregator without `dropsNonFinite` (the mean): throw
 *                            NonFiniteUpdateError, nothing aggregated; one with it (robust rules) drops
 *                            them itself: listed as droppedClients in the metrics
 *   w_{t+1} ← strategy.serverUpdate(w_t, unflatten(aggregator.aggregate([v_k], [n_k])))
 *   every `evalEvery` rounds and at the last: test accuracy and loss of w_{t+1}; extraMetrics(t, w_{t+1})
 *   checkpoint (params, round, metrics) when a run directory is given
 * ```
 * Clients with no samples are skipped when sampled (they have nothing to send). Every random draw
 * comes from `derivedRng(seed, label)` with a label naming the purpose, round and client, so a run
 * resumed from a checkpoint draws exactly what the uninterrupted run would have.
 *
 * Tensors: the harness uploads the training and test sets once (or uses DataTensors given to it), owns
 * the global model and every update, and disposes all of them; the returned `params` belong to the caller.
 *
 * Parallelism: with `workers: N > 1` the honest clients of a round train in N worker threads (wasm is
 * single-threaded in Node); results are bit-identical to in-thread training. Observers, transforms,
 * malicious clients, aggregation and evaluation stay in this thread.
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import { UserError } from '../core/errors.js';
import type { Dataset } from '../../datasets/types.js';
import { createModel, disposeParams, type Model, type ModelOptions, type Params } from '../models/index.js';
import { CheckpointError, loadCheckpointParams, readCheckpointState, saveCheckpoint } from './checkpoint.js';
import { Client, dataTensors, disposeData, makeClients, type DataTensors } from './client.js';
import { ClientWorkerPool } from './client-worker.js';
import { evaluate } from './evaluate.js';
import { checkUpdates, meanAggregator, sampleClients, Server } from './server.js';
import { flatten, isFiniteVector } from './flat.js';
import type {
  Aggregator, ClientBehaviour, ClientResult, LocalData, LocalHooks, Observation, ObservationTruth, Observer,
  RoundContext, RoundMetrics, Strategy, UpdateKind, UpdateTransform,
} from './types.js';

/** A seeded stream for one purpose: `new Rng(seed).fork(label)`, e.g. label 'sample:3', 'client:3:17'. */
export function derivedRng(seed: number, label: string): Rng {
  return new Rng(seed).fork(label);
}

/**
 * An update with NaN/Inf coordinates reached an aggregator that cannot drop it (no `dropsNonFinite`):
 * the round is abandoned before aggregation, so no corrupt model is ever trained on or evaluated.
 */
export class NonFiniteUpdateError extends UserError {
  constructor(
    readonly round: number,
    readonly clients: number[],
    readonly completedRounds: number,
  ) {
    super(
      `round ${round}: the update${clients.length > 1 ? 's' : ''} of client${clients.length > 1 ? 's' : ''} ${clients.join(', ')} contain${clients.length > 1 ? '' : 's'} NaN/Inf values; ` +
        `the mean aggregator cannot use ${clients.length > 1 ? 'them' : 'it'}, so training stopped (${completedRounds} completed round${completedRounds === 1 ? '' : 's'} kept); ` +
        'a robust aggregator (e.g. --aggregator median) drops such updates',
    );
    this.name = 'NonFiniteUpdateError';
  }
}

/** Configuration keys that may change when a run is resumed (they do not change what is trained). */
export const RESUME_MUTABLE_KEYS = ['rounds', 'evalEvery', 'evalBatchSize', 'dataDir'];

export interface HarnessEvents {
  onRoundStart?(round: number, sampled: number[]): void | Promise<void>;
  /** A client starts its local procedure of `steps` local steps (nominal, from the strategy's settings). */
  onClientStart?(info: { round: number; clientIndex: number; position: number; count: number; epochs: number; steps: number; malicious: boolean }): void | Promise<void>;
  onLocalEpoch?(info: { round: number; clientIndex: number; epoch: number; epochs: number }): void | Promise<void>;
  onLocalStep?(info: { round: number; clientIndex: number; step: number; steps: number }): void | Promise<void>;
  onRoundEnd?(metrics: RoundMetrics, history: RoundMetrics[]): void | Promise<void>;
}

export interface FederatedOptions {
  model: Model;
  /** Training set: a Dataset (uploaded once, disposed at the end) or tensors already on the backend. */
  train: Dataset | DataTensors;
  /** Test set for the per-round evaluation (none: accuracy and loss are null). */
  test?: Dataset | DataTensors;
  /** Each client's training-set indices (src/fl/partition.ts). K = partition.length. */
  partition: number[][];
  clientIds?: string[];
  strategy: Strategy;
  /** Server-side aggregation over flat host vectors (default: the sample-weighted mean, {@link meanAggregator}). */
  aggregator?: Aggregator;
  rounds: number;
  /** Fraction C of clients sampled per round. */
  fraction: number;
  seed: number;
  /** Evaluate every this many rounds, and always after the last (default 1). */
  evalEvery?: number;
  evalBatchSize?: number;
  observers?: Observer[];
  /** Client-side defenses applied, in order, to every honest update before it is sent. */
  transforms?: UpdateTransform[];
  /** The behaviour of a malicious client, or undefined for an honest one (poisoning). */
  behaviour?: (clientIndex: number, round: number) => ClientBehaviour | undefined;
  /** Starting global model (cloned; default model.init(seed)). */
  initialParams?: Params;
  /**
   * Checkpoint after every round into `<dir>/checkpoint/`. With `resume`, continue from the checkpoint
   * there (CheckpointError if none, or if `config` differs from the stored one outside RESUME_MUTABLE_KEYS).
   */
  checkpoint?: { dir: string; config: Record<string, unknown>; backend?: string; resume?: boolean };
  /**
   * Train the honest clients of a round in parallel in this many worker threads (default 1: in this
   * thread). Needs a built-in strategy, a registry model (createModel) and the wasm or cpu backend;
   * results are identical to in-thread training.
   */
  workers?: number;
  /** The options `model` was made with by createModel, when not just its inputShape and classes (worker threads rebuild it). */
  modelOptions?: Partial<ModelOptions>;
  /** Extra per-round metrics of the new global model (e.g. a backdoor's attack success rate), merged into the round's metrics. */
  extraMetrics?: (round: number, params: Params) => Promise<Record<string, number | null>>;
  /** Stop after this round as if interrupted (the checkpoint is written first). */
  stopAfterRound?: number;
  events?: HarnessEvents;
}

export interface FederatedResult {
  /** Final global model; the caller owns (and disposes) it. */
  params: Params;
  rounds: RoundMetrics[];
  finalAccuracy: number | null;
  finalLoss: number | null;
  /** Last round completed before this call (0 for a fresh run). */
  resumedFrom: number;
  /** Last round completed by the end of this call. */
  completedRounds: number;
  /** What each observer's finish() returned, by name. */
  observers: Record<string, unknown>;
}

interface Sent {
  client: Client;
  malicious: boolean;
  kind: UpdateKind;
  delta: Params;
  numSamples: number;
  batchSize: number;
  localSteps: number;
  epochs: number;
  lr: number;
  loss: number | null;
  epochOrders: number[][];
}

function isDataset(d: Dataset | DataTensors): d is Dataset {
  return (d as Dataset).images !== undefined;
}

function cloneParams(p: Params): Params {
  const out: Params = {};
  for (const [k, t] of Object.entries(p)) out[k] = tf.clone(t);
  return out;
}

/** Disposes the tensors of `old` that are not in `next` (transforms and behaviours may pass some through). */
function disposeReplaced(old: Params, next: Params): void {
  const keep = new Set(Object.values(next).map((t) => t.id));
  tf.dispose(Object.values(old).filter((t) => !keep.has(t.id)));
}

/** The metadata a client that does not train honestly claims: the strategy's nominal settings. */
function nominalMeta(strategy: Strategy, n: number): { batchSize: number; localSteps: number; epochs: number; lr: number } {
  const st = strategy.settings;
  if (st.algorithm === 'fedsgd') return { batchSize: n, localSteps: 1, epochs: 1, lr: st.serverLr };
  const batchSize = st.batchSize === 0 || st.batchSize >= n ? n : st.batchSize;
  return { batchSize, localSteps: st.epochs * Math.ceil(n / Math.max(1, batchSize)), epochs: st.epochs, lr: st.lr };
}

function configDifferences(stored: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(stored), ...Object.keys(now)]);
  const out: string[] = [];
  for (const k of keys) {
    if (RESUME_MUTABLE_KEYS.includes(k)) continue;
    const a = JSON.stringify(stored[k]);
    const b = JSON.stringify(now[k]);
    if (a !== b) out.push(`${k}: checkpoint ${a ?? 'unset'}, now ${b ?? 'unset'}`);
  }
  return out;
}

/** Starts the client worker pool after checking that the workers can rebuild the model and strategy. */
async function startPool(size: number, model: Model, strategy: Strategy, modelOptions: Partial<ModelOptions> = {}): Promise<ClientWorkerPool> {
  if (!Number.isInteger(size) || size < 1) throw new Error(`workers must be an integer >= 1, got ${size}`);
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`worker threads need the wasm or cpu backend, not ${backend} (use workers: 1)`);
  if (strategy.settings.variant !== undefined || strategy.name !== strategy.settings.algorithm) {
    throw new Error(`worker threads run the built-in strategies (fedavg, fedsgd, fedprox), not '${strategy.name}' (use workers: 1)`);
  }
  const spec = { ...modelOptions, name: model.name, inputShape: model.inputShape, classes: model.classes };
  let rebuilt: Model;
  try {
    rebuilt = createModel(spec.name, spec);
  } catch {
    throw new Error(`worker threads rebuild the model with createModel, which does not know '${model.name}' (use workers: 1)`);
  }
  if (JSON.stringify(rebuilt.paramShapes) !== JSON.stringify(model.paramShapes)) {
    throw new Error(`worker threads rebuilt model '${model.name}' with other parameter shapes: pass the options it was made with as modelOptions`);
  }
  return ClientWorkerPool.start(size, { backend, model: spec, strategy: { ...strategy.settings } });
}

/** Runs federated training (see the file header). */
export async function runFederated(o: FederatedOptions): Promise<FederatedResult> {
  const { model, strategy, seed } = o;
  const aggregator = o.aggregator ?? meanAggregator;
  const evalEvery = o.evalEvery ?? 1;
  if (!(Number.isInteger(o.rounds) && o.rounds >= 1)) throw new Error(`rounds must be an integer >= 1, got ${o.rounds}`);
  if (!(Number.isInteger(evalEvery) && evalEvery >= 1)) throw new Error(`evalEvery must be an integer >= 1, got ${evalEvery}`);
  if (o.partition.length === 0) throw new Error('the partition has no clients');
  const clients = makeClients(o.partition, o.clientIds);
  const K = clients.length;
  const nominalSteps = (n: number): { epochs: number; steps: number } => {
    const m = nominalMeta(strategy, n);
    return { epochs: m.epochs, steps: m.localSteps };
  };

  // Resume state.
  let history: RoundMetrics[] = [];
  let startParams: Params | null = null;
  let resumedFrom = 0;
  if (o.checkpoint?.resume) {
    const state = await readCheckpointState(o.checkpoint.dir);
    if (state === null) throw new CheckpointError(`no checkpoint to resume in ${o.checkpoint.dir} (expected ${o.checkpoint.dir}/checkpoint/state.json)`);
    if (state.seed !== seed) throw new CheckpointError(`the checkpoint was made with seed ${state.seed}, not ${seed}`);
    const diff = configDifferences(state.config, o.checkpoint.config);
    if (diff.length > 0) throw new CheckpointError(`the checkpoint in ${o.checkpoint.dir} was made with other settings (${diff.join('; ')})`);
    startParams = await loadCheckpointParams(o.checkpoint.dir, state, model);
    history = state.rounds.filter((r) => r.round <= state.round);
    resumedFrom = state.round;
  }

  const ownTrain = isDataset(o.train);
  const ownTest = o.test !== undefined && isDataset(o.test);
  let train: DataTensors | null = null;
  let test: DataTensors | null = null;
  let server: Server | null = null;
  let pool: ClientWorkerPool | null = null;
  let hostTrain: { images: Float32Array; labels: Int32Array; sampleSize: number; numClasses: number } | null = null;
  try {
    train = isDataset(o.train) ? dataTensors(o.train) : o.train;
    test = o.test === undefined ? null : isDataset(o.test) ? dataTensors(o.test) : o.test;
    const n = train.x.shape[0];
    for (const c of clients) {
      for (const i of c.indices) if (!(Number.isInteger(i) && i >= 0 && i < n)) throw new Error(`client ${c.id} has sample index ${i} outside 0..${n - 1}`);
    }
    if ((o.workers ?? 1) > 1) {
      pool = await startPool(o.workers!, model, strategy, o.modelOptions);
      if (isDataset(o.train)) {
        const [h, w, c] = o.train.shape;
        hostTrain = { images: o.train.images, labels: o.train.labels, sampleSize: h * w * c, numClasses: o.train.numClasses };
      } else {
        const [, h, w, c] = train.x.shape;
        hostTrain = { images: (await train.x.data()) as Float32Array, labels: (await train.labels.data()) as Int32Array, sampleSize: h * w * c, numClasses: train.numClasses };
      }
    }
    server = new Server(startParams ?? (o.initialParams ? cloneParams(o.initialParams) : model.init(seed)), strategy, aggregator);
    startParams = null;

    for (let round = resumedFrom + 1; round <= o.rounds; round++) {
      const t0 = performance.now();
      const sampled = sampleClients(K, o.fraction, derivedRng(seed, `sample:${round}`));
      await o.events?.onRoundStart?.(round, sampled);
      const global = server.params;
      const sent = new Map<number, Sent>();
      const vectors = new Map<number, Float32Array>();
      let corrupt: number[] = [];
      try {
        const behaviours = new Map<number, ClientBehaviour>();
        for (const k of sampled) {
          const b = o.behaviour?.(k, round);
          if (b !== undefined) behaviours.set(k, b);
        }
        const localHooks = (k: number): LocalHooks => {
          const ev = o.events;
          const hooks: LocalHooks = {};
          if (ev?.onLocalEpoch) hooks.onEpoch = (epoch, epochs) => ev.onLocalEpoch!({ round, clientIndex: k, epoch, epochs });
          if (ev?.onLocalStep) hooks.onStep = (step, steps) => ev.onLocalStep!({ round, clientIndex: k, step, steps });
          return hooks;
        };
        const runLocal = (client: Client, data: LocalData): Promise<ClientResult> =>
          strategy.clientUpdate({ model, global, data, rng: derivedRng(seed, `client:${round}:${client.index}`), hooks: localHooks(client.index) });

        // Honest clients: in order in this thread, or in parallel in the worker pool.
        let position = 0;
        const honestList = sampled.filter((k) => clients[k]!.numSamples > 0 && !behaviours.has(k));
        const results = new Map<number, ClientResult>();
        try {
          if (pool !== null && hostTrain !== null) {
            const globalHost: Record<string, Float32Array> = {};
            for (const [name, t] of Object.entries(global)) globalHost[name] = (await t.data()) as Float32Array;
            const host = await Promise.all(honestList.map(async (k) => {
              const client = clients[k]!;
              const D = hostTrain!.sampleSize;
              const images = new Float32Array(client.numSamples * D);
              const labels = new Int32Array(client.numSamples);
              client.indices.forEach((i, j) => {
                images.set(hostTrain!.images.subarray(i * D, (i + 1) * D), j * D);
                labels[j] = hostTrain!.labels[i]!;
              });
              const hooks = localHooks(k);
              const r = await pool!.run(
                { global: globalHost, images, labels, numClasses: hostTrain!.numClasses, seed, rngLabel: `client:${round}:${k}`, progressMs: hooks.onStep ? 100 : 0 },
                hooks,
                () => o.events?.onClientStart?.({ round, clientIndex: k, position: position++, count: sampled.length, ...nominalSteps(client.numSamples), malicious: false }),
              );
              return [k, r] as const;
            }));
            for (const [k, r] of host) {
              const client = clients[k]!;
              const delta: Params = {};
              for (const [name, shape] of model.paramShapes) delta[name] = tf.tensor(r.delta[name]!, shape, 'float32');
              results.set(k, { ...r, delta, epochOrders: r.epochOrders.map((order) => order.map((i) => client.indices[i]!)) });
            }
          } else {
            for (const k of honestList) {
              const client = clients[k]!;
              await o.events?.onClientStart?.({ round, clientIndex: k, position: position++, count: sampled.length, ...nominalSteps(client.numSamples), malicious: false });
              results.set(k, await runLocal(client, client.data(train)));
            }
          }
        } catch (e) {
          for (const r of results.values()) disposeParams(r.delta);
          throw e;
        }
        for (const k of honestList) {
          const client = clients[k]!;
          const r = results.get(k)!;
          results.delete(k);
          let delta = r.delta;
          try {
            for (const t of o.transforms ?? []) {
              const next = await t.apply(delta, { round, clientId: client.id, clientIndex: k, kind: r.kind, numSamples: r.numSamples, rng: derivedRng(seed, `transform:${t.name}:${round}:${k}`) });
              disposeReplaced(delta, next);
              delta = next;
            }
          } catch (e) {
            disposeParams(delta);
            for (const rest of results.values()) disposeParams(rest.delta);
            throw e;
          }
          sent.set(k, { client, malicious: false, kind: r.kind, delta, numSamples: r.numSamples, batchSize: r.batchSize, localSteps: r.localSteps, epochs: r.epochs, lr: r.lr, loss: r.loss, epochOrders: r.epochOrders });
        }
        // Each update is flattened once; the vectors serve the malicious clients and the aggregator.
        for (const k of honestList) vectors.set(k, await flatten(sent.get(k)!.delta));

        // Malicious clients: they see the round's honest updates.
        const honest = sampled.filter((k) => sent.has(k));
        const honestUpdates = honest.map((k) => sent.get(k)!.delta);
        const honestWeights = honest.map((k) => sent.get(k)!.numSamples);
        const honestVectors = honest.map((k) => vectors.get(k)!);
        const numMalicious = sampled.filter((k) => behaviours.has(k) && clients[k]!.numSamples > 0).length;
        const serverLr = strategy.settings.serverLr;
        const globalVector = numMalicious > 0 ? await flatten(global) : new Float32Array(0);
        for (const k of sampled) {
          const b = behaviours.get(k);
          const client = clients[k]!;
          if (b === undefined || client.numSamples === 0) continue;
          await o.events?.onClientStart?.({ round, clientIndex: k, position: position++, count: sampled.length, ...nominalSteps(client.numSamples), malicious: true });
          const data = client.data(train);
          const ctx: RoundContext = {
            round, clientId: client.id, clientIndex: k, kind: strategy.kind, model, globalParams: global, data,
            numSamples: client.numSamples, honestUpdates, honestWeights, honestVectors, globalVector,
            numClients: honest.length + numMalicious, numMalicious, serverLr,
            rng: derivedRng(seed, `craft:${round}:${k}`),
            trainLocal: (d?: LocalData) => runLocal(client, d ?? data),
          };
          const crafted = await b.craft(ctx);
          const owned = new Set([...Object.values(global), ...honestUpdates.flatMap((u) => Object.values(u))].map((t) => t.id));
          const delta: Params = {};
          for (const [name, t] of Object.entries(crafted)) delta[name] = owned.has(t.id) ? tf.clone(t) : t;
          const meta = nominalMeta(strategy, client.numSamples);
          sent.set(k, { client, malicious: true, kind: strategy.kind, delta, numSamples: client.numSamples, ...meta, loss: null, epochOrders: [] });
          checkUpdates([global, delta], [1, 1]);
          vectors.set(k, await flatten(delta));
        }

        // The server sees every update.
        const order = sampled.filter((k) => sent.has(k));
        for (const k of order) {
          const s = sent.get(k)!;
          const obs: Observation = {
            round, clientId: s.client.id, kind: s.kind, delta: s.delta, numSamples: s.numSamples, batchSize: s.batchSize,
            localSteps: s.localSteps, epochs: s.epochs, lr: s.lr, globalParams: global, model,
          };
          const truth: ObservationTruth = { clientIndex: k, malicious: s.malicious, indices: s.client.indices, epochOrders: s.epochOrders };
          for (const ob of o.observers ?? []) await ob.observe(obs, truth);
        }

        // Updates with NaN/Inf coordinates: found once, here; only an aggregator that drops them gets them.
        corrupt = order.filter((k) => !isFiniteVector(vectors.get(k)!));
        if (corrupt.length > 0 && aggregator.dropsNonFinite !== true) {
          throw new NonFiniteUpdateError(round, corrupt, history.length > 0 ? history[history.length - 1]!.round : resumedFrom);
        }
        if (order.length > 0) server.applyRound(order.map((k) => vectors.get(k)!), order.map((k) => sent.get(k)!.numSamples));
      } finally {
        for (const s of sent.values()) disposeParams(s.delta);
      }

      let accuracy: number | null = null;
      let loss: number | null = null;
      if (test !== null && (round % evalEvery === 0 || round === o.rounds)) {
        const e = await evaluate(model, server.params, test, o.evalBatchSize !== undefined ? { batchSize: o.evalBatchSize } : {});
        accuracy = e.accuracy;
        loss = e.loss;
      }
      const honestSent = [...sent.values()].filter((s) => !s.malicious && s.loss !== null);
      const nHonest = honestSent.reduce((a, s) => a + s.numSamples, 0);
      const metrics: RoundMetrics = {
        round, accuracy, loss,
        seconds: (performance.now() - t0) / 1000,
        sampledClients: sampled,
        trainLoss: nHonest > 0 ? honestSent.reduce((a, s) => a + s.loss! * s.numSamples, 0) / nHonest : NaN,
      };
      const malicious = [...sent.values()].filter((s) => s.malicious).map((s) => s.client.index);
      if (malicious.length > 0) metrics.maliciousClients = malicious;
      if (corrupt.length > 0) (metrics as RoundMetrics & { droppedClients?: number[] }).droppedClients = corrupt;
      if (o.extraMetrics) Object.assign(metrics, await o.extraMetrics(round, server.params));
      history.push(metrics);
      if (o.checkpoint) {
        await saveCheckpoint(o.checkpoint.dir, {
          round, seed, config: { ...o.checkpoint.config }, rounds: history, params: server.params, model,
          ...(o.checkpoint.backend !== undefined ? { backend: o.checkpoint.backend } : {}),
        });
      }
      await o.events?.onRoundEnd?.(metrics, history);
      if (o.stopAfterRound !== undefined && round >= o.stopAfterRound) break;
    }

    const observers: Record<string, unknown> = {};
    for (const ob of o.observers ?? []) if (ob.finish) observers[ob.name] = await ob.finish();
    const lastEval = [...history].reverse().find((r) => r.accuracy !== null);
    const params = server.params;
    server = null;
    return {
      params,
      rounds: history,
      finalAccuracy: lastEval?.accuracy ?? null,
      finalLoss: lastEval?.loss ?? null,
      resumedFrom,
      completedRounds: history.length > 0 ? history[history.length - 1]!.round : resumedFrom,
      observers,
    };
  } finally {
    await pool?.close();
    if (startParams !== null) disposeParams(startParams);
    server?.dispose();
    if (ownTrain && train !== null) disposeData(train);
    if (ownTest && test !== null) disposeData(test);
  }
}
