/**
 * **model-replacement** — backdoor by model replacement (Bagdasaryan, Veit, Hua, Estrin, Shmatikov
 * 2020, "How To Backdoor Federated Learning", AISTATS).
 *
 * The client trains on data where a fraction of its samples carry a pixel trigger and the target
 * label (the backdoor task, mixed with clean data to keep the main task), reaching local model X from
 * the global G. It then boosts its update so that averaging replaces the global model:
 *
 *     G' = G + η/n · Σ_i Δ_i,   Δ_byz = γ · (X − G),   γ = n / η   ⇒   G' ≈ X
 *
 * (the honest Δ_i nearly cancel near convergence). n is the number of clients aggregated in the
 * round (backdoors101#16), η the server learning rate. With f_round attackers sampled in the same round
 * each boosts by n/(η·f_round) (default), so that together they replace G once.
 *
 * Parameters: `target` (int ≥ 0, default 0) backdoor label; trigger `pattern` (square | plus, default
 * square), `size` (int ≥ 1, default 5: FLPoison's 5×5), `value` (number, default 1: white in [0, 1]),
 * `position` (bottom-right | bottom-left | top-right | top-left, default bottom-right), `margin`
 * (int ≥ 0, default 0) pixels from the corner; `fraction` (number in [0, 1], default 0.32, FLPoison's
 * poisoning_ratio; the paper mixes 20 backdoored images into batches of 64) of local samples
 * poisoned; `scale` γ (number > 0; default n/(η·f_round) from the round, f_round = attackers sampled in it).
 * Threat model: not omniscient; the harness calls `poisonData`, trains, and sends `craft(ctx)`.
 *
 * Example: 10 clients, η = 1 → the backdoored update is multiplied by 10.
 */
import type { Rng } from '../../src/engine/rng.js';
import { canonicalSpec, type ParamValue } from '../../src/core/spec.js';
import {
  AttackError, requireOwnUpdate, type Backdoor, type CraftContext, type LocalSamples, type MaliciousCraft, type PoisoningComponent, type Trigger,
  type TriggerPattern, type TriggerPosition,
} from './types.js';

export type { Trigger, TriggerPattern, TriggerPosition } from './types.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const modelReplacementComponent: PoisoningComponent = {
  name: 'model-replacement',
  summary: 'pixel-trigger backdoor boosted by n/eta to replace the global model (Bagdasaryan et al. 2020)',
  params: {
    target: { type: 'int', min: 0, default: 0, description: 'label the trigger maps to' },
    pattern: { type: 'string', choices: ['square', 'plus'], default: 'square', description: 'trigger shape' },
    size: { type: 'int', min: 1, default: 5, description: 'trigger box side in pixels' },
    value: { type: 'number', default: 1, description: 'pixel value written in every channel' },
    position: { type: 'string', choices: ['bottom-right', 'bottom-left', 'top-right', 'top-left'], default: 'bottom-right', description: 'corner of the trigger' },
    margin: { type: 'int', min: 0, default: 0, description: 'pixels between the trigger and the corner' },
    fraction: { type: 'number', min: 0, max: 1, default: 0.32, description: 'fraction of local samples backdoored' },
    scale: { type: 'number', above: 0, defaultText: 'n / (serverLr · attackers in the round)', description: 'boost gamma of the update' },
  },
  build: (v) => {
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
  },
};

/** The (row, col) pixels a trigger covers in an h×w image, row-major. */
export function triggerPixels(h: number, w: number, t: Trigger): [number, number][] {
  const s = t.size;
  const m = t.margin ?? 0;
  if (s + m > h || s + m > w) throw new AttackError(`model-replacement: a ${s}x${s} trigger with margin ${m} does not fit a ${h}x${w} image`);
  const top = t.position.startsWith('top') ? m : h - m - s;
  const left = t.position.endsWith('left') ? m : w - m - s;
  const mid = Math.floor(s / 2);
  const out: [number, number][] = [];
  for (let r = 0; r < s; r++) {
    for (let c = 0; c < s; c++) {
      if (t.pattern === 'square' || r === mid || c === mid) out.push([top + r, left + c]);
    }
  }
  return out;
}

/**
 * A copy of `images` (N images, NHWC, each h×w×c) with the trigger stamped (value in every channel)
 * on the images `which` (all when omitted). The plus pattern is the middle row and column of the
 * size×size box (index ⌊size/2⌋).
 */
export function applyTrigger(images: Float32Array, h: number, w: number, c: number, t: Trigger, which?: readonly number[]): Float32Array {
  const per = h * w * c;
  if (images.length % per !== 0) throw new AttackError(`applyTrigger: ${images.length} values are not a whole number of ${h}x${w}x${c} images`);
  const n = images.length / per;
  const out = Float32Array.from(images);
  const pixels = triggerPixels(h, w, t);
  for (const i of which ?? Array.from({ length: n }, (_, k) => k)) {
    if (i < 0 || i >= n) throw new AttackError(`applyTrigger: image index ${i} outside 0..${n - 1}`);
    for (const [r, col] of pixels) {
      const base = i * per + (r * w + col) * c;
      for (let k = 0; k < c; k++) out[base + k] = t.value;
    }
  }
  return out;
}

/** γ · Δ with γ = numClientsInRound / serverLr (Bagdasaryan et al.'s boost), as a new array. */
export function scaleForReplacement(backdooredUpdate: Float32Array, numClientsInRound: number, serverLr = 1): Float32Array {
  if (!(numClientsInRound > 0) || !(serverLr > 0)) {
    throw new AttackError(`model-replacement: needs numClientsInRound > 0 and serverLr > 0, got ${numClientsInRound} and ${serverLr}`);
  }
  const g = numClientsInRound / serverLr;
  const out = new Float32Array(backdooredUpdate.length);
  for (let j = 0; j < out.length; j++) out[j] = g * backdooredUpdate[j]!;
  return out;
}

/**
 * The backdoor test set: every sample whose label is not `target`, with the trigger stamped and the
 * label set to `target`. Accuracy of the model on it is the attack success rate.
 */
export function backdoorTestSet(data: LocalSamples, t: Trigger, target: number): LocalSamples {
  const [h, w, c] = data.shape;
  const per = h * w * c;
  const keep: number[] = [];
  for (let i = 0; i < data.labels.length; i++) if (data.labels[i] !== target) keep.push(i);
  const images = new Float32Array(keep.length * per);
  keep.forEach((i, k) => images.set(data.images.subarray(i * per, (i + 1) * per), k * per));
  return { ...data, images: applyTrigger(images, h, w, c, t), labels: new Int32Array(keep.length).fill(target) };
}

export interface ModelReplacementOptions {
  trigger: Trigger;
  target: number;
  /** Fraction of local samples backdoored. */
  fraction: number;
  /** Boost γ; default n / (serverLr · attackers in the round). */
  scale?: number;
}

export class ModelReplacement implements MaliciousCraft {
  readonly name: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly seesHonestUpdates = false;
  readonly needsOwnUpdate = true;
  readonly trigger: Trigger;
  readonly target: number;
  readonly fraction: number;
  readonly scale: number | undefined;
  readonly backdoor: Backdoor;

  constructor(o: ModelReplacementOptions) {
    this.trigger = o.trigger;
    this.target = o.target;
    this.fraction = o.fraction;
    this.scale = o.scale;
    const { pattern, size, value, position, margin = 0 } = o.trigger;
    const params: Record<string, ParamValue> = { target: o.target, pattern, size, value, position, margin, fraction: o.fraction };
    if (o.scale !== undefined) params['scale'] = o.scale;
    this.params = params;
    this.name = canonicalSpec(modelReplacementComponent, params);
    const { trigger, target } = this;
    this.backdoor = { trigger, target, testSet: (test) => backdoorTestSet(test, trigger, target) };
  }

  poisonData(data: LocalSamples, rng: Rng): LocalSamples {
    const [h, w, c] = data.shape;
    if (this.target >= data.numClasses) throw new AttackError(`model-replacement: target=${this.target} is not a class of 0..${data.numClasses - 1}`);
    const n = data.labels.length;
    const which = rng.sample(n, Math.round(this.fraction * n));
    const labels = Int32Array.from(data.labels);
    for (const i of which) labels[i] = this.target;
    return { ...data, images: applyTrigger(data.images, h, w, c, this.trigger, which), labels };
  }

  craft(ctx: CraftContext): Float32Array {
    const own = requireOwnUpdate(this.name, ctx);
    if (this.scale !== undefined) return scaleForReplacement(own, this.scale, 1);
    // Several attackers sampled in one round each send γ·(X − G) with γ = n/(η·f_round), so that together
    // they replace the model once; each boosting by n/η would overshoot f_round-fold and wreck the model.
    return scaleForReplacement(own, ctx.numClients / Math.max(1, ctx.numByzantine), ctx.serverLr ?? 1);
  }
}
