/**
 * Server-side aggregation: the contracts shared by every aggregator and pre-aggregator.
 *
 * Everything works on flattened updates: a stack of n `Float32Array`s of equal length d (one per
 * client, in the order the harness lists them) and n relative weights (n_k, the clients' sample
 * counts; only their ratios matter). The result is a new `Float32Array` of length d that the harness
 * adds to the global model. Inputs are never modified and results never alias an input.
 *
 * ## Non-finite updates (NaN / ±Inf)
 * A NaN or infinite coordinate cannot come from honest training that has not diverged, and one such
 * coordinate poisons any sum. The policy, tested in test/aggregation.test.ts:
 * - The harness finds non-finite updates once per round (src/fl/harness.ts). An aggregator that does
 *   not declare `dropsNonFinite` (`mean`, FedAvg) never sees them: the run stops with one error line.
 *   `mean` itself still throws `CorruptUpdateError`, naming the clients, as a backstop.
 * - Every robust aggregator and every chain declares `dropsNonFinite` and first drops updates with any non-finite coordinate, then
 *   runs on the rest with f' = max(0, f − dropped): each dropped update is counted as one of the f
 *   Byzantine clients. Since n − k ≥ 2(f − k) + 3 whenever n ≥ 2f + 3, a precondition that held for
 *   (n, f) still holds after dropping. `lastInfo.dropped` lists the dropped input indices.
 * - Every aggregator checks its own output and throws `AggregatorError` rather than return a non-finite
 *   vector (e.g. a float32 overflow of a mean of values near 3.4e38).
 * Finite but absurdly large updates are what robust aggregators are for: median, trimmed mean, Krum,
 * Bulyan, the geometric median, clipping and centered clipping bound their influence; `mean` does not,
 * and `findCorruptUpdates(updates, { maxNorm })` lets the harness flag them.
 */
import { UserError } from '../../src/core/errors.js';
import type { Component, ComponentValues } from '../../src/core/registry.js';
import type { ParamValue } from '../../src/core/spec.js';

/** The one aggregator interface, declared in the harness layer (src/fl/types.ts). */
import type { Aggregator } from '../../src/fl/types.js';
export type { AggregationInfo, Aggregator } from '../../src/fl/types.js';

/** A transform of the stack applied before an aggregator (clipping, mixing, bucketing). */
export interface PreAggregator {
  readonly name: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  /**
   * Transform a stack of finite updates. `dropped` is how many non-finite updates were removed
   * before this step (the effective f is max(0, f − dropped)). Returns new vectors and weights.
   */
  apply(updates: Float32Array[], weights: number[], dropped: number): Stack;
  /** Number of vectors this step outputs for n inputs; throws AggregatorError on a bad n. */
  outputCount(n: number): number;
  /** Whether output vector i corresponds to input vector i (false for bucketing). */
  readonly preservesIndices: boolean;
}

export interface Stack {
  updates: Float32Array[];
  weights: number[];
}

/** What a builder may need from the run: the configured Byzantine count and the seed. */
export interface BuildContext {
  /** The run's number of Byzantine clients (--byzantine); default for every `f` parameter. */
  numByzantine?: number;
  /** Seed for the rules that draw at random (bucketing, norm-clip noise). Default 0. */
  seed?: number;
}

/**
 * A final aggregation rule as a registrable component (see `registerAggregator`): its declaration,
 * `role: 'aggregator'`, and `build(values, ctx)` from validated spec values. A rule that also makes
 * sense before another one in a chain (norm-clip acts as clip there) says how with `buildPre`.
 */
export interface AggregatorComponent extends Component<Aggregator, BuildContext> {
  readonly role: 'aggregator';
  /** The step this rule is in a pre-aggregator position of a chain; absent: it can only end a chain. */
  buildPre?(values: ComponentValues, ctx: BuildContext): PreAggregator;
}

/** A pre-aggregator (clip, nnm, bucketing) as a registrable component: it can only precede an aggregator. */
export interface PreAggregatorComponent extends Component<PreAggregator, BuildContext> {
  readonly role: 'pre-aggregator';
}

/** Any entry of the aggregation registry; `role` tells which. */
export type AggregationComponent = AggregatorComponent | PreAggregatorComponent;

/** An aggregation request that cannot be met (precondition, malformed stack); user-facing. */
export class AggregatorError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'AggregatorError';
  }
}

/** Non-finite updates reached `mean`; `corrupt` lists them. */
export class CorruptUpdateError extends AggregatorError {
  constructor(
    message: string,
    readonly corrupt: { index: number; nonFinite: number }[],
  ) {
    super(message);
    this.name = 'CorruptUpdateError';
  }
}
