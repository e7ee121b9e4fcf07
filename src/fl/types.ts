/**
 * The federated-learning threat model as data, and the small interfaces everything else plugs into.
 *
 * One round of the harness (src/fl/harness.ts):
 * ```
 * server samples clients ─▶ each honest client runs the strategy's local procedure ─▶ update transforms
 *   (client-side defenses) ─▶ malicious clients craft theirs (ClientBehaviour) ─▶ every update is shown to
 *   the observers (Observation: what an honest-but-curious server sees) ─▶ Aggregator ─▶ Strategy's server
 *   step ─▶ new global model ─▶ evaluation
 * ```
 * - Leakage attacks are {@link Observer}s: they get exactly one {@link Observation} per sampled client per
 *   round, nothing more (the optional {@link ObservationTruth} is for *scoring* a reconstruction only).
 * - Poisoning attacks are {@link ClientBehaviour}s: the harness asks them for the update of the clients
 *   they control, with a {@link RoundContext} holding what the threat model lets them see.
 * - Robust aggregation is an {@link Aggregator} over flat host vectors of the updates (deltas w_k − w_global,
 *   or gradients), flattened once per round.
 * - Client-side defenses (pruning, noise, clipping, quantisation) are {@link UpdateTransform}s.
 * - FedAvg / FedSGD / FedProx are {@link Strategy} objects (Flower style): swapping the algorithm
 *   changes one object, never the loop.
 *
 * Tensor ownership: tensors in an Observation or a RoundContext belong to the harness and are disposed
 * after the round; observers and behaviours must not dispose them, and must `tf.clone` (or read) what
 * they keep.
 */
import type { tf } from '../engine/tf.js';
import type { Rng } from '../engine/rng.js';
import type { Model, Params } from '../models/index.js';
import type { ParamValue } from '../core/spec.js';

export type { Model, Params } from '../models/index.js';

/** What a client sends: a gradient at the global model (FedSGD) or a model update w_k − w_global (FedAvg). */
export type UpdateKind = 'gradient' | 'update';

/**
 * Exactly what an honest-but-curious server sees from one client in one round.
 *
 * kind 'gradient': `delta` = ∇_w (1/n)·Σ_i CE(f(w, x_i), y_i) at `globalParams` over the client's
 *   `numSamples` samples (one full batch: localSteps 1, batchSize numSamples); `lr` is the server step
 *   size this gradient will be scaled by.
 * kind 'update': `delta` = w_k − w_global after `localSteps` SGD steps (`epochs` epochs of
 *   mini-batches of `batchSize`, the last batch of an epoch possibly smaller) with step size `lr`,
 *   starting from `globalParams`.
 */
export interface Observation {
  round: number;
  clientId: string;
  kind: UpdateKind;
  delta: Params;
  /** Samples the client trained on (the aggregation weight it reported). */
  numSamples: number;
  /** Mini-batch size of the local steps (= numSamples for a full batch). */
  batchSize: number;
  localSteps: number;
  epochs: number;
  lr: number;
  globalParams: Params;
  model: Model;
}

/**
 * Ground truth about an observed update, for scoring attacks only (PSNR of a reconstruction against the
 * real images, label accuracy): a leakage attack must never read it to build its reconstruction.
 */
export interface ObservationTruth {
  /** The client's index (0..K-1) and whether it was malicious this round. */
  clientIndex: number;
  malicious: boolean;
  /** Indices into the training set of the client's samples. */
  indices: number[];
  /** Per local epoch, the training-set indices in the order visited; local step s of an epoch used
   *  entries [s·batchSize, (s+1)·batchSize). Empty for malicious clients. */
  epochOrders: number[][];
}

/** Sees every update the server receives (leakage attacks, logging, statistics). */
export interface Observer {
  readonly name: string;
  observe(obs: Observation, truth: ObservationTruth): Promise<void> | void;
  /** Called once after the last round; what it returns is stored under `observers[name]` in the results. */
  finish?(): Promise<unknown> | unknown;
}

/** What one call to `aggregate` did, for logs and reports. Indices refer to the input stack. */
export interface AggregationInfo {
  /** Number of updates received. */
  n: number;
  /** Indices of updates dropped as non-finite. */
  dropped: number[];
  /** Indices of updates selected (Krum, Multi-Krum, Bulyan), where the rule selects. */
  selected?: number[];
  /** Iterations run (geomed, centered-clip). */
  iterations?: number;
}

/**
 * Server-side combination of the updates of one round, over flat host vectors: the one aggregator
 * interface (the harness's default mean and every rule of defenses/aggregation/ implement it). The
 * harness flattens each update once per round (src/fl/flat.ts, parameters in key order) and passes the
 * stack with weights n_k (the clients' sample counts, not normalised). Returns a new vector of the same
 * length; never modifies or aliases an input.
 *
 * Non-finite updates (one policy): the harness finds updates with a NaN/Inf coordinate before
 * aggregating. If the aggregator declares `dropsNonFinite`, it gets them and drops them itself (robust
 * rules count each as one of the f Byzantine clients); the round lists them as `droppedClients`.
 * Otherwise (the mean, and any rule that does not declare it) the harness stops the run with
 * NonFiniteUpdateError before aggregating.
 */
export interface Aggregator {
  /** Canonical spec text, e.g. 'krum:f=2' or 'clip:bound=5+median'. */
  readonly name: string;
  /** Parameter values in force, defaults and run-supplied values filled in. */
  readonly params: Readonly<Record<string, ParamValue>>;
  /** Aggregate n updates (each of length d) with relative weights n_k; returns a new vector. */
  aggregate(updates: Float32Array[], weights: number[]): Float32Array;
  /** Capability: drops updates with NaN/Inf coordinates itself (absent or false: the harness stops the run on one). */
  readonly dropsNonFinite?: boolean;
  /** Throws (a UserError) if this rule cannot run with n updates per round (precondition). */
  checkClients(n: number): void;
  /** What the last `aggregate` call did. */
  readonly lastInfo: AggregationInfo | undefined;
  /** Forget state carried between rounds (centered-clip's center); no-op for stateless rules. */
  reset(): void;
}

/** Local training settings of the 'update' strategies. batchSize 0 = the full local dataset (B = ∞). */
export interface LocalTrainConfig {
  epochs: number;
  batchSize: number;
  lr: number;
  /** FedProx proximal weight μ (0 or absent: plain local SGD). */
  mu?: number;
}

/**
 * A client's local data: rows `indices` of `x` / `labels`. For honest clients `x` and `labels` are the
 * whole training set on the backend (kept there once, batches gathered by index); a malicious client may
 * pass its own tensors (e.g. flipped labels) to `RoundContext.trainLocal`.
 */
export interface LocalData {
  x: tf.Tensor4D;
  /** int32 labels, one per row of x. */
  labels: tf.Tensor1D;
  indices: number[];
  numClasses: number;
}

/** The result of a client's local procedure, before any transform. */
export interface ClientResult {
  kind: UpdateKind;
  delta: Params;
  numSamples: number;
  batchSize: number;
  localSteps: number;
  epochs: number;
  lr: number;
  /** Mean training loss over the last local epoch (FedSGD: the loss at the global model). */
  loss: number;
  epochOrders: number[][];
}

/** Hooks the local procedure calls (progress bars). */
export interface LocalHooks {
  /** After local epoch `epoch` (1-based) of `epochs`. */
  onEpoch?(epoch: number, epochs: number): void | Promise<void>;
  /** After local step `step` (1-based) of `steps`. */
  onStep?(step: number, steps: number): void | Promise<void>;
}

/** What a strategy's local procedure is given. */
export interface ClientTask {
  model: Model;
  global: Params;
  data: LocalData;
  /** Seeded stream for this client and round (batch shuffling). */
  rng: Rng;
  hooks?: LocalHooks;
}

/**
 * A federated algorithm, Flower style: what a client does locally and how the server turns the
 * aggregated update into the next global model. Sampling, aggregation and evaluation stay in the loop.
 */
export interface Strategy {
  readonly name: string;
  readonly kind: UpdateKind;
  /** The honest local procedure. Returns fresh tensors (the harness owns and disposes them). */
  clientUpdate(task: ClientTask): Promise<ClientResult>;
  /** The next global model from the current one and the aggregate (fresh tensors; inputs untouched). */
  serverUpdate(global: Params, aggregate: Params): Params;
  /** Typed settings, for reports, checkpoints and worker threads (which rebuild built-in strategies from them). */
  readonly settings: StrategySettings;
}

/** Settings of the local-SGD strategies (FedAvg, FedProx). */
export interface LocalSgdSettings extends LocalTrainConfig {
  algorithm: 'fedavg' | 'fedprox';
  serverLr: number;
  /**
   * A modified local procedure (e.g. 'pgd' for adversarial training): the same settings, other client
   * code. Worker threads rebuild only strategies without a variant.
   */
  variant?: string;
}

/** Settings of FedSGD (one full-batch gradient per client, server step serverLr). */
export interface FedSgdSettings {
  algorithm: 'fedsgd';
  serverLr: number;
  variant?: string;
}

/** What a {@link Strategy} runs, as typed data (never read back from report text). */
export type StrategySettings = LocalSgdSettings | FedSgdSettings;

/**
 * What a malicious client may use when crafting its update. The default threat model is omniscient
 * within the round (it sees the honest updates of the round, as ALIE / IPM assume); a weaker attack just
 * ignores them.
 */
export interface RoundContext {
  round: number;
  clientId: string;
  clientIndex: number;
  kind: UpdateKind;
  model: Model;
  globalParams: Params;
  /** The client's own data (honest rows of the training set). */
  data: LocalData;
  numSamples: number;
  /** This round's honest updates (after client-side transforms) and their weights. */
  honestUpdates: readonly Params[];
  honestWeights: readonly number[];
  /** The same honest updates as flat host vectors (src/fl/flat.ts), flattened once per round and shared
   *  with the aggregator: read-only. */
  honestVectors: readonly Float32Array[];
  /** The global model as a flat host vector (read-only). */
  globalVector: Float32Array;
  /** Updates the server aggregates this round (n, honest and malicious) and how many are malicious (f). */
  numClients: number;
  numMalicious: number;
  /** The server's step size on the aggregate (global ← global + η·aggregate for 'update' strategies). */
  serverLr: number;
  /** Seeded stream for this client and round. */
  rng: Rng;
  /** Runs the strategy's honest local procedure, on the client's own data or on `data` (e.g. relabelled);
   *  the caller owns the returned delta. */
  trainLocal(data?: LocalData): Promise<ClientResult>;
}

/**
 * A malicious client's behaviour (poisoning). Returns the update to send (fresh tensors, taken over by
 * the harness; returning a tensor of the context is allowed, it is cloned).
 */
export interface ClientBehaviour {
  readonly name: string;
  craft(ctx: RoundContext): Promise<Params>;
}

/** Context of a client-side update transform. */
export interface TransformContext {
  round: number;
  clientId: string;
  clientIndex: number;
  kind: UpdateKind;
  numSamples: number;
  rng: Rng;
}

/**
 * A client-side defense applied to an honest client's update before it is sent (pruning, noise,
 * clipping, quantisation). Returns fresh tensors; may return an input tensor unchanged (the harness
 * keeps track). Must not dispose its input. Asynchronous, so that it can read tensors back with
 * `await t.data()` (a synchronous `dataSync()` cannot run on WebGPU in Node).
 */
export interface UpdateTransform {
  readonly name: string;
  apply(delta: Params, ctx: TransformContext): Promise<Params>;
}

/** Metrics of one round. accuracy/loss are null for rounds that were not evaluated (--eval-every). */
export interface RoundMetrics {
  round: number;
  accuracy: number | null;
  loss: number | null;
  /** Wall-clock seconds of the round (training, aggregation, observers, evaluation). */
  seconds: number;
  /** Indices of the sampled clients. */
  sampledClients: number[];
  /** Sample-weighted mean of the clients' local training loss (last local epoch). */
  trainLoss: number;
  /** Indices of the sampled clients that were malicious. */
  maliciousClients?: number[];
}
