/**
 * Federated clients and their local procedures.
 *
 * Data stays on the backend as one tensor for the whole training set (uploaded once per run); a client
 * is just its list of sample indices, and every mini-batch is a `tf.gather` of an int32 index tensor —
 * the only host→backend traffic of a local step is B indices. The loss is read back once per client,
 * never per step.
 *
 * Local SGD (McMahan et al. 2017, Algorithm 1 ClientUpdate; PyTorch DataLoader(shuffle=True,
 * drop_last=False) semantics):
 * ```
 *   w ← w_global
 *   for each of E epochs: for each batch b of a fresh random order of the client's n samples (size B,
 *   the last one possibly smaller; B = 0 means the full local dataset):
 *       w ← w − η·( ∇ℓ(w; b) + μ·(w − w_global) )          ℓ = mean softmax cross-entropy over b
 *   return Δ = w − w_global
 * ```
 * μ > 0 is FedProx's proximal term μ/2·‖w − w_global‖² (Li et al., MLSys 2020), whose gradient
 * μ·(w − w_global) is added in closed form; μ = 0 runs exactly the FedAvg step (no extra op).
 *
 * Full-batch gradients (FedSGD, or B = 0) over more than {@link MAX_CHUNK} samples are accumulated over
 * chunks, ∇ = Σ_c (|c|/n)·∇ℓ(w; c), so memory stays bounded.
 */
import { tf } from '../engine/tf.js';
import { softCrossEntropy } from '../engine/ops.js';
import type { Dataset } from '../../datasets/types.js';
import type { Model, ModelOptions, Params } from '../models/index.js';
import type { ClientResult, ClientTask, LocalData, LocalHooks, LocalTrainConfig, Observation } from './types.js';

/** Largest number of samples pushed through the model at once in a full-batch gradient. */
export const MAX_CHUNK = 500;

/** The training (or test) set on the backend: images [N, H, W, C] and int32 labels [N]. */
export interface DataTensors {
  x: tf.Tensor4D;
  labels: tf.Tensor1D;
  numClasses: number;
}

/** Uploads a dataset once: one image tensor and one label tensor. Dispose with {@link disposeData}. */
export function dataTensors(ds: Dataset): DataTensors {
  const [h, w, c] = ds.shape;
  const n = ds.labels.length;
  return {
    x: tf.tensor4d(ds.images, [n, h, w, c], 'float32'),
    labels: tf.tensor1d(ds.labels, 'int32'),
    numClasses: ds.numClasses,
  };
}

export function disposeData(d: DataTensors): void {
  tf.dispose([d.x, d.labels]);
}

/** A federated client: an id and the indices of its samples in the training set. */
export class Client {
  readonly id: string;

  constructor(
    readonly index: number,
    readonly indices: number[],
    id?: string,
  ) {
    this.id = id ?? `client-${index}`;
  }

  get numSamples(): number {
    return this.indices.length;
  }

  /** The client's data as a view on the shared training tensors. */
  data(train: DataTensors): LocalData {
    return { x: train.x, labels: train.labels, indices: this.indices, numClasses: train.numClasses };
  }
}

/** One client per index list of a partition. */
export function makeClients(parts: number[][], ids?: string[]): Client[] {
  return parts.map((idx, k) => new Client(k, idx, ids?.[k]));
}

/** Parameter names in model order. */
export function paramNames(model: Model): string[] {
  return model.paramShapes.map(([n]) => n);
}

function toParams(names: string[], ts: tf.Tensor[]): Params {
  const p: Params = {};
  names.forEach((n, i) => (p[n] = ts[i]!));
  return p;
}

function orderedList(names: string[], p: Params): tf.Tensor[] {
  return names.map((n) => {
    const t = p[n];
    if (t === undefined) throw new Error(`missing parameter '${n}'`);
    return t;
  });
}

/**
 * Client-side training defense hook (adversarial training): replaces each batch x (targets one-hot) by
 * what the local step trains on, at the current local parameters; `call` counts the batches of this
 * local run (for seeding). Runs inside `tf.tidy`; returns a new tensor.
 */
export type BatchPerturb = (params: Params, x: tf.Tensor4D, targets: tf.Tensor, call: number) => tf.Tensor4D;

/**
 * A gradient function over a model's parameters whose batch is set per call: returns the mean loss
 * over the batch and one gradient per parameter (in `names` order). Call inside `tf.tidy`.
 */
function makeGradFn(model: Model, data: LocalData, perturb?: BatchPerturb): (params: tf.Tensor[], batch: number[]) => { loss: tf.Scalar; grads: tf.Tensor[] } {
  const names = paramNames(model);
  let xb: tf.Tensor4D | null = null;
  let yb: tf.Tensor | null = null;
  let calls = 0;
  const vg = tf.valueAndGrads((...ps: tf.Tensor[]) => softCrossEntropy(model.apply(toParams(names, ps), xb!), yb!));
  return (params, batch) => {
    const idx = tf.tensor1d(batch, 'int32');
    xb = tf.gather(data.x, idx) as tf.Tensor4D;
    yb = tf.cast(tf.oneHot(tf.gather(data.labels, idx), data.numClasses), 'float32');
    if (perturb) xb = perturb(toParams(names, params), xb, yb, calls++);
    const { value, grads } = vg(params);
    xb = null;
    yb = null;
    return { loss: value as tf.Scalar, grads };
  };
}

/**
 * Mean loss and its gradient over `batch` (training-set indices), chunked above {@link MAX_CHUNK}
 * samples: ∇ = Σ_c (|c|/n)·∇ℓ(c). Call inside `tf.tidy`.
 */
function batchGradient(
  gradFn: ReturnType<typeof makeGradFn>,
  params: tf.Tensor[],
  batch: number[],
): { loss: tf.Scalar; grads: tf.Tensor[] } {
  if (batch.length <= MAX_CHUNK) return gradFn(params, batch);
  let loss: tf.Tensor | null = null;
  let grads: tf.Tensor[] | null = null;
  for (let at = 0; at < batch.length; at += MAX_CHUNK) {
    const chunk = batch.slice(at, at + MAX_CHUNK);
    const w = chunk.length / batch.length;
    const g = gradFn(params, chunk);
    const wl = tf.mul(g.loss, w);
    const wg = g.grads.map((t) => tf.mul(t, w));
    loss = loss === null ? wl : tf.add(loss, wl);
    grads = grads === null ? wg : grads.map((t, i) => tf.add(t, wg[i]!));
  }
  return { loss: loss as tf.Scalar, grads: grads! };
}

/**
 * The gradient of the mean loss over all of the client's samples at `global` (FedSGD's client step),
 * as fresh tensors, and that loss.
 */
export async function localGradient(task: ClientTask): Promise<{ grads: Params; loss: number }> {
  const { model, global, data } = task;
  const names = paramNames(model);
  if (data.indices.length === 0) throw new Error('localGradient: the client has no samples');
  const gradFn = makeGradFn(model, data);
  const { loss, grads } = tf.tidy(() => {
    const r = batchGradient(gradFn, orderedList(names, global), data.indices);
    return { loss: r.loss, grads: r.grads };
  });
  const lossValue = (await loss.data())[0]!;
  loss.dispose();
  return { grads: toParams(names, grads), loss: lossValue };
}

/**
 * The FedSGD {@link Observation} of one client's batch, as the harness's FedSGD client produces it: kind
 * 'gradient', delta = ∇θ (1/B)·Σ_i CE(f(θ, x_i), y_i) at `global` over the B samples of `data` (the same
 * gradient function as {@link localGradient}, chunked above {@link MAX_CHUNK}), numSamples = batchSize =
 * B, localSteps 1, epochs 1, and `lr` the server step size the gradient will be scaled by. `delta` is
 * fresh tensors (the caller disposes them); `globalParams` is `global` itself, not a copy.
 */
export function fedSgdObservation(
  model: Model, global: Params, data: LocalData, meta: { round: number; clientId: string; lr: number },
): Observation {
  const names = paramNames(model);
  const B = data.indices.length;
  if (B === 0) throw new Error('fedSgdObservation: the client has no samples');
  const gradFn = makeGradFn(model, data);
  const grads = tf.tidy(() => batchGradient(gradFn, orderedList(names, global), data.indices).grads);
  return {
    round: meta.round, clientId: meta.clientId, kind: 'gradient', delta: toParams(names, grads), numSamples: B, batchSize: B,
    localSteps: 1, epochs: 1, lr: meta.lr, globalParams: global, model,
  };
}

/**
 * Local SGD from `global` (see the file header), returning Δ = w_local − w_global as fresh tensors.
 * `onStep` / `onEpoch` hooks are awaited after each step / epoch (lets progress bars draw).
 */
export async function localSgd(task: ClientTask, cfg: LocalTrainConfig, perturb?: BatchPerturb): Promise<ClientResult> {
  const { model, global, data, rng } = task;
  const names = paramNames(model);
  const n = data.indices.length;
  if (n === 0) throw new Error('localSgd: the client has no samples');
  if (!(Number.isInteger(cfg.epochs) && cfg.epochs >= 1)) throw new Error(`local epochs must be an integer >= 1, got ${cfg.epochs}`);
  if (!(Number.isInteger(cfg.batchSize) && cfg.batchSize >= 0)) throw new Error(`batch size must be an integer >= 0, got ${cfg.batchSize}`);
  const B = cfg.batchSize === 0 || cfg.batchSize >= n ? n : cfg.batchSize;
  const mu = cfg.mu ?? 0;
  const gradFn = makeGradFn(model, data, perturb);
  const globals = orderedList(names, global);
  const lrT = tf.scalar(cfg.lr);
  const muT = mu !== 0 ? tf.scalar(mu) : null;
  let params = globals;
  let owned = false;
  let lastEpochLoss: tf.Tensor | null = null;
  const epochOrders: number[][] = [];
  let steps = 0;
  const totalSteps = cfg.epochs * Math.ceil(n / B);
  try {
    for (let e = 0; e < cfg.epochs; e++) {
      const perm = rng.permutation(n);
      const order = perm.map((i) => data.indices[i]!);
      epochOrders.push(order);
      let epochLoss: tf.Tensor = tf.scalar(0);
      for (let at = 0; at < n; at += B) {
        const batch = order.slice(at, at + B);
        const prev = params;
        const prevLoss = epochLoss;
        const [next, loss] = tf.tidy(() => {
          const { loss: l, grads } = batchGradient(gradFn, prev, batch);
          const updated = prev.map((p, i) => {
            let g = grads[i]!;
            if (muT !== null) g = tf.add(g, tf.mul(muT, tf.sub(p, globals[i]!)));
            return tf.sub(p, tf.mul(lrT, g));
          });
          return [updated, tf.add(prevLoss, tf.mul(l, batch.length))] as [tf.Tensor[], tf.Tensor];
        });
        if (owned) tf.dispose(prev);
        prevLoss.dispose();
        params = next;
        owned = true;
        epochLoss = loss;
        steps++;
        if (task.hooks?.onStep) await task.hooks.onStep(steps, totalSteps);
      }
      lastEpochLoss?.dispose();
      lastEpochLoss = epochLoss;
      if (task.hooks?.onEpoch) await task.hooks.onEpoch(e + 1, cfg.epochs);
    }
    const finalParams = params;
    const delta = tf.tidy(() => finalParams.map((p, i) => tf.sub(p, globals[i]!)));
    const loss = (await lastEpochLoss!.data())[0]! / n;
    return {
      kind: 'update',
      delta: toParams(names, delta),
      numSamples: n,
      batchSize: B,
      localSteps: steps,
      epochs: cfg.epochs,
      lr: cfg.lr,
      loss,
      epochOrders,
    };
  } finally {
    if (owned) tf.dispose(params);
    lastEpochLoss?.dispose();
    lrT.dispose();
    muT?.dispose();
  }
}

