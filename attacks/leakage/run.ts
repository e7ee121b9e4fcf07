/**
 * Running a leakage attack the way an experiment needs it, and scoring it — outside the attack.
 *
 * - {@link victimObservation}: the honest client's side. It computes ∇θ L on its private batch with the
 *   global parameters (FedSGD, one gradient, batch-mean cross-entropy) and hands the server an
 *   {@link Observation}; the images and labels stay here.
 * - {@link runAttack}: R restarts with derived seeds (restart 0 uses the seed itself). Each restart
 *   yields a reconstruction and its gradient-matching loss; the kept restart is the one with the lowest
 *   matching loss — the only signal an attacker has, never the ground truth. A restart that diverges
 *   (non-finite or exploding loss) is reported and dropped, and retried once with a fresh seed. If every
 *   attempt diverged, the best finite point among them is returned and flagged (`allDiverged`).
 *   `shouldStop` (Ctrl-C) ends the current restart early and skips the rest; the best so far is kept.
 *   A {@link RestartPolicy} (per matching loss: euclidean for DLG/iDLG, cosine for IG) spends the
 *   R × iterations step budget better, still judging by the matching loss alone: once a restart has
 *   matched the gradient (relative loss ≤ convergedBelow) the remaining restarts are skipped; a restart
 *   whose loss plateaus high is stopped as stalled (its best point stays a candidate) and the steps it
 *   left run extra restarts (at most maxRestartsFactor × R in all).
 * - {@link scoreReconstruction}: reconstructions are matched one-to-one to the ground truth by the
 *   assignment of least total MSE (Hungarian algorithm) — a batch gradient does not tell which image is
 *   which — and then scored: MSE, PSNR (dB, data range 1, on [0, 1] images after clipping), SSIM, label
 *   accuracy of the matched pairs and, order-free, of the label multiset.
 */
import { tf } from '../../src/engine/tf.js';
import { Rng } from '../../src/engine/rng.js';
import { oneHot } from '../../src/engine/ops.js';
import { labelAccuracy, labelMultisetAccuracy, matchAndScore } from '../../src/metrics/index.js';
import type { Model, Params, Shape3 } from '../../src/models/index.js';
import { paramGradients } from './objective.js';
import { ConfigError, observedGradient, type AttackOptions, type LeakageAttack, type Observation, type Reconstruction } from './types.js';

// ---------------------------------------------------------------------------------------------------
// The victim

/**
 * The observation of a client that holds `images` (each H·W·C in [0, 1], NHWC) with `labels` and sends
 * the gradient of its batch-mean cross-entropy at `params`. The observation owns copies of everything;
 * free it with {@link disposeObservation}.
 */
export function victimObservation(
  model: Model, params: Params, images: Float32Array[], labels: number[], meta: { round?: number; clientId?: string } = {},
): Observation {
  const [H, W, C] = model.inputShape;
  const B = images.length;
  if (B === 0) throw new ConfigError('no images');
  if (labels.length !== B) throw new ConfigError(`${labels.length} labels for ${B} images`);
  for (const [i, l] of labels.entries()) {
    if (!Number.isInteger(l) || l < 0 || l >= model.classes) throw new ConfigError(`label ${l} of image ${i + 1} is not a class of this model (0..${model.classes - 1})`);
  }
  const x = new Float32Array(B * H * W * C);
  images.forEach((img, i) => {
    if (img.length !== H * W * C) throw new ConfigError(`image ${i + 1} has ${img.length} values, expected ${H}x${W}x${C}`);
    x.set(img, i * H * W * C);
  });
  const names = model.paramShapes.map(([n]) => n);
  const grads = tf.tidy(() => paramGradients(model, params, tf.tensor4d(x, [B, H, W, C]), oneHot(labels, model.classes)));
  const delta: Params = {};
  const globalParams: Params = {};
  names.forEach((n, i) => {
    delta[n] = grads[i]!;
    globalParams[n] = params[n]!.clone();
  });
  return { round: meta.round ?? 0, clientId: meta.clientId ?? 'victim', kind: 'gradient', delta, numSamples: B, batchSize: B, globalParams, model };
}

export function disposeObservation(obs: Observation): void {
  tf.dispose([...Object.values(obs.delta), ...Object.values(obs.globalParams)]);
}

// ---------------------------------------------------------------------------------------------------
// Restarts

/**
 * When to stop restarting early and when to give up on a restart. Losses are *relative* matching losses:
 * the euclidean loss divided by ‖g‖² of the observed gradient (DLG, iDLG: 1 at the trivial dummy whose
 * gradient is 0), or 1 − cos as it is (IG). Only the attacker's own signal is used, never the truth.
 */
export interface RestartPolicy {
  /**
   * A restart whose relative matching loss ends ≤ this has matched the gradient: the remaining restarts
   * are skipped (0 = never).
   */
  convergedBelow: number;
  /**
   * A restart *stalls* when, after `stallAfter` of its steps, its best relative loss is still above
   * `stallAbove` and has not fallen by `stallFactor` over the last `stallWindow` of its steps; it is
   * stopped (its best point is kept as a candidate) and its unused steps go to extra restarts.
   * Infinity = never.
   */
  stallAbove: number;
  stallAfter: number;
  stallWindow: number;
  stallFactor: number;
  /** Extra restarts (beyond the requested ones) need at least this fraction of `iterations` left. */
  minExtra: number;
  /** At most this many restarts in all, as a multiple of the requested ones. */
  maxRestartsFactor: number;
}

/**
 * Defaults. Euclidean (DLG, iDLG on LeNet, measured on real photos): successful restarts end at a relative
 * loss of ~1e-8 (≥ 35 dB), stuck L-BFGS restarts sit at 1e-2…1 from their first tens of steps. Cosine
 * (IG): its loss is a slow, noisy descent over thousands of steps, so only restarts that have not moved
 * at all are cut.
 */
export const RESTART_POLICIES: Readonly<Record<'euclidean' | 'cosine', RestartPolicy>> = {
  euclidean: { convergedBelow: 3e-8, stallAbove: 1e-3, stallAfter: 0.25, stallWindow: 0.1, stallFactor: 2, minExtra: 0.25, maxRestartsFactor: 4 },
  cosine: { convergedBelow: 0, stallAbove: Infinity, stallAfter: 1, stallWindow: 1, stallFactor: 1, minExtra: 1, maxRestartsFactor: 1 },
};

/** No early stop, no stall detection: exactly the requested restarts, each of `iterations` steps. */
export const PLAIN_RESTARTS: RestartPolicy = RESTART_POLICIES.cosine;

export interface RunOptions extends AttackOptions {
  /** Independent restarts, default 1. */
  restarts?: number;
  /** Overrides of the attack's {@link RESTART_POLICIES} entry. */
  policy?: Partial<RestartPolicy>;
  /** Called when an attempt starts (restart index from 0, attempt 0 or 1 = retry after divergence). */
  onAttempt?: (info: { restart: number; restarts: number; attempt: number; seed: number }) => void;
}

export interface AttemptRecord {
  restart: number;
  /** 0 = first try, 1 = the retry after a divergence. */
  attempt: number;
  seed: number;
  matchingLoss: number;
  /** matchingLoss relative to the observed gradient (see {@link RestartPolicy}). */
  relativeLoss: number;
  evaluations: number;
  iterations: number;
  seconds: number;
  diverged: boolean;
  divergence?: string;
  /** Stopped by the policy as stalled (its best point stays a candidate). */
  stalled: boolean;
  /** Stopped on request (Ctrl-C). */
  stopped: boolean;
  kept: boolean;
}

export interface AttackRun {
  attack: string;
  /** The kept reconstruction (lowest matching loss among the non-diverged attempts). */
  reconstruction: Reconstruction;
  attempts: AttemptRecord[];
  /** Requested restarts. */
  restarts: number;
  /** Why fewer or more restarts than requested ran: 'converged' (the rest skipped), 'stalls' (extra restarts). */
  policyNote: string | null;
  /** Evaluations over all attempts. */
  evaluations: number;
  seconds: number;
  /** Stopped on request (Ctrl-C) before the planned work was done. */
  interrupted: boolean;
  /** Every attempt diverged: the reconstruction is the best finite point of a diverged one. */
  allDiverged: boolean;
}

/** Seed of restart r, attempt a: the seed itself for (0, 0), otherwise a derived independent stream. */
export function restartSeed(seed: number, restart: number, attempt: number): number {
  if (restart === 0 && attempt === 0) return seed;
  return new Rng(seed).fork(`restart-${restart}-attempt-${attempt}`).nextU32();
}

/** ‖g‖² of the observed gradient (the scale of the euclidean matching loss). */
function observedSquaredNorm(obs: Observation): number {
  const g = observedGradient(obs);
  try {
    return g.reduce((s, t) => s + tf.tidy(() => tf.sum(tf.square(t)).dataSync()[0]!), 0);
  } finally {
    tf.dispose(g);
  }
}

/**
 * Watches one restart's loss, step by step: stalled() turns true when the policy's stall rule holds.
 * Exported for tests.
 */
export class StallDetector {
  private readonly best: number[] = [];
  constructor(private readonly policy: RestartPolicy, private readonly iterations: number, private readonly scale: number) {}
  /** The step count from which the rule applies, and the look-back window (steps). */
  get window(): { from: number; span: number } {
    const span = Math.max(5, Math.ceil(this.policy.stallWindow * this.iterations));
    return { from: Math.max(span, Math.ceil(this.policy.stallAfter * this.iterations)), span };
  }
  /** Record the loss reported after step `iteration` (1-based). */
  observe(loss: number): void {
    const rel = loss / this.scale;
    const prev = this.best.length > 0 ? this.best[this.best.length - 1]! : Infinity;
    this.best.push(Number.isFinite(rel) && rel < prev ? rel : prev);
  }
  stalled(): boolean {
    if (!Number.isFinite(this.policy.stallAbove)) return false;
    const n = this.best.length;
    const { from, span } = this.window;
    if (n < from || n >= this.iterations) return false;
    const now = this.best[n - 1]!;
    const before = this.best[n - 1 - span]!;
    return now > this.policy.stallAbove && !(now * this.policy.stallFactor <= before);
  }
}

export async function runAttack(attack: LeakageAttack, obs: Observation, opts: RunOptions): Promise<AttackRun> {
  const restarts = opts.restarts ?? 1;
  if (!Number.isInteger(restarts) || restarts < 1) throw new ConfigError(`restarts must be a positive integer, got ${restarts}`);
  const distance = attack.matchingDistance ?? 'euclidean';
  const policy: RestartPolicy = { ...RESTART_POLICIES[distance], ...opts.policy };
  const iterations = opts.iterations ?? attack.defaultIterations;
  const scale = distance === 'euclidean' ? observedSquaredNorm(obs) : 1;
  const relative = (loss: number): number => (scale > 0 ? loss / scale : loss);
  const t0 = performance.now();
  const attempts: AttemptRecord[] = [];
  const results: Reconstruction[] = [];
  let interrupted = false;
  let converged = false;
  let stalls = 0;
  // Requested restarts get `iterations` steps each; the steps a stalled one leaves unused are spare, and
  // extra restarts run on them (a stall may be the initialisation's fault, not the observation's).
  let spare = 0;
  const maxRestarts = Math.max(restarts, Math.floor(policy.maxRestartsFactor * restarts));
  for (let r = 0; r < maxRestarts && !interrupted && !converged; r++) {
    if (r >= restarts && spare < Math.max(1, policy.minExtra * iterations)) break;
    const steps = r < restarts ? iterations : Math.min(iterations, spare);
    for (let a = 0; a < 2; a++) {
      const seed = restartSeed(opts.seed, r, a);
      opts.onAttempt?.({ restart: r, restarts, attempt: a, seed });
      const detector = new StallDetector(policy, steps, scale > 0 ? scale : 1);
      let stalled = false;
      const ta = performance.now();
      const rec = await attack.reconstruct(obs, {
        ...opts,
        iterations: steps,
        seed,
        onProgress: async (p) => {
          detector.observe(p.loss);
          await opts.onProgress?.(p);
        },
        shouldStop: () => {
          if (opts.shouldStop?.()) return true;
          if (!stalled && detector.stalled()) stalled = true;
          return stalled;
        },
      });
      const userStop = rec.stopped && !stalled;
      attempts.push({
        restart: r, attempt: a, seed, matchingLoss: rec.matchingLoss, relativeLoss: relative(rec.matchingLoss), evaluations: rec.evaluations,
        iterations: rec.iterations, seconds: (performance.now() - ta) / 1000, diverged: rec.diverged, stalled, stopped: userStop, kept: false,
        ...(rec.divergence !== undefined ? { divergence: rec.divergence } : {}),
      });
      results.push(stalled ? { ...rec, stopped: false } : rec);
      if (a === 0) spare += r < restarts ? (stalled ? steps - rec.iterations : 0) : -rec.iterations;
      if (stalled) stalls++;
      if (userStop) interrupted = true;
      if (!rec.diverged && !stalled && Number.isFinite(rec.matchingLoss) && relative(rec.matchingLoss) <= policy.convergedBelow) converged = true;
      if (!rec.diverged || userStop) break; // retry a diverged attempt once, with a new seed
    }
  }
  const finite = (i: number): boolean => Number.isFinite(results[i]!.matchingLoss);
  const healthy = results.map((_, i) => i).filter((i) => !results[i]!.diverged && finite(i));
  const pool = healthy.length > 0 ? healthy : results.map((_, i) => i).filter(finite);
  const candidates = pool.length > 0 ? pool : results.map((_, i) => i);
  const keep = candidates.reduce((b, i) => (results[i]!.matchingLoss < results[b]!.matchingLoss ? i : b), candidates[0]!);
  attempts[keep]!.kept = true;
  const ran = new Set(attempts.map((x) => x.restart)).size;
  let policyNote: string | null = null;
  if (converged && ran < restarts) policyNote = `restart ${ran} matched the gradient (relative loss ≤ ${policy.convergedBelow}): the remaining ${restarts - ran} skipped`;
  else if (stalls > 0) policyNote = `${stalls} stalled restart${stalls === 1 ? '' : 's'} stopped early${ran > restarts ? `; ${ran - restarts} extra restart${ran - restarts === 1 ? '' : 's'} ran on the steps left` : ''}`;
  return {
    attack: attack.name,
    reconstruction: results[keep]!,
    attempts,
    restarts,
    policyNote,
    evaluations: results.reduce((s, r) => s + r.evaluations, 0),
    seconds: (performance.now() - t0) / 1000,
    interrupted,
    allDiverged: healthy.length === 0,
  };
}

// ---------------------------------------------------------------------------------------------------
// Scoring against the ground truth

export interface GroundTruth {
  /** One H·W·C array in [0, 1] per image. */
  images: Float32Array[];
  labels: number[];
}

export interface ImageScore {
  /** Index of the ground-truth image. */
  index: number;
  /** Index of the reconstruction matched to it. */
  reconstruction: number;
  trueLabel: number;
  predictedLabel: number;
  mse: number;
  psnr: number;
  ssim: number;
}

export interface Score {
  /** Means over the images. */
  mse: number;
  psnr: number;
  ssim: number;
  /** Matched pairs whose label is right. */
  labelAccuracy: number;
  /** Order-free: overlap of the recovered and true label multisets. */
  labelMultisetAccuracy: number;
  perImage: ImageScore[];
}

/** Splits B·H·W·C values into B images. */
export function splitImages(all: Float32Array, shape: Shape3): Float32Array[] {
  const n = shape[0] * shape[1] * shape[2];
  return Array.from({ length: all.length / n }, (_, i) => all.slice(i * n, (i + 1) * n));
}

export function scoreReconstruction(rec: Reconstruction, truth: GroundTruth, shape: Shape3): Score {
  const [h, w, c] = shape;
  const recons = splitImages(rec.images, shape).map((img) => img.map((v) => (v > 0 ? (v < 1 ? v : 1) : 0)));
  const m = matchAndScore(recons, truth.images, h, w, c, { by: 'mse', dataRange: 1 });
  const perImage: ImageScore[] = m.pairs.map((p) => ({
    index: p.truth, reconstruction: p.recon, trueLabel: truth.labels[p.truth]!, predictedLabel: rec.labels[p.recon]!,
    mse: p.mse, psnr: p.psnr, ssim: p.ssim,
  }));
  return {
    mse: m.mean.mse,
    psnr: m.mean.psnr,
    ssim: m.mean.ssim,
    labelAccuracy: labelAccuracy(perImage.map((p) => p.predictedLabel), perImage.map((p) => p.trueLabel)),
    // more true samples than reconstructions (a multi-step update): compare with the matched samples' labels
    labelMultisetAccuracy: labelMultisetAccuracy(rec.labels,
      truth.labels.length === rec.labels.length ? truth.labels : perImage.map((p) => p.trueLabel)),
    perImage,
  };
}
