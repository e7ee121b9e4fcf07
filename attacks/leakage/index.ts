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
import { ComponentRegistry, RegistryError, type Component } from '../../src/core/registry.js';
import { SpecError } from '../../src/core/spec.js';
import { dlg } from './dlg.js';
import { idlg } from './idlg.js';
import { ig } from './ig.js';
import type { LeakageAttack } from './types.js';

export * from './types.js';
export { matchGradients, totalVariation, type MatchingSpec } from './dlg.js';
export { restoreLabels, idlgLabel, lastLayerGradient, LABEL_METHODS, type LabelMethod, type LabelRestoration } from './labels.js';
export { dlg, idlg, ig };

/**
 * Every leakage attack by name (process-wide: see ComponentRegistry.shared). An attack is configured
 * by the run's options (iterations, optimiser, tv...), not by spec parameters: its component declares
 * none and builds the registered attack object itself.
 */
const registry = ComponentRegistry.shared<LeakageAttack, void, Component<LeakageAttack>>('leakage attack');

function component(attack: LeakageAttack): Component<LeakageAttack> {
  return { name: attack.name, summary: attack.about, params: {}, build: () => attack };
}

for (const a of [dlg, idlg, ig]) registry.registerBuiltin(component(a));

/**
 * Adds a leakage attack usable as `leak --attack NAME`, `train --leak NAME` and `leak:NAME` in a matrix.
 * Worker threads rebuild attacks by name, so a plug-in that registers one must be loaded in them too.
 * RegistryError on a taken name or an object that is not a LeakageAttack.
 */
export function registerLeakageAttack(attack: LeakageAttack): LeakageAttack {
  const a = attack as Partial<LeakageAttack> | undefined;
  if (typeof a?.reconstruct !== 'function' || typeof a.about !== 'string') {
    throw new RegistryError(`cannot register leakage attack ${JSON.stringify(a?.name)}: it needs a reconstruct(obs, opts) function and an 'about' line`);
  }
  registry.register(component(attack));
  return attack;
}

/** Removes a registered leakage attack (tests, plug-ins replacing their own); true if it was there. */
export function unregisterLeakageAttack(name: string): boolean {
  return registry.unregister(name);
}

/** Names of every leakage attack, built-in and registered, in registration order. */
export function leakageAttackNames(): string[] {
  return registry.names();
}

/** Listing for --help: every leakage attack with its one-line description. */
export function describeLeakageAttacks(): string {
  return registry.describe();
}

/** @deprecated The built-in attacks only; use {@link getLeakageAttack} and {@link leakageAttackNames}. */
export const LEAKAGE_ATTACKS: Readonly<Record<string, LeakageAttack>> = { dlg, idlg, ig };
/** @deprecated The built-in attacks only; use {@link leakageAttackNames}, which sees registered ones. */
export const LEAKAGE_ATTACK_NAMES: readonly string[] = leakageAttackNames();

/** The attack called `name` (built-in or registered); a SpecError naming the known ones otherwise. */
export function getLeakageAttack(name: string): LeakageAttack {
  if (!registry.has(name)) throw new SpecError(`unknown leakage attack '${name}' (known: ${leakageAttackNames().join(', ')})`);
  return registry.get(name).build({}, undefined);
}
