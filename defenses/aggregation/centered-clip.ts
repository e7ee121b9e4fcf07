/**
 * **centered-clip** — centered clipping (Karimireddy, He, Jaggi 2021, "Learning from History for
 * Byzantine Robust Optimization", ICML).
 *
 *     v_0 = center;   v_{l+1} = v_l + 1/n · Σ_i (x_i − v_l) · min(1, τ / ‖x_i − v_l‖),   l = 0..L−1
 *
 * and the result is v_L.
 *
 * Parameters:
 * - `tau` τ (number > 0, default 100, as ByzFL and FLPoison): clipping radius around the center.
 * - `iters` L (int ≥ 1, default 1, as ByzFL and FLPoison): clipping iterations.
 * - `center` (previous | zero, default previous): start from the previous round's aggregate (ByzFL's
 *   and FLPoison's behaviour; zero in the first round and after `reset()`) or from zero every round.
 * Weights are ignored (plain 1/n, as in the paper).
 *
 * Example: τ = 1, center 0, updates [0.5], [0.5], [100]: v_1 = (0.5 + 0.5 + 1)/3 = [0.667].
 *
 * One update moves each step by at most τ/n. Non-finite updates are dropped first.
 */
import { BaseAggregator, canonicalName, type RunResult } from './base.js';
import type { AggregatorComponent } from './types.js';
import { sqDist } from './vectors.js';

/** The registry entry of this component: its declared parameters and its builder (see the header). */
export const centeredClipComponent: AggregatorComponent = {
  name: 'centered-clip',
  summary: 'iterative clipping around a center, v += mean(clip(x_i - v, tau)) (Karimireddy et al. 2021)',
  role: 'aggregator',
  params: {
    tau: { type: 'number', above: 0, default: 100, description: 'clipping radius tau around the current center' },
    iters: { type: 'int', min: 1, default: 1, description: 'clipping iterations L' },
    center: { type: 'string', choices: ['previous', 'zero'], default: 'previous', description: "starting center: the previous round's aggregate, or zero" },
  },
  build: (v) => new CenteredClip(v['tau'] as number, v['iters'] as number, v['center'] as 'previous' | 'zero'),
};

/** L centered-clipping iterations from v0 (float64); returns v_L. */
export function centeredClipping(updates: readonly Float32Array[], v0: Float64Array, tau: number, iters: number): Float64Array {
  const n = updates.length;
  const d = v0.length;
  let v = v0;
  for (let l = 0; l < iters; l++) {
    const next = Float64Array.from(v);
    for (let i = 0; i < n; i++) {
      const x = updates[i]!;
      const dist = Math.sqrt(sqDist(x, v));
      const s = (dist > tau ? tau / dist : 1) / n;
      for (let j = 0; j < d; j++) next[j]! += s * (x[j]! - v[j]!);
    }
    v = next;
  }
  return v;
}

export class CenteredClip extends BaseAggregator {
  private previous: Float64Array | null = null;

  constructor(
    readonly tau: number,
    readonly iters: number,
    readonly center: 'previous' | 'zero',
  ) {
    super(canonicalName(centeredClipComponent, { tau, iters, center }), { tau, iters, center });
  }

  run(updates: Float32Array[]): RunResult {
    const d = updates[0]!.length;
    const start = this.center === 'previous' && this.previous !== null && this.previous.length === d ? this.previous : new Float64Array(d);
    const v = centeredClipping(updates, start, this.tau, this.iters);
    if (this.center === 'previous') this.previous = v;
    return { out: Float32Array.from(v), iterations: this.iters };
  }

  override reset(): void {
    this.previous = null;
  }
}
