/**
 * The gradient-leakage attacks, by name. Each takes an {@link Observation} (what an honest-but-curious
 * server sees) and returns a {@link Reconstruction}; restarts, divergence handling and scoring against
 * the ground truth live in run.ts.
 *
 * | name | paper | labels | objective | optimiser (default) |
 * |---|---|---|---|---|
 * | dlg  | Zhu et al. 2019      | optimised jointly (softmax of logits) | Σ‖∇ − g‖²         | L-BFGS lr 1, 300 steps |
 * | idlg | Zhao et al. 2020     | last-layer gradient (labels.ts)       | Σ‖∇ − g‖²         | L-BFGS lr 1, 300 steps |
 * | ig   | Geiping et al. 2020  | last-layer gradient (labels.ts)       | 1 − cos + 0.2·TV  | signed Adam lr 0.1, decay, 1000 steps |
 */
import { dlg } from './dlg.js';
import { idlg } from './idlg.js';
import { ig } from './ig.js';
import { ConfigError, type LeakageAttack } from './types.js';

export * from './types.js';
export { matchGradients, totalVariation, type MatchingSpec } from './dlg.js';
export { restoreLabels, idlgLabel, lastLayerGradient, LABEL_METHODS, type LabelMethod, type LabelRestoration } from './labels.js';
export { dlg, idlg, ig };

export const LEAKAGE_ATTACKS: Readonly<Record<string, LeakageAttack>> = { dlg, idlg, ig };
export const LEAKAGE_ATTACK_NAMES = Object.keys(LEAKAGE_ATTACKS);

/** The attack called `name`; a ConfigError naming the known ones otherwise. */
export function getLeakageAttack(name: string): LeakageAttack {
  const a = Object.prototype.hasOwnProperty.call(LEAKAGE_ATTACKS, name) ? LEAKAGE_ATTACKS[name] : undefined;
  if (a === undefined) throw new ConfigError(`unknown leakage attack '${name}' (known: ${LEAKAGE_ATTACK_NAMES.join(', ')})`);
  return a;
}
