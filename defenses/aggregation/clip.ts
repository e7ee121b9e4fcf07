/**
 * **clip** (pre-aggregator) — static L2 clipping of every update (ByzFL's `Clipping`).
 *
 *     clip_c(x_1..x_n) = ( x_1 · min(1, c/‖x_1‖), ..., x_n · min(1, c/‖x_n‖) )
 *
 * Parameters: `bound` c (number > 0, default 2, as ByzFL). Weights pass through.
 *
 * Example: clip:bound=1 maps [3,4] to [0.6,0.8] and leaves [0,0.5] as is; `clip:bound=5+median`
 * clips, then takes the coordinate-wise median.
 */
import { canonicalName } from './base.js';
import type { PreAggregator, PreAggregatorComponent, Stack } from './types.js';
import { clipToNorm } from './vectors.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const clipComponent: PreAggregatorComponent = {
  name: 'clip',
  summary: 'clip every update to L2 norm <= bound',
  role: 'pre-aggregator',
  params: {
    bound: { type: 'number', above: 0, default: 2, description: 'L2 norm bound c' },
  },
  build: (v) => new Clip(v['bound'] as number),
};

export class Clip implements PreAggregator {
  readonly name: string;
  readonly params: { bound: number };
  readonly preservesIndices = true;

  constructor(readonly bound: number) {
    this.name = canonicalName(clipComponent, { bound });
    this.params = { bound };
  }

  apply(updates: Float32Array[], weights: number[]): Stack {
    return { updates: updates.map((u) => clipToNorm(u, this.bound)), weights: [...weights] };
  }

  outputCount(n: number): number {
    return n;
  }
}
