/**
 * Gradient matching: the quantity every gradient-leakage attack minimises over a dummy batch.
 *   ∇θ L(x, t) — the training-loss gradient the victim would send for inputs x and (soft) targets t,
 *                computed so that it stays differentiable w.r.t. x and t (a gradient of a gradient);
 *   euclidean  — DLG (Zhu et al. 2019):  Σ_params ‖∇θ L(x', t') − g‖²;
 *   cosine     — Inverting Gradients (Geiping et al. 2020):  1 − <∇θ L, g> / (‖∇θ L‖ ‖g‖), over all
 *                parameters as one vector.
 */
import { tf } from '../../src/engine/tf.js';
import { softCrossEntropy } from '../../src/engine/ops.js';
import { sharedReshape } from '../../src/engine/shared-clone.js';
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
 * Σ_i ‖a_i − b_i‖². On cpu and wasm as one squared difference of the concatenated vectors (zero-padded
 * to rows of 256 and summed per row, then over rows: wasm's Sum accumulates sequentially in float32, so
 * one 78k-long sum would lose accuracy; two stages lose less than the per-tensor sums did) — 6 kernel
 * dispatches and ~8 in its gradient instead of 3 and ~5 per tensor. Elsewhere per tensor (a concat of 8
 * inputs would exceed WebGPU's default storage-buffer limit).
 */
export function euclideanDistance(a: tf.Tensor[], b: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    const backend = tf.getBackend();
    if (a.length > 1 && (backend === 'cpu' || backend === 'wasm')) {
      const n = a.reduce((s, t) => s + t.size, 0);
      const rows = Math.ceil(n / ROW);
      const pad = rows * ROW - n;
      const flat = (ts: tf.Tensor[]): tf.Tensor => {
        const parts = ts.map((t) => sharedReshape(t, [t.size]));
        if (pad > 0) parts.push(tf.zeros([pad]));
        return sharedReshape(tf.concat(parts), [rows, ROW]);
      };
      return tf.sum(tf.sum(tf.squaredDifference(flat(a), flat(b)), 1)) as tf.Scalar;
    }
    return addAll(a.map((g, i) => tf.sum(tf.squaredDifference(g, b[i]!)))) as tf.Scalar;
  });
}
const ROW = 256;

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
