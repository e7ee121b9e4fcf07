/**
 * **sign-flip** — send the negated (optionally scaled) honest update this client would have sent
 * (the "sign flipping" / "reversed gradient" attack, e.g. Allen-Zhu et al. 2021, "Byzantine-Resilient
 * Non-Convex Stochastic Gradient Descent", ICLR; FLPoison's SignFlipping).
 *
 *     x_byz = −scale · x_own
 *
 * Parameters: `scale` (number > 0, default 1); `sign-flip:scale=10` is the "scaled sign-flip".
 * Threat model: not omniscient; needs this client's own honest update (local training first).
 *
 * Example: own update [1, −2], scale 10 → [−10, 20].
 *
 * ByzFL's SignFlipping sends −mean(honest updates) instead (omniscient): that is `ipm:eps=1`.
 */
import { canonicalSpec } from '../../src/core/spec.js';
import { requireOwnUpdate, type CraftContext, type MaliciousCraft, type PoisoningComponent } from './types.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const signFlipComponent: PoisoningComponent = {
  name: 'sign-flip',
  summary: "send -scale times this client's honest update",
  params: {
    scale: { type: 'number', above: 0, default: 1, description: 'multiplier of the flipped update (10: scaled sign-flip)' },
  },
  build: (v) => new SignFlip(v['scale'] as number),
};

/** −scale · v as a new array. */
export function signFlip(v: Float32Array, scale = 1): Float32Array {
  const out = new Float32Array(v.length);
  for (let j = 0; j < v.length; j++) out[j] = -scale * v[j]!;
  return out;
}

export class SignFlip implements MaliciousCraft {
  readonly name: string;
  readonly params: { scale: number };
  readonly seesHonestUpdates = false;
  readonly needsOwnUpdate = true;

  constructor(readonly scale = 1) {
    this.name = canonicalSpec(signFlipComponent, { scale });
    this.params = { scale };
  }

  craft(ctx: CraftContext): Float32Array {
    return signFlip(requireOwnUpdate(this.name, ctx), this.scale);
  }
}
