/**
 * The threat model of gradient leakage, as data.
 *
 * An {@link Observation} is exactly what an honest-but-curious server holds about one client in one
 * round (the harness's own type, src/fl/types.ts): the shared model (architecture + the global
 * parameters it sent out) and what came back — a gradient (FedSGD) or a parameter delta (FedAvg,
 * `localSteps` local steps at rate `lr`) — plus the metadata a FL protocol discloses (number of
 * samples, batch size). It never contains the client's private data: attacks get this object and
 * nothing else, and the ground truth is only used outside the attack, to score the result
 * (src/metrics/reconstruction.ts).
 *
 * A {@link LeakageAttack} turns an observation into a {@link Reconstruction}: B images in the model's
 * input space ([0, 1] pixels for every model in fedattack), B labels, the value of the matching loss at
 * the returned point (the only quality signal an attacker has, used to choose between restarts), and the
 * optimisation trace.
 */
import { UserError } from '../../src/core/errors.js';
import { tf } from '../../src/engine/tf.js';
import type { Model, Params } from '../../src/models/index.js';
import type { Observation } from '../../src/fl/types.js';

/** What the server sees from one client in one round: the harness's own Observation (src/fl/types.ts). */
export type { Model, Params, Observation };

/** One picture of the dummy batch during the optimisation. */
export interface Snapshot {
  /** Optimiser step (0 = the initial dummy). */
  iteration: number;
  /** Objective value at these images. */
  loss: number;
  /** B·H·W·C values, clipped to [0, 1]. */
  images: Float32Array;
}

export interface Reconstruction {
  /** B·H·W·C values in [0, 1] (NHWC), clipped to the pixel range. */
  images: Float32Array;
  /** One label per reconstructed image (same order as the images). */
  labels: number[];
  /** Gradient-matching loss at the returned images (euclidean for DLG/iDLG, 1 − cos for IG; no prior). */
  matchingLoss: number;
  /** Objective evaluations (objective + gradient) used. */
  evaluations: number;
  /** A non-finite or exploding loss was met; the images are the best finite point before it. */
  diverged: boolean;
  snapshots: Snapshot[];
  /** Optimiser steps done. */
  iterations: number;
  /** Stopped early on request (Ctrl-C): the images are the best so far. */
  stopped: boolean;
  /** How the labels were obtained, e.g. 'joint optimisation (softmax of label logits)' or 'idlg'. */
  labelMethod: string;
  /** Why the restart was declared diverged, if it was. */
  divergence?: string;
}

export interface Progress {
  iteration: number;
  iterations: number;
  /** Objective at the start of the latest step (what the optimiser reported for it). */
  loss: number;
  evaluations: number;
  /** The current dummy images (B·H·W·C, clipped to [0, 1]); read back only when called. */
  images(): Promise<Float32Array>;
}

/** Options every attack understands; unset ones take the attack's documented defaults. */
export interface AttackOptions {
  /** Seed for the dummy initialisation. */
  seed: number;
  /** Optimiser steps (an L-BFGS step is up to 20 objective evaluations, PyTorch semantics). */
  iterations?: number;
  optimizer?: 'lbfgs' | 'adam';
  /** Learning rate of the optimiser. */
  lr?: number;
  /** Weight of the total-variation prior (0 = none). */
  tv?: number;
  /** Number of snapshots kept for the progress grid (including the first and the last), default 8. */
  snapshots?: number;
  onProgress?: (p: Progress) => void | Promise<void>;
  /** Polled between steps; when it returns true the attack stops and returns the best point so far. */
  shouldStop?: () => boolean;
  /**
   * Start from these values instead of drawing them from the seed (to replay a reference run, e.g. the
   * PyTorch oracle's dummy): `x` in the attack's variable space (DLG/iDLG: pixel space; IG: normalised),
   * B·H·W·C values; `y` the B·K dummy label logits (DLG only).
   */
  init?: { x?: Float32Array; y?: Float32Array };
}

export interface LeakageAttack {
  readonly name: string;
  /** One line: what it is and where it comes from. */
  readonly about: string;
  /** Largest batch this implementation accepts. */
  readonly maxBatch: number;
  /** Default optimiser steps. */
  readonly defaultIterations: number;
  readonly defaultOptimizer: 'lbfgs' | 'adam';
  /** Default learning rate per optimiser. */
  readonly defaultLr: { lbfgs: number; adam: number };
  /** Default weight of the total-variation prior. */
  readonly defaultTv: number;
  /** The kind of matching loss it reports: 'euclidean' (default; scale ‖g‖²) or 'cosine' (1 − cos). */
  readonly matchingDistance?: 'euclidean' | 'cosine';
  reconstruct(obs: Observation, opts: AttackOptions): Promise<Reconstruction>;
}

/**
 * A setting the attack cannot honour (batch too large, an update without a learning rate, unknown
 * attack...). A {@link UserError}: the CLI shows it as one line.
 */
export class ConfigError extends UserError {}

/**
 * The observation as a gradient ∇θ L. For an update θ' − θ after `localSteps` SGD steps at rate `lr`,
 * the FedSGD-equivalent gradient is −Δ / (lr · localSteps) — exact for a single local step, an
 * approximation (the average gradient along the local trajectory) for more. Returns new tensors.
 */
export function observedGradient(obs: Observation): tf.Tensor[] {
  const names = obs.model.paramShapes.map(([n]) => n);
  for (const n of names) {
    if (obs.delta[n] === undefined) throw new ConfigError(`observation lacks the parameter '${n}'`);
  }
  if (obs.kind === 'gradient') return names.map((n) => obs.delta[n]!.clone());
  const lr = obs.lr;
  if (lr === undefined || !(lr > 0)) throw new ConfigError('an update observation needs the client learning rate (lr > 0) to be read as a gradient');
  const steps = obs.localSteps ?? 1;
  const scale = -1 / (lr * steps);
  return names.map((n) => tf.mul(obs.delta[n]!, scale));
}

/** Batch size behind an observation (batchSize, else numSamples). */
export function observedBatch(obs: Observation): number {
  const b = obs.batchSize ?? obs.numSamples;
  if (!Number.isInteger(b) || b < 1) throw new ConfigError(`observation has no valid batch size (got ${b})`);
  return b;
}

/**
 * The last dense layer: weight [features, classes] and bias [classes], found as the last parameters
 * with those shapes (all fedattack models end with one).
 */
export function lastLayer(model: Model): { weight: string | null; bias: string | null } {
  let weight: string | null = null;
  let bias: string | null = null;
  for (const [name, shape] of model.paramShapes) {
    if (shape.length === 1 && shape[0] === model.classes) bias = name;
    if (shape.length === 2 && shape[1] === model.classes) weight = name;
  }
  return { weight, bias };
}
