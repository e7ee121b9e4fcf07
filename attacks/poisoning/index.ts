/**
 * The poisoning registry: every malicious-client behaviour by name, built from a spec string.
 *
 *     buildAttack('gaussian:sigma=100')     buildAttack('sign-flip:scale=10')     buildAttack('alie')
 *
 * | attack            | sees honest updates | needs own training | poisons data |
 * |-------------------|---------------------|--------------------|--------------|
 * | sign-flip         | no                  | yes                | no           |
 * | gaussian          | no                  | no                 | no           |
 * | alie              | yes                 | no                 | no           |
 * | ipm               | yes                 | no                 | no           |
 * | label-flip        | no                  | yes                | yes          |
 * | model-replacement | no                  | yes                | yes (trigger)|
 *
 * model-replacement is a backdoor: the built attack carries `backdoor` (see `isBackdoor`).
 */
import { ComponentRegistry } from '../../src/core/registry.js';
import { alieComponent } from './alie.js';
import { gaussianComponent } from './gaussian.js';
import { ipmComponent } from './ipm.js';
import { labelFlipComponent } from './label-flip.js';
import { modelReplacementComponent } from './model-replacement.js';
import { signFlipComponent } from './sign-flip.js';
import type { MaliciousCraft, PoisoningComponent } from './types.js';

export * from './types.js';
export { Alie, alieZ, alieVector, inverseNormalCdf } from './alie.js';
export { Gaussian } from './gaussian.js';
export { Ipm, ipmVector } from './ipm.js';
export { LabelFlip, labelMap, flipLabels, reverseLabel, type LabelFlipOptions } from './label-flip.js';
export { ModelReplacement, applyTrigger, backdoorTestSet, scaleForReplacement, triggerPixels, type ModelReplacementOptions } from './model-replacement.js';
export { SignFlip, signFlip } from './sign-flip.js';
export { alieComponent, gaussianComponent, ipmComponent, labelFlipComponent, modelReplacementComponent, signFlipComponent };

/** Every poisoning attack by name (process-wide: see ComponentRegistry.shared); built-ins first. */
export const poisoningRegistry = ComponentRegistry.shared<MaliciousCraft, void, PoisoningComponent>('attack', {
  example: 'gaussian:sigma=100, sign-flip:scale=10, alie, ipm:eps=0.5',
});

for (const c of [signFlipComponent, gaussianComponent, alieComponent, ipmComponent, labelFlipComponent, modelReplacementComponent]) {
  poisoningRegistry.registerBuiltin(c);
}

/**
 * Adds a poisoning attack usable in every `--attack` spec, matrix row and config. RegistryError on a
 * taken name or a malformed component.
 *
 * ```ts
 * registerPoisoningAttack({ name: 'zero', summary: 'send zeros', params: {},
 *   build: () => ({ name: 'zero', params: {}, seesHonestUpdates: false, needsOwnUpdate: false,
 *                   craft: (ctx) => new Float32Array(ctx.dim ?? ctx.globalParams!.length) }) });
 * ```
 */
export function registerPoisoningAttack(component: PoisoningComponent): PoisoningComponent {
  return poisoningRegistry.register(component);
}

/** Removes a registered poisoning attack (tests, plug-ins replacing their own); true if it was there. */
export function unregisterPoisoningAttack(name: string): boolean {
  return poisoningRegistry.unregister(name);
}

/** Names of every poisoning attack, built-in and registered, in registration order. */
export function poisoningAttackNames(): string[] {
  return poisoningRegistry.names();
}

/** @deprecated The built-in attacks only; use {@link poisoningAttackNames}, which sees registered ones. */
export const POISONING_NAMES: readonly string[] = poisoningAttackNames();

/** Listing for --help and `fedattack list`: every registered poisoning attack. */
export function describePoisoning(): string {
  return poisoningRegistry.describe();
}

/** Build a malicious-client behaviour from its spec (`name:k=v,...`); throws SpecError on a bad spec. */
export function buildAttack(text: string): MaliciousCraft {
  return poisoningRegistry.build(text, undefined);
}
