/**
 * **label-flip** — label flipping, a data-poisoning attack (e.g. Tolpegin, Truex, Gursoy, Liu 2020,
 * "Data Poisoning Attacks Against Federated Learning Systems", ESORICS; ByzFL's and FLPoison's
 * LabelFlipping). The client trains honestly on relabelled data and sends the resulting update.
 *
 *     reverse:   y → C − 1 − y                  (every class; the common default)
 *     targeted:  y → target if y = source, else y
 *
 * Parameters: `mode` (reverse | targeted, default reverse); `source` (int ≥ 0, default 2) and
 * `target` (int ≥ 0, default 7) for targeted (FLPoison's defaults); `fraction` (number in [0, 1],
 * default 1) of the local samples whose labels go through the map (chosen by the client's generator).
 * Threat model: not omniscient; the harness calls `poisonData` before local training, then sends
 * `craft` = the update trained on the flipped labels (unchanged).
 *
 * Example: C = 10, reverse: labels [0, 3, 9] → [9, 6, 0].
 */
import type { Rng } from '../../src/engine/rng.js';
import { canonicalSpec, type ParamValue } from '../../src/core/spec.js';
import { AttackError, requireOwnUpdate, type CraftContext, type LocalSamples, type MaliciousCraft, type PoisoningComponent } from './types.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const labelFlipComponent: PoisoningComponent = {
  name: 'label-flip',
  summary: 'train on flipped labels: y -> C-1-y, or source -> target (data poisoning)',
  params: {
    mode: { type: 'string', choices: ['reverse', 'targeted'], default: 'reverse', description: 'reverse: y -> C-1-y; targeted: source -> target' },
    source: { type: 'int', min: 0, default: 2, description: 'class flipped in targeted mode' },
    target: { type: 'int', min: 0, default: 7, description: 'class it becomes in targeted mode' },
    fraction: { type: 'number', min: 0, max: 1, default: 1, description: 'fraction of local samples relabelled' },
  },
  build: (v) =>
    new LabelFlip({ mode: v['mode'] as 'reverse' | 'targeted', source: v['source'] as number, target: v['target'] as number }, v['fraction'] as number),
};

export interface LabelFlipOptions {
  mode: 'reverse' | 'targeted';
  source: number;
  target: number;
}

/** The label map as an array: map[y] is the flipped label of class y. */
export function labelMap(numClasses: number, o: LabelFlipOptions = { mode: 'reverse', source: 2, target: 7 }): Int32Array {
  const map = new Int32Array(numClasses);
  for (let y = 0; y < numClasses; y++) map[y] = o.mode === 'reverse' ? numClasses - 1 - y : y;
  if (o.mode === 'targeted') {
    if (o.source >= numClasses || o.target >= numClasses) {
      throw new AttackError(`label-flip: source=${o.source} and target=${o.target} must be classes of 0..${numClasses - 1}`);
    }
    map[o.source] = o.target;
  }
  return map;
}

/** y → C − 1 − y. */
export function reverseLabel(y: number, numClasses: number): number {
  return numClasses - 1 - y;
}

/** New labels with the map applied to the samples `which` (all when omitted). */
export function flipLabels(labels: Int32Array, map: Int32Array, which?: readonly number[]): Int32Array {
  const out = Int32Array.from(labels);
  if (which === undefined) for (let i = 0; i < out.length; i++) out[i] = map[out[i]!]!;
  else for (const i of which) out[i] = map[out[i]!]!;
  return out;
}

export class LabelFlip implements MaliciousCraft {
  readonly name: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly seesHonestUpdates = false;
  readonly needsOwnUpdate = true;

  constructor(
    readonly options: LabelFlipOptions = { mode: 'reverse', source: 2, target: 7 },
    readonly fraction = 1,
  ) {
    this.params = { mode: options.mode, source: options.source, target: options.target, fraction };
    this.name = canonicalSpec(labelFlipComponent, this.params);
  }

  poisonData(data: LocalSamples, rng: Rng): LocalSamples {
    const map = labelMap(data.numClasses, this.options);
    const n = data.labels.length;
    const which = this.fraction >= 1 ? undefined : rng.sample(n, Math.round(this.fraction * n));
    return { ...data, labels: flipLabels(data.labels, map, which) };
  }

  craft(ctx: CraftContext): Float32Array {
    return Float32Array.from(requireOwnUpdate(this.name, ctx));
  }
}
