/**
 * A fedattack plug-in: the coordinate-wise **sign-majority** aggregation rule.
 *
 * For n updates u_1…u_n (flattened, length d) with weights w_k (the clients' sample counts), each
 * coordinate i takes the weighted majority sign and the mean magnitude of the updates that agree:
 *
 *   s_i = sign(Σ_k w_k · sign(u_k,i)),   out_i = scale · s_i · mean{ |u_k,i| : sign(u_k,i) = s_i }
 *
 * (out_i = 0 on a tie). A minority of sign-flipping clients cannot reverse a coordinate, and a client
 * with huge magnitudes only moves the coordinates where it agrees with the majority. In the spirit of
 * signSGD with majority vote (Bernstein et al., "signSGD with Majority Vote is Communication Efficient
 * and Fault Tolerant", ICLR 2019), with magnitudes kept so that it is a drop-in for the mean.
 *
 * Parameter: `scale` (number > 0, default 1), e.g. `--aggregator sign-majority:scale=0.5`.
 *
 * Importing this module registers the rule; `fedattack … --plugin dist/index.js --aggregator
 * sign-majority` then works like a built-in.
 */
import { registerAggregator, type AggregationInfo, type Aggregator } from 'fedattack';

/** The sign-majority rule (see the file comment). */
export class SignMajority implements Aggregator {
  readonly name: string;
  readonly params: Readonly<Record<string, number>>;
  lastInfo: AggregationInfo | undefined;

  constructor(readonly scale = 1) {
    this.name = scale === 1 ? 'sign-majority' : `sign-majority:scale=${scale}`;
    this.params = { scale };
  }

  aggregate(updates: Float32Array[], weights: number[]): Float32Array {
    const d = updates[0]?.length ?? 0;
    const out = new Float32Array(d);
    for (let i = 0; i < d; i++) {
      let vote = 0;
      for (let k = 0; k < updates.length; k++) vote += weights[k]! * Math.sign(updates[k]![i]!);
      const s = Math.sign(vote);
      if (s === 0) continue;
      let sum = 0;
      let count = 0;
      for (const u of updates) {
        if (Math.sign(u[i]!) === s) {
          sum += Math.abs(u[i]!);
          count++;
        }
      }
      out[i] = this.scale * s * (sum / count);
    }
    this.lastInfo = { n: updates.length, dropped: [] };
    return out;
  }

  checkClients(n: number): void {
    if (n < 1) throw new Error('sign-majority needs at least one update per round');
  }

  reset(): void {}
}

registerAggregator({
  name: 'sign-majority',
  role: 'aggregator',
  summary: 'coordinate-wise weighted majority sign, mean magnitude of the agreeing updates',
  params: { scale: { type: 'number', default: 1, above: 0, description: 'factor on the aggregated update' } },
  build: (values) => new SignMajority(values['scale'] as number),
});
