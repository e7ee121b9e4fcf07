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
 */
import { describeRegistry, parseSpec, SpecError, type Registry } from '../../src/core/spec.js';
import { Alie, alieDecl } from './alie.js';
import { Gaussian, gaussianDecl } from './gaussian.js';
import { Ipm, ipmDecl } from './ipm.js';
import { LabelFlip, labelFlipDecl } from './label-flip.js';
import { ModelReplacement, modelReplacementDecl, type TriggerPattern, type TriggerPosition } from './model-replacement.js';
import { SignFlip, signFlipDecl } from './sign-flip.js';
import type { MaliciousCraft } from './types.js';

export * from './types.js';
export { Alie, alieZ, alieVector, inverseNormalCdf } from './alie.js';
export { Gaussian } from './gaussian.js';
export { Ipm, ipmVector } from './ipm.js';
export { LabelFlip, labelMap, flipLabels, reverseLabel, type LabelFlipOptions } from './label-flip.js';
export {
  ModelReplacement,
  applyTrigger,
  backdoorTestSet,
  scaleForReplacement,
  triggerPixels,
  type ModelReplacementOptions,
  type Trigger,
  type TriggerPattern,
  type TriggerPosition,
} from './model-replacement.js';
export { SignFlip, signFlip } from './sign-flip.js';

/** Every poisoning attack, for parseSpec and listings. */
export const poisoningRegistry: Registry = {
  kind: 'attack',
  components: [signFlipDecl, gaussianDecl, alieDecl, ipmDecl, labelFlipDecl, modelReplacementDecl],
  example: 'gaussian:sigma=100, sign-flip:scale=10, alie, ipm:eps=0.5',
};

export const POISONING_NAMES: readonly string[] = poisoningRegistry.components.map((c) => c.name);

/** Listing for --help and `fedattack list`. */
export function describePoisoning(): string {
  return describeRegistry(poisoningRegistry);
}

/** Build a malicious-client behaviour from its spec; throws SpecError on a bad spec. */
export function buildAttack(text: string): MaliciousCraft {
  const [p] = parseSpec(text, poisoningRegistry);
  const v = p!.values;
  switch (p!.name) {
    case 'sign-flip':
      return new SignFlip(v['scale'] as number);
    case 'gaussian':
      return new Gaussian(v['sigma'] as number, v['mu'] as number);
    case 'alie':
      return new Alie(v['z'] as number | undefined);
    case 'ipm':
      return new Ipm(v['eps'] as number);
    case 'label-flip':
      return new LabelFlip(
        { mode: v['mode'] as 'reverse' | 'targeted', source: v['source'] as number, target: v['target'] as number },
        v['fraction'] as number,
      );
    case 'model-replacement': {
      const scale = v['scale'] as number | undefined;
      return new ModelReplacement({
        trigger: {
          pattern: v['pattern'] as TriggerPattern,
          size: v['size'] as number,
          value: v['value'] as number,
          position: v['position'] as TriggerPosition,
          margin: v['margin'] as number,
        },
        target: v['target'] as number,
        fraction: v['fraction'] as number,
        ...(scale !== undefined ? { scale } : {}),
      });
    }
    default:
      throw new SpecError(`unknown attack "${p!.name}"; valid attacks: ${POISONING_NAMES.join(', ')}`);
  }
}
