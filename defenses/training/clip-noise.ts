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
import { canonicalSpec, parseSpec, type Registry } from '../../src/core/spec.js';
import type { Params, TransformContext, UpdateTransform } from '../../src/fl/types.js';
import type { ClientDefenseComponent } from '../client/types.js';

export interface ClipNoiseOptions {
  clip: number;
  sigma: number;
}

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const clipNoiseComponent: ClientDefenseComponent = {
  name: 'clip-noise',
  summary: 'client-side L2 clipping of the update plus Gaussian noise (DP-FedAvg client step)',
  role: 'update-level',
  level: 'update',
  params: {
    clip: { type: 'number', default: 1, above: 0, description: 'L2 bound of the sent update' },
    sigma: { type: 'number', default: 0.01, min: 0, description: 'noise std as a multiple of clip' },
  },
  build: (v) => {
    const o = { clip: v['clip'] as number, sigma: v['sigma'] as number };
    return { level: 'update', name: canonicalSpec(clipNoiseComponent, o), params: o, transform: clipNoiseTransform(o) };
  },
};

const registry: Registry = { kind: 'client defense', components: [clipNoiseComponent] };

/**
 * Parses `clip-noise:…` into options (throws SpecError on a bad spec).
 * @deprecated Use `buildClientDefense` of defenses/client, which returns an update-level defense.
 */
export function parseClipNoise(text: string): ClipNoiseOptions {
  const [p] = parseSpec(text, registry);
  return { clip: p!.values['clip'] as number, sigma: p!.values['sigma'] as number };
}

/** The update transform: clip the whole update to L2 norm `clip`, then add N(0, (sigma·clip)²) noise. */
export function clipNoiseTransform(o: ClipNoiseOptions): UpdateTransform {
  return {
    name: `clip-noise:clip=${o.clip},sigma=${o.sigma}`,
    async apply(delta: Params, ctx: TransformContext): Promise<Params> {
      const names = Object.keys(delta).sort();
      if (names.length === 0) return {};
      // Per-tensor squared norms read back together (no dataSync: it cannot run on WebGPU in Node),
      // summed in float64 in name order.
      const sums = tf.tidy(() => tf.stack(names.map((k) => tf.sum(tf.square(delta[k]!)))));
      let sq = 0;
      try {
        for (const v of await sums.data()) sq += v;
      } finally {
        sums.dispose();
      }
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
