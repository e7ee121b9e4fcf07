/**
 * Deep Leakage from Gradients (DLG) — Zhu, Liu, Han, NeurIPS 2019 ("Deep Leakage from Gradients",
 * arXiv:1906.08935; code mit-han-lab/dlg).
 *
 * Given the observed gradient g = ∇θ L(F(x; θ), y) of the victim's batch, find a dummy batch (x', y')
 * whose gradient matches it:
 *
 *     x'*, y'* = argmin_{x', y'}  Σ_params ‖ ∇θ L(F(x'; θ), softmax(y')) − g ‖²
 *
 * with L the batch-mean soft cross-entropy −Σ_c t_c log softmax(z)_c. Dummy images and dummy label
 * logits start from N(0, 1) and are optimised jointly; the recovered label is argmax softmax(y').
 *
 * Parameters and defaults (the paper's / the authors' code):
 * - optimizer `lbfgs`, lr 1, PyTorch semantics: one iteration = one `optimizer.step(closure)` of up to
 *   20 inner L-BFGS iterations (≈ 20 objective evaluations), history 100, no line search;
 *   `adam` (lr 0.1) is offered but does not converge for DLG in 300–3000 steps (see tfjs-notes.md);
 * - iterations 300 (≈ 4–6k objective evaluations);
 * - tv 0 (no prior; the paper has none).
 * Image space: the dummy x' lives in the model's input space, which for fedattack is [0, 1] pixels (the
 * DLG code feeds `ToTensor()` images, also [0, 1], unnormalised). x' is not constrained during the
 * optimisation (as in DLG); the returned images and all metrics are clipped to [0, 1].
 *
 * This file also holds {@link matchGradients}, the gradient-matching loop shared by DLG, iDLG and
 * Inverting Gradients: dummy variables, objective, optimiser steps, best-point tracking, divergence
 * detection, snapshots, progress and cooperative stopping.
 */
import { tf } from '../../src/engine/tf.js';
import { Rng } from '../../src/engine/rng.js';
import { oneHot } from '../../src/engine/ops.js';
import { readScalar, readValues } from '../../src/engine/read.js';
import { makeOptimizer, type Objective, type Optimizer } from '../../src/engine/optim/index.js';
import { cosineDistance, euclideanDistance, paramGradients } from './objective.js';
import {
  ConfigError, observedBatch, observedGradient,
  type AttackOptions, type LeakageAttack, type Observation, type Reconstruction, type Snapshot,
} from './types.js';

/** How one gradient-matching attack is set up (everything but the seed and the callbacks). */
export interface MatchingSpec {
  /** 'euclidean': Σ‖∇θ − g‖² (DLG, iDLG); 'cosine': 1 − cos(∇θ, g) over all parameters (IG). */
  distance: 'euclidean' | 'cosine';
  /** Fixed labels (iDLG, IG), or null to optimise label logits jointly (DLG). */
  labels: number[] | null;
  labelMethod: string;
  /**
   * The optimised variable v relates to the image by x = mean + std · v, and v starts at N(0, 1).
   * DLG/iDLG: mean 0, std 1 (x' ~ N(0, 1) in pixel space). IG: the "normalised image" of inversefed.
   */
  space: { mean: number; std: number };
  /** Clamp x to [0, 1] after every step (IG's box constraint). */
  box: boolean;
  optimizer: 'lbfgs' | 'adam';
  lr: number;
  iterations: number;
  /** Weight of the anisotropic total variation of v (mean |Δ| along height + along width); 0 = none. */
  tv: number;
  /** Adam on sign(∇) (IG). */
  signed: boolean;
  /** Multiply lr by 0.1 at 3/8, 5/8 and 7/8 of the iterations (IG). */
  lrDecay: boolean;
  /** A loss above `explode` × the initial loss counts as divergence. */
  explode?: number;
}

/** Anisotropic total variation: mean |v[h+1] − v[h]| + mean |v[w+1] − v[w]| (inversefed's TV). */
export function totalVariation(v: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const [b, h, w, c] = v.shape;
    const dh = tf.mean(tf.abs(tf.sub(tf.slice(v, [0, 1, 0, 0], [b, h - 1, w, c]), tf.slice(v, [0, 0, 0, 0], [b, h - 1, w, c]))));
    const dw = tf.mean(tf.abs(tf.sub(tf.slice(v, [0, 0, 1, 0], [b, h, w - 1, c]), tf.slice(v, [0, 0, 0, 0], [b, h, w - 1, c]))));
    return tf.add(dh, dw) as tf.Scalar;
  });
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Iterations at which a snapshot is taken: n points spread over [0, iterations] (the end is added later). */
function snapshotIterations(iterations: number, n: number): Set<number> {
  const out = new Set<number>();
  const k = Math.max(2, n);
  for (let i = 0; i < k - 1; i++) out.add(Math.round((i * iterations) / (k - 1)));
  return out;
}

/**
 * The gradient-matching optimisation shared by the leakage attacks. Owns and disposes every tensor it
 * creates (variables, target, optimiser state) whatever happens. Returns the best point seen (lowest
 * objective), clipped to [0, 1].
 */
export async function matchGradients(obs: Observation, spec: MatchingSpec, opts: AttackOptions): Promise<Reconstruction> {
  const model = obs.model;
  const B = observedBatch(obs);
  const [H, W, C] = model.inputShape;
  const K = model.classes;
  const n = B * H * W * C;
  if (spec.labels !== null && spec.labels.length !== B) throw new ConfigError(`${spec.labels.length} labels for a batch of ${B}`);
  if (!(spec.iterations >= 0) || !Number.isInteger(spec.iterations)) throw new ConfigError(`iterations must be a non-negative integer, got ${spec.iterations}`);
  if (!(spec.lr > 0) || !Number.isFinite(spec.lr)) throw new ConfigError(`lr must be a positive finite number, got ${spec.lr}`);
  if (!(spec.tv >= 0) || !Number.isFinite(spec.tv)) throw new ConfigError(`tv must be a finite number ≥ 0, got ${spec.tv}`);
  const { mean, std } = spec.space;
  const lo = (0 - mean) / std;
  const hi = (1 - mean) / std;
  const rng = new Rng(opts.seed);
  const explode = spec.explode ?? 1e6;

  const target: tf.Tensor[] = observedGradient(obs);
  const params = obs.globalParams;
  const x0 = opts.init?.x ?? rng.normalArray(n);
  const y0 = spec.labels === null ? (opts.init?.y ?? rng.normalArray(B * K)) : null;
  if (x0.length !== n) throw new ConfigError(`init.x has ${x0.length} values, expected ${n} (${B}x${H}x${W}x${C})`);
  if (y0 !== null && y0.length !== B * K) throw new ConfigError(`init.y has ${y0.length} values, expected ${B * K} (${B}x${K})`);
  // tf.variable keeps its own reference to the initial tensor's data; the tensor itself must go
  const makeVar = (t: tf.Tensor): tf.Variable => {
    const v = tf.variable(t, true, undefined, 'float32');
    t.dispose();
    return v;
  };
  const vx = makeVar(tf.tensor4d(x0, [B, H, W, C]));
  const vy = y0 === null ? null : makeVar(tf.tensor2d(y0, [B, K]));
  const fixedTargets = spec.labels === null ? null : oneHot(spec.labels, K);
  const vars: tf.Variable[] = vy === null ? [vx] : [vx, vy];
  let opt: Optimizer | null = null;

  /** The matching term at (v, y-logits). */
  const matching = (v: tf.Tensor, y: tf.Tensor | null): tf.Scalar => {
    const x = (mean === 0 && std === 1 ? v : tf.add(tf.mul(v, std), mean)) as tf.Tensor4D;
    const t = fixedTargets ?? tf.softmax(y!, -1);
    const g = paramGradients(model, params, x, t);
    return spec.distance === 'euclidean' ? euclideanDistance(g, target) : cosineDistance(g, target);
  };
  const objectiveValue = (v: tf.Tensor, y: tf.Tensor | null): tf.Scalar => {
    const m = matching(v, y);
    return spec.tv > 0 ? (tf.add(m, tf.mul(totalVariation(v as tf.Tensor4D), spec.tv)) as tf.Scalar) : m;
  };
  const valueAndGrads = tf.valueAndGrads((...ts: tf.Tensor[]) => objectiveValue(ts[0]!, ts[1] ?? null));
  const objective: Objective = () => {
    const { value, grads } = valueAndGrads(vars);
    return { loss: value as tf.Scalar, grads };
  };
  const scalarAt = async (f: () => tf.Scalar): Promise<number> => {
    const s = tf.tidy(f);
    try {
      return await readScalar(s);
    } finally {
      s.dispose();
    }
  };
  const toImages = (v: Float32Array): Float32Array => {
    const out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const p = mean + std * v[i]!;
      out[i] = p > 0 ? (p < 1 ? p : 1) : 0; // NaN → 0
    }
    return out;
  };
  const labelsFrom = (y: Float32Array | null): number[] => {
    if (spec.labels !== null) return spec.labels.slice();
    const out: number[] = [];
    for (let b = 0; b < B; b++) {
      let best = 0;
      for (let c = 1; c < K; c++) if (y![b * K + c]! > y![b * K + best]!) best = c;
      out.push(best);
    }
    return out;
  };

  try {
    opt = spec.optimizer === 'lbfgs'
      ? makeOptimizer('lbfgs', vars, { lr: spec.lr })
      : makeOptimizer('adam', vars, { lr: spec.lr, signedGradients: spec.signed });
    const snapAt = snapshotIterations(spec.iterations, opts.snapshots ?? 8);
    const snapshots: Snapshot[] = [];
    const milestones = spec.lrDecay ? [3 / 8, 5 / 8, 7 / 8].map((f) => Math.floor(f * spec.iterations)) : [];
    const readVars = async (): Promise<{ v: Float32Array; y: Float32Array | null }> => ({
      v: await readValues(vx),
      y: vy === null ? null : await readValues(vy),
    });
    let best: { loss: number; v: Float32Array; y: Float32Array | null } = { loss: Infinity, ...(await readVars()) };
    let initialLoss = NaN;
    let diverged = false;
    let divergence: string | undefined;
    let stopped = false;
    let done = 0;
    let lastYield = performance.now();
    for (let it = 0; it < spec.iterations; it++) {
      if (opts.shouldStop?.()) {
        stopped = true;
        break;
      }
      if (milestones.includes(it)) opt.setLearningRate(spec.lr * 0.1 ** milestones.filter((m) => m <= it).length);
      const { v: curV, y: curY } = await readVars();
      const loss = await opt.step(objective); // the objective at (curV, curY), before the step
      if (it === 0) initialLoss = loss;
      if (Number.isFinite(loss) && loss < best.loss) best = { loss, v: curV, y: curY };
      if (snapAt.has(it) && Number.isFinite(loss)) snapshots.push({ iteration: it, loss, images: toImages(curV) });
      done = it + 1;
      if (opt.diverged || !Number.isFinite(loss)) {
        diverged = true;
        divergence = `non-finite loss or gradient in step ${it + 1}`;
        break;
      }
      if (initialLoss > 0 && loss > explode * initialLoss) {
        diverged = true;
        divergence = `exploding loss ${loss.toExponential(2)} (> ${explode.toExponential(0)} × initial ${initialLoss.toExponential(2)}) in step ${it + 1}`;
        break;
      }
      if (spec.box) tf.tidy(() => vx.assign(tf.clipByValue(vx, lo, hi)));
      await opts.onProgress?.({
        iteration: done, iterations: spec.iterations, loss, evaluations: opt.evaluations, images: async () => toImages(await readValues(vx)),
      });
      if (performance.now() - lastYield > 50) {
        await yieldToEventLoop(); // lets Ctrl-C and the progress bar's timers run
        lastYield = performance.now();
      }
    }
    let extraEvals = 0;
    // The point the last step produced has not been evaluated yet (after a divergence: the last finite
    // point the optimiser restored, which may still be the best one).
    {
      const { v, y } = await readVars();
      const loss = await scalarAt(() => objectiveValue(vx, vy));
      extraEvals++;
      if (Number.isFinite(loss) && loss < best.loss) best = { loss, v, y };
      if (!diverged && (!Number.isFinite(loss) || (initialLoss > 0 && loss > explode * initialLoss))) {
        diverged = true;
        divergence = `non-finite or exploding loss after step ${done}`;
      }
    }
    // The matching loss (no prior) at the returned point: what restarts are compared by.
    let matchingLoss = best.loss;
    if (spec.tv > 0 && Number.isFinite(best.loss)) {
      const b = best;
      matchingLoss = await scalarAt(() => matching(tf.tensor4d(b.v, [B, H, W, C]), b.y === null ? null : tf.tensor2d(b.y, [B, K])));
      extraEvals++;
    }
    const images = toImages(best.v);
    const lastIt = snapshots.length > 0 ? snapshots[snapshots.length - 1]!.iteration : -1;
    if (lastIt !== done && Number.isFinite(best.loss)) snapshots.push({ iteration: done, loss: best.loss, images });
    return {
      images,
      labels: labelsFrom(best.y),
      matchingLoss,
      evaluations: opt.evaluations + extraEvals,
      diverged,
      snapshots,
      iterations: done,
      stopped,
      labelMethod: spec.labelMethod,
      ...(divergence !== undefined ? { divergence } : {}),
    };
  } finally {
    opt?.dispose();
    tf.dispose([...target, ...vars, ...(fixedTargets ? [fixedTargets] : [])]);
  }
}

/** DLG defaults (the paper's). */
export const DLG_DEFAULTS = { iterations: 300, optimizer: 'lbfgs' as const, lrLbfgs: 1, lrAdam: 0.1, tv: 0 };

export const dlg: LeakageAttack = {
  name: 'dlg',
  about: 'Deep Leakage from Gradients (Zhu et al. 2019): joint image + soft-label gradient matching, L-BFGS',
  maxBatch: 8,
  defaultIterations: DLG_DEFAULTS.iterations,
  defaultOptimizer: DLG_DEFAULTS.optimizer,
  defaultLr: { lbfgs: DLG_DEFAULTS.lrLbfgs, adam: DLG_DEFAULTS.lrAdam },
  defaultTv: DLG_DEFAULTS.tv,
  async reconstruct(obs: Observation, opts: AttackOptions): Promise<Reconstruction> {
    const optimizer = opts.optimizer ?? DLG_DEFAULTS.optimizer;
    return matchGradients(obs, {
      distance: 'euclidean',
      labels: null,
      labelMethod: 'joint optimisation (argmax softmax of dummy label logits)',
      space: { mean: 0, std: 1 },
      box: false,
      optimizer,
      lr: opts.lr ?? (optimizer === 'lbfgs' ? DLG_DEFAULTS.lrLbfgs : DLG_DEFAULTS.lrAdam),
      iterations: opts.iterations ?? DLG_DEFAULTS.iterations,
      tv: opts.tv ?? DLG_DEFAULTS.tv,
      signed: false,
      lrDecay: false,
    }, opts);
  },
};
