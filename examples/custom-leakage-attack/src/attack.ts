/**
 * **idlg-cosine**: iDLG (Zhao, Mopuri, Bilen, "iDLG: Improved Deep Leakage from Gradients", 2020) with
 * the cosine gradient distance of Inverting Gradients (Geiping et al., NeurIPS 2020) instead of the
 * squared Euclidean one. The labels are read from the last layer's gradient (restoreLabels), then the
 * dummy images x' ~ N(0, 1) are optimised alone:
 *
 *   x'* = argmin_{x'}  1 − ⟨∇θ L(F(x'; θ), y), g⟩ / (‖∇θ L(F(x'; θ), y)‖ · ‖g‖)
 *
 * The cosine ignores the gradient's scale, which an update's unknown learning rate or batch mean can
 * change. Defaults: Adam lr 0.1, 300 steps (L-BFGS lr 1 on request: it stalls on the cosine in our
 * trials), no TV prior (`tv` from the run's options if given). Built only from fedattack's public pieces: matchGradients and restoreLabels.
 */
import { matchGradients, restoreLabels, type AttackOptions, type LeakageAttack, type LeakageObservation, type Reconstruction } from 'fedattack';

const DEFAULTS = { iterations: 300, optimizer: 'adam' as const, lrLbfgs: 1, lrAdam: 0.1, tv: 0 };

/** The idlg-cosine attack (see the file comment). */
export const idlgCosine: LeakageAttack = {
  name: 'idlg-cosine',
  about: 'iDLG labels + cosine gradient matching (Zhao et al. 2020, Geiping et al. 2020), Adam',
  maxBatch: 8,
  defaultIterations: DEFAULTS.iterations,
  defaultOptimizer: DEFAULTS.optimizer,
  defaultLr: { lbfgs: DEFAULTS.lrLbfgs, adam: DEFAULTS.lrAdam },
  defaultTv: DEFAULTS.tv,
  matchingDistance: 'cosine',
  async reconstruct(obs: LeakageObservation, opts: AttackOptions): Promise<Reconstruction> {
    const restored = await restoreLabels(obs);
    const optimizer = opts.optimizer ?? DEFAULTS.optimizer;
    return matchGradients(obs, {
      distance: 'cosine',
      labels: restored.labels,
      labelMethod: restored.method,
      space: { mean: 0, std: 1 },
      box: false,
      optimizer,
      lr: opts.lr ?? (optimizer === 'lbfgs' ? DEFAULTS.lrLbfgs : DEFAULTS.lrAdam),
      iterations: opts.iterations ?? DEFAULTS.iterations,
      tv: opts.tv ?? DEFAULTS.tv,
      signed: false,
      lrDecay: false,
    }, opts);
  },
};
