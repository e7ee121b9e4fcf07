/**
 * Client-side update clipping and Gaussian noise (the client's half of DP-FedAvg, McMahan et al. 2018;
 * Zhu et al. 2019 §6 as a defense against DLG): before sending, an honest client scales its update so
 * that its L2 norm is at most `clip`, then adds N(0, (sigma·clip)²) to every coordinate.
 *
 *     Δ' = Δ · min(1, clip / ‖Δ‖₂) + N(0, (sigma·clip)² I)
 *
 * Spec: `clip-noise:clip=1,sigma=0.01` (sigma=0: clipping only). The noise is drawn from the harness's
 * seeded per-client, per-round stream, so runs are reproducible. This is a client defense: it changes
 * what the server observes, unlike server-side aggregation.
 */
import { tf } from '../../src/engine/tf.js';
import { parseSpec, type ComponentDecl, type Registry } from '../../src/core/spec.js';
import type { Params, TransformContext, UpdateTransform } from '../../src/fl/types.js';

export interface ClipNoiseOptions {
  clip: number;
  sigma: number;
}

export const clipNoiseDecl: ComponentDecl = {
  name: 'clip-noise',
  summary: 'client-side L2 clipping of the update plus Gaussian noise (DP-FedAvg client step)',
  role: 'client defense',
  params: {
    clip: { type: 'number', default: 1, above: 0, description: 'L2 bound of the sent update' },
    sigma: { type: 'number', default: 0.01, min: 0, description: 'noise std as a multiple of clip' },
  },
};

const registry: Registry = { kind: 'client defense', components: [clipNoiseDecl] };

export function parseClipNoise(text: string): ClipNoiseOptions {
  const [p] = parseSpec(text, registry);
  return { clip: p!.values['clip'] as number, sigma: p!.values['sigma'] as number };
}

export function clipNoiseTransform(o: ClipNoiseOptions): UpdateTransform {
  return {
    name: `clip-noise:clip=${o.clip},sigma=${o.sigma}`,
    apply(delta: Params, ctx: TransformContext): Params {
      const names = Object.keys(delta).sort();
      const sq = tf.tidy(() => names.reduce((s, k) => s + (tf.sum(tf.square(delta[k]!)).dataSync()[0] ?? 0), 0));
      const norm = Math.sqrt(sq);
      const scale = norm > o.clip ? o.clip / norm : 1;
      const out: Params = {};
      for (const k of names) {
        const t = delta[k]!;
        out[k] = tf.tidy(() => {
          let v = tf.mul(t, scale);
          if (o.sigma > 0) v = tf.add(v, tf.mul(tf.tensor(ctx.rng.normalArray(t.size), t.shape, 'float32'), o.sigma * o.clip));
          return v;
        });
      }
      return out;
    },
  };
}
