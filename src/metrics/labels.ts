/**
 * Label-recovery metrics for label-inference attacks (iDLG and batch label inference).
 *
 * **Position-wise accuracy** — `acc(pred, truth) = (1/B) Σ_i [pred_i = truth_i]`, for attacks
 * whose i-th recovered label belongs to the i-th sample (or after the reconstructions have been
 * matched to the ground truth, see `bestAssignment`).
 *
 * **Multiset accuracy** — `acc_set(pred, truth) = (1/B) Σ_k min(#pred = k, #truth = k)`, for
 * attacks that recover the *set* of labels in a batch without knowing which sample carries which
 * (e.g. inference from the sign of the last-layer gradient, Yin et al. 2021 "See through
 * Gradients", Wainakh et al. 2022 "User-Level Label Leakage"). It is order-independent and equals
 * the position-wise accuracy under the best possible ordering of `pred`.
 *
 * Both require `pred` and `truth` of the same, non-zero length and return a value in [0, 1].
 */

function check(pred: ArrayLike<number>, truth: ArrayLike<number>, fn: string): void {
  if (pred.length !== truth.length) {
    throw new Error(`${fn}: ${pred.length} predicted labels for ${truth.length} true labels`);
  }
  if (truth.length === 0) throw new Error(`${fn}: no labels to score`);
}

/** Fraction of positions where `pred[i] === truth[i]`. */
export function labelAccuracy(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  check(pred, truth, 'labelAccuracy');
  let hits = 0;
  for (let i = 0; i < truth.length; i++) if (pred[i] === truth[i]) hits++;
  return hits / truth.length;
}

/** Order-independent accuracy: size of the multiset intersection of `pred` and `truth`, over B. */
export function labelMultisetAccuracy(pred: ArrayLike<number>, truth: ArrayLike<number>): number {
  check(pred, truth, 'labelMultisetAccuracy');
  const counts = new Map<number, number>();
  for (let i = 0; i < truth.length; i++) counts.set(truth[i], (counts.get(truth[i]) ?? 0) + 1);
  let hits = 0;
  for (let i = 0; i < pred.length; i++) {
    const n = counts.get(pred[i]) ?? 0;
    if (n > 0) {
      hits++;
      counts.set(pred[i], n - 1);
    }
  }
  return hits / truth.length;
}
