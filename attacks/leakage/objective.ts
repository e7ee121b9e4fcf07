/**
 * Gradient matching: the quantity every gradient-leakage attack minimises over a dummy batch.
 *   ∇θ L(x, t) — the training-loss gradient the victim would send for inputs x and (soft) targets t,
 *                computed so that it stays differentiable w.r.t. x and t (a gradient of a gradient);
 *   euclidean  — DLG (Zhu et al. 2019):  Σ_params ‖∇θ L(x', t') − g‖²;
 *   cosine     — Inverting Gradients (Geiping et al. 2020):  1 − <∇θ L, g> / (‖∇θ L‖ ‖g‖), over all
 *                parameters as one vector.
 */
import { tf } from '../../src/engine/tf.js';
import { fusedSquaredDistance, softCrossEntropy } from '../../src/engine/ops.js';
import type { Model, Params } from '../../src/models/index.js';

/** The victim's parameter gradient for inputs x and targets t (rows summing to 1), in model order. */
export function paramGradients(model: Model, params: Params, x: tf.Tensor4D, targets: tf.Tensor): tf.Tensor[] {
  const names = model.paramShapes.map(([n]) => n);
  const loss = (...ps: tf.Tensor[]): tf.Scalar => {
    const p: Params = {};
    names.forEach((n, i) => (p[n] = ps[i]!));
    return softCrossEntropy(model.apply(p, x), targets);
  };
  return tf.grads(loss)(names.map((n) => params[n]!));
}

/** Sum of same-shaped tensors by a chain of adds (tfjs-webgpu's addN of ≥ 8 inputs exceeds default limits). */
function addAll(ts: tf.Tensor[]): tf.Tensor {
  return ts.reduce((acc, t) => tf.add(acc, t));
}

/**
 * Σ_i ‖a_i − b_i‖². On cpu and wasm one fused kernel with float64 accumulation (one dispatch, and one
 * per tensor in its gradient; src/engine/kernels/SquaredDistance.ts); elsewhere per tensor (a single
 * kernel over 16 inputs would exceed WebGPU's default storage-buffer limit).
 */
export function euclideanDistance(a: tf.Tensor[], b: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => fusedSquaredDistance(a, b) ?? (addAll(a.map((g, i) => tf.sum(tf.squaredDifference(g, b[i]!)))) as tf.Scalar));
}

/** 1 − cos(a, b) with all tensors of each list taken as one vector. */
export function cosineDistance(a: tf.Tensor[], b: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    const dot = addAll(a.map((g, i) => tf.sum(tf.mul(g, b[i]!))));
    const na = tf.sqrt(addAll(a.map((g) => tf.sum(tf.square(g)))));
    const nb = tf.sqrt(addAll(b.map((g) => tf.sum(tf.square(g)))));
    return tf.sub(1, tf.div(dot, tf.add(tf.mul(na, nb), 1e-12))) as tf.Scalar;
  });
}

/**
 * The DLG objective at a dummy batch: Σ ‖∇θ L(x', softmax(y')) − g‖², where y' are label logits
 * (DLG) — or, with `labelsAreProbabilities`, fixed targets (iDLG's analytically recovered one-hot).
 */
export function dlgObjective(
  model: Model, params: Params, target: tf.Tensor[], x: tf.Tensor4D, y: tf.Tensor, labelsAreProbabilities = false,
): tf.Scalar {
  return tf.tidy(() => {
    const t = labelsAreProbabilities ? y : tf.softmax(y, -1);
    return euclideanDistance(paramGradients(model, params, x, t), target);
  });
}
