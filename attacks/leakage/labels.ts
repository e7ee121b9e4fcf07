/**
 * Label restoration from the last layer's gradient — no optimisation, a few hundred flops.
 *
 * Setting: the model ends with a dense layer z = h·W + b (W [F, K], b [K]) and softmax cross-entropy
 * averaged over the batch (PyTorch's default `reduction='mean'`). With p_i = softmax(z_i), one-hot y_i,
 * features h_i of sample i and n_c the number of samples of class c, the observed gradients are
 *
 *     ∂L/∂b_c   = (1/B) Σ_i (p_ic − y_ic)          = (P_c − n_c) / B,        P_c = Σ_i p_ic ∈ [0, B]
 *     ∂L/∂W_·c  = (1/B) Σ_i (p_ic − y_ic) · h_i
 *
 * **B = 1 — iDLG** (Zhao et al. 2020, "iDLG: Improved Deep Leakage from Gradients", arXiv:2001.02610):
 * ∂L/∂b_c = p_c − y_c is negative exactly at the true class, so  label = argmin_c ∂L/∂b_c.  Without a
 * bias, the column of ∂L/∂W with negative sum (features ≥ 0 after sigmoid/ReLU): argmin_c Σ_f ∂L/∂W_fc.
 * Exact (100%) for B = 1 whatever the image.
 *
 * **B > 1 — counts from magnitudes** (method 'analytic', the default): from the first line,
 *
 *     n_c = P_c − B · ∂L/∂b_c .
 *
 * P_c is unknown; we estimate it white-box, as the server knows W and b: if every sample had the same
 * features h̄, then ∂L/∂W_·c = ∂L/∂b_c · h̄ for every c, so the least-squares mean feature is
 *     h̄ = Σ_c ∂L/∂b_c · ∂L/∂W_·c / Σ_c (∂L/∂b_c)²,     and  P̂_c = B · softmax(h̄·W + b)_c,
 * giving real-valued counts n̂_c = P̂_c − B·∂L/∂b_c (the LLG idea of Wainakh et al. 2022, "User-Level
 * Label Leakage from Gradients in Federated Learning", PoPETs, with the "impact" estimated from the
 * observed gradient itself instead of from auxiliary data). Integer counts are then chosen greedily:
 *   1. every class with ∂L/∂b_c < 0 is certainly present (n_c > P_c ≥ 0) and gets one label
 *      (if there are more than B such classes — possible only with noisy gradients — the B most negative);
 *   2. the remaining B − (#labels) slots go one at a time to the class with the largest residual
 *      n̂_c − (labels given so far), so classes can repeat and B > K (more samples than classes) works.
 * Method 'bias-corrected' is breaching's heuristic of the same name (Geiping et al., `breaching`
 * `_recover_label_information`): stage 1 as above, then each label "costs" the mean negative bias mass
 * m = Σ_{c: g_c<0} g_c / B, filled by repeatedly taking argmin_c (g_c − m·count_c).
 *
 * Assumptions (documented failure modes): mean-reduced cross-entropy (a sum-reduced client scales the
 * gradient by B; pass the right batch size); an `update` observation is read as a gradient through
 * `observedGradient` (exact for one local step). Labels come out grouped by class, in no particular order
 * with respect to the images; scoring matches them after the image assignment.
 */
import { tf } from '../../src/engine/tf.js';
import { readValues } from '../../src/engine/read.js';
import { ConfigError, lastLayer, observedBatch, observedGradient, type Observation } from './types.js';

export type LabelMethod = 'auto' | 'idlg' | 'analytic' | 'bias-corrected';
export const LABEL_METHODS: LabelMethod[] = ['auto', 'idlg', 'analytic', 'bias-corrected'];

export interface LabelRestoration {
  labels: number[];
  /** The method actually used ('auto' resolved). */
  method: Exclude<LabelMethod, 'auto'>;
  /** Real-valued per-class count estimate n̂_c (method 'analytic'); null otherwise. */
  estimatedCounts: number[] | null;
}

/** The last layer's observed gradients as plain arrays: bias [K] (or null) and weight [F, K] (or null). */
export async function lastLayerGradient(obs: Observation): Promise<{ bias: Float32Array | null; weight: Float32Array | null; features: number }> {
  const { weight, bias } = lastLayer(obs.model);
  if (weight === null && bias === null) {
    throw new ConfigError(`model '${obs.model.name}' has no last dense layer with ${obs.model.classes} outputs: labels cannot be restored`);
  }
  const names = obs.model.paramShapes.map(([n]) => n);
  const grads = observedGradient(obs);
  try {
    const pick = async (n: string | null): Promise<Float32Array | null> => (n === null ? null : readValues(grads[names.indexOf(n)]!));
    const features = weight === null ? 0 : obs.model.paramShapes.find(([n]) => n === weight)![1][0]!;
    return { bias: await pick(bias), weight: await pick(weight), features };
  } finally {
    tf.dispose(grads);
  }
}

/** iDLG: the class of a single sample (argmin of the bias gradient, else of the weight-column sums). */
export function idlgLabel(bias: Float32Array | null, weight: Float32Array | null, classes: number): number {
  let score: Float64Array;
  if (bias !== null) score = Float64Array.from(bias);
  else if (weight !== null) {
    score = new Float64Array(classes);
    for (let i = 0; i < weight.length; i++) score[i % classes]! += weight[i]!;
  } else throw new ConfigError('no last-layer gradient to read the label from');
  return argmin(score);
}

/** Restores B labels from an observation (see the file header for the methods). */
export async function restoreLabels(obs: Observation, opts: { method?: LabelMethod; batch?: number } = {}): Promise<LabelRestoration> {
  const B = opts.batch ?? observedBatch(obs);
  const K = obs.model.classes;
  const requested = opts.method ?? 'auto';
  if (!LABEL_METHODS.includes(requested)) throw new ConfigError(`unknown label method '${requested}' (known: ${LABEL_METHODS.join(', ')})`);
  const method = requested === 'auto' ? (B === 1 ? 'idlg' : 'analytic') : requested;
  const { bias, weight, features } = await lastLayerGradient(obs);
  if (method === 'idlg') {
    if (B !== 1) throw new ConfigError(`the iDLG label rule needs batch 1 (got ${B}); use 'analytic' or 'bias-corrected'`);
    return { labels: [idlgLabel(bias, weight, K)], method, estimatedCounts: null };
  }
  // For B > 1 the bias gradient is needed; without a bias, column sums of the weight gradient divided by
  // the mean feature play its role only approximately, so we require a bias.
  if (bias === null) throw new ConfigError(`batch label restoration needs a bias in the last layer of '${obs.model.name}'`);
  if (method === 'bias-corrected') return { labels: biasCorrected(bias, B), method, estimatedCounts: null };
  const counts = await analyticCounts(obs, bias, weight, features, B);
  return { labels: countsToLabels(bias, counts, B), method, estimatedCounts: counts };
}

/** n̂_c = P̂_c − B·g_c with P̂ from the least-squares mean feature (see the header). */
async function analyticCounts(obs: Observation, g: Float32Array, gW: Float32Array | null, F: number, B: number): Promise<number[]> {
  const K = g.length;
  const { weight, bias } = lastLayer(obs.model);
  let P: Float64Array;
  if (gW === null || weight === null) {
    P = new Float64Array(K).fill(B / K); // no weight gradient: uniform predictions
  } else {
    let gg = 0;
    for (let c = 0; c < K; c++) gg += g[c]! * g[c]!;
    const h = new Float64Array(F);
    if (gg > 0) {
      for (let f = 0; f < F; f++) {
        let s = 0;
        for (let c = 0; c < K; c++) s += g[c]! * gW[f * K + c]!;
        h[f] = s / gg;
      }
    }
    const W = await readValues(obs.globalParams[weight]!);
    const b = bias === null ? null : await readValues(obs.globalParams[bias]!);
    const z = new Float64Array(K);
    for (let c = 0; c < K; c++) {
      let s = b === null ? 0 : b[c]!;
      for (let f = 0; f < F; f++) s += h[f]! * W[f * K + c]!;
      z[c] = s;
    }
    const m = Math.max(...z);
    let sum = 0;
    for (let c = 0; c < K; c++) sum += (z[c] = Math.exp(z[c]! - m));
    P = z.map((v) => (B * v) / sum);
  }
  return Array.from(P, (p, c) => p - B * g[c]!);
}

/** Integer counts: stage 1 (negative bias gradient ⇒ present), stage 2 (largest residual estimate). */
function countsToLabels(g: Float32Array, estimate: number[], B: number): number[] {
  const labels = presentClasses(g, B);
  const count = new Float64Array(g.length);
  for (const c of labels) count[c]! += 1;
  while (labels.length < B) {
    let best = 0;
    for (let c = 1; c < g.length; c++) if (estimate[c]! - count[c]! > estimate[best]! - count[best]!) best = c;
    labels.push(best);
    count[best]! += 1;
  }
  return labels;
}

/** breaching's 'bias-corrected': each label accounts for m = Σ_{g<0} g / B of the bias gradient. */
function biasCorrected(g: Float32Array, B: number): number[] {
  const labels = presentClasses(g, B);
  let neg = 0;
  for (const v of g) if (v < 0) neg += v;
  const m = neg / B;
  const r = Float64Array.from(g);
  for (const c of labels) r[c]! -= m;
  while (labels.length < B) {
    const c = argmin(r);
    labels.push(c);
    r[c]! -= m;
  }
  return labels;
}

/** Classes with a negative bias gradient, most negative first, at most B of them. */
function presentClasses(g: Float32Array, B: number): number[] {
  const neg: number[] = [];
  for (let c = 0; c < g.length; c++) if (g[c]! < 0) neg.push(c);
  neg.sort((a, b) => g[a]! - g[b]! || a - b);
  return neg.slice(0, B);
}

function argmin(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! < a[best]!) best = i;
  return best;
}
