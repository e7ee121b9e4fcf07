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
import { ConfigError, type AttackOptions, type LeakageAttack, type Observation, type Reconstruction } from './types.js';

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

export interface RunOptions extends AttackOptions {
  /** Independent restarts, default 1. */
  restarts?: number;
  /** Called when an attempt starts (restart index from 0, attempt 0 or 1 = retry after divergence). */
  onAttempt?: (info: { restart: number; restarts: number; attempt: number; seed: number }) => void;
}

export interface AttemptRecord {
  restart: number;
  /** 0 = first try, 1 = the retry after a divergence. */
  attempt: number;
  seed: number;
  matchingLoss: number;
  evaluations: number;
  iterations: number;
  seconds: number;
  diverged: boolean;
  divergence?: string;
  stopped: boolean;
  kept: boolean;
}

export interface AttackRun {
  attack: string;
  /** The kept reconstruction (lowest matching loss among the non-diverged attempts). */
  reconstruction: Reconstruction;
  attempts: AttemptRecord[];
  restarts: number;
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

export async function runAttack(attack: LeakageAttack, obs: Observation, opts: RunOptions): Promise<AttackRun> {
  const restarts = opts.restarts ?? 1;
  if (!Number.isInteger(restarts) || restarts < 1) throw new ConfigError(`restarts must be a positive integer, got ${restarts}`);
  const t0 = performance.now();
  const attempts: AttemptRecord[] = [];
  const results: Reconstruction[] = [];
  let interrupted = false;
  for (let r = 0; r < restarts && !interrupted; r++) {
    for (let a = 0; a < 2; a++) {
      const seed = restartSeed(opts.seed, r, a);
      opts.onAttempt?.({ restart: r, restarts, attempt: a, seed });
      const ta = performance.now();
      const rec = await attack.reconstruct(obs, { ...opts, seed });
      attempts.push({
        restart: r, attempt: a, seed, matchingLoss: rec.matchingLoss, evaluations: rec.evaluations, iterations: rec.iterations,
        seconds: (performance.now() - ta) / 1000, diverged: rec.diverged, stopped: rec.stopped, kept: false,
        ...(rec.divergence !== undefined ? { divergence: rec.divergence } : {}),
      });
      results.push(rec);
      if (rec.stopped) interrupted = true;
      if (!rec.diverged || rec.stopped) break; // retry a diverged attempt once, with a new seed
    }
  }
  const finite = (i: number): boolean => Number.isFinite(results[i]!.matchingLoss);
  const healthy = results.map((_, i) => i).filter((i) => !results[i]!.diverged && finite(i));
  const pool = healthy.length > 0 ? healthy : results.map((_, i) => i).filter(finite);
  const candidates = pool.length > 0 ? pool : results.map((_, i) => i);
  const keep = candidates.reduce((b, i) => (results[i]!.matchingLoss < results[b]!.matchingLoss ? i : b), candidates[0]!);
  attempts[keep]!.kept = true;
  return {
    attack: attack.name,
    reconstruction: results[keep]!,
    attempts,
    restarts,
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
