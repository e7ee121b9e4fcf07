/**
 * Adversarial training on honest clients (client-side defense).
 *
 *   FGSM (Goodfellow et al. 2015):  x' = clip_[0,1]( x + ε · sign ∇_x L(f(w, x), y) )
 *   PGD  (Madry et al. 2018):       x⁰ = x + U(−ε, ε)^d (random start),
 *                                   x^{t+1} = Π_{B∞(x, ε) ∩ [0,1]^d}( x^t + α · sign ∇_x L(f(w, x^t), y) ),  t < k
 * Local training then uses the adversarial batch (mix = 1) or a batch of which a fraction `mix` is
 * replaced by its adversarial version (Goodfellow et al.'s mixed objective with mix = 0.5).
 *
 * Parameters and defaults: `pgd:epsilon=0.1,steps=5,stepSize=2.5·ε/steps,mix=1` and `fgsm:epsilon=0.1,mix=1`.
 * (Madry et al. used ε = 0.3, 40 steps of 0.01 on MNIST and ε = 8/255, 7 steps of 2/255 on CIFAR-10;
 * the smaller default keeps CPU runs practical and is stated in reports.) Pixels are in [0, 1].
 */
import { tf } from '../../src/engine/tf.js';
import { softCrossEntropy } from '../../src/engine/ops.js';
import type { ComponentValues } from '../../src/core/registry.js';
import { canonicalSpec, describeRegistry, parseSpec, type Registry } from '../../src/core/spec.js';
import type { Model, Params } from '../../src/models/index.js';
import type { BatchDefense, ClientDefenseComponent } from '../client/types.js';

export interface AdversarialOptions {
  kind: 'pgd' | 'fgsm';
  epsilon: number;
  steps: number;
  stepSize: number;
  mix: number;
  randomStart: boolean;
}

const common = {
  epsilon: { type: 'number', default: 0.1, min: 0, max: 1, description: 'L∞ radius of the perturbation (pixels in [0,1])' },
  mix: { type: 'number', default: 1, min: 0, max: 1, description: 'fraction of each batch replaced by adversarial examples' },
} as const;

/** The options of a parsed `pgd:…` / `fgsm:…` spec (defaults filled in). */
export function adversarialOptions(kind: 'pgd' | 'fgsm', v: ComponentValues): AdversarialOptions {
  const epsilon = v['epsilon'] as number;
  if (kind === 'fgsm') return { kind: 'fgsm', epsilon, steps: 1, stepSize: epsilon, mix: v['mix'] as number, randomStart: false };
  const steps = v['steps'] as number;
  return {
    kind: 'pgd', epsilon, steps, mix: v['mix'] as number,
    stepSize: (v['stepSize'] as number | undefined) ?? (2.5 * epsilon) / steps,
    randomStart: v['randomStart'] as boolean,
  };
}

/** The batch-level defense training on adversarial versions of every batch. */
export function adversarialTraining(component: ClientDefenseComponent, values: ComponentValues): BatchDefense {
  const opts = adversarialOptions(component.name as 'pgd' | 'fgsm', values);
  return {
    level: 'batch',
    name: canonicalSpec(component, values),
    params: { ...values },
    transformBatch: (model, params, x, targets, seed) => adversarialExamples(model, params, x, targets, opts, seed),
  };
}

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const pgdComponent: ClientDefenseComponent = {
  name: 'pgd',
  summary: 'PGD adversarial training of honest clients (Madry et al. 2018)',
  role: 'batch-level',
  level: 'batch',
  params: {
    ...common,
    steps: { type: 'int', default: 5, min: 1, max: 1000, description: 'PGD steps' },
    stepSize: { type: 'number', defaultText: '2.5·epsilon/steps', above: 0, description: 'PGD step size α' },
    randomStart: { type: 'boolean', default: true, description: 'start from a uniform random point in the ε-ball' },
  },
  build: (values) => adversarialTraining(pgdComponent, values),
};

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const fgsmComponent: ClientDefenseComponent = {
  name: 'fgsm',
  summary: 'FGSM adversarial training of honest clients (Goodfellow et al. 2015)',
  role: 'batch-level',
  level: 'batch',
  params: { ...common },
  build: (values) => adversarialTraining(fgsmComponent, values),
};

/** The adversarial-training defenses alone (pgd, fgsm), for parseAdversarial. */
const adversarialRegistry: Registry = {
  kind: 'client defense',
  components: [pgdComponent, fgsmComponent],
  example: 'pgd:epsilon=0.1,steps=5',
};

/**
 * Listing of pgd and fgsm alone.
 * @deprecated Use `describeClientDefenses` of defenses/client (every registered client defense).
 */
export function describeClientDefenses(): string {
  return describeRegistry(adversarialRegistry);
}

/**
 * Parses `pgd:…` / `fgsm:…` into options (throws SpecError on a bad spec).
 * @deprecated Use `buildClientDefense` of defenses/client, which returns a batch-level defense.
 */
export function parseAdversarial(text: string): AdversarialOptions {
  const [p] = parseSpec(text, adversarialRegistry);
  return adversarialOptions(p!.name as 'pgd' | 'fgsm', p!.values);
}

/**
 * Adversarial versions of a batch (x in [0,1], soft/one-hot targets). Returns a new tensor; x is not
 * disposed. Deterministic given `seed`.
 */
export function adversarialExamples(
  model: Model, params: Params, x: tf.Tensor4D, targets: tf.Tensor, opts: AdversarialOptions, seed: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const lossOf = (xa: tf.Tensor): tf.Scalar => softCrossEntropy(model.apply(params, xa as tf.Tensor4D), targets);
    const gradX = tf.grad(lossOf);
    const lo = tf.maximum(tf.sub(x, opts.epsilon), 0);
    const hi = tf.minimum(tf.add(x, opts.epsilon), 1);
    let xa: tf.Tensor = x;
    if (opts.kind === 'pgd' && opts.randomStart) {
      xa = tf.minimum(tf.maximum(tf.add(x, tf.randomUniform(x.shape, -opts.epsilon, opts.epsilon, 'float32', seed)), lo), hi);
    }
    for (let t = 0; t < opts.steps; t++) {
      const next = tf.add(xa, tf.mul(opts.stepSize, tf.sign(gradX(xa))));
      xa = tf.minimum(tf.maximum(next, lo), hi);
    }
    if (opts.mix >= 1) return xa as tf.Tensor4D;
    const n = x.shape[0];
    const k = Math.round(opts.mix * n);
    const mask = tf.reshape(tf.concat([tf.ones([k]), tf.zeros([n - k])]), [n, 1, 1, 1]);
    return tf.add(tf.mul(mask, xa), tf.mul(tf.sub(1, mask), x)) as tf.Tensor4D;
  });
}
