/**
 * The shared frame of every aggregator: validate the stack, drop non-finite updates (see the policy in
 * types.ts), run the rule on the rest with f' = max(0, f − dropped), record what happened, and refuse
 * to return a non-finite vector. A rule only implements `run`.
 */
import type { ParamValue } from '../../src/core/spec.js';
import { canonicalSpec, SpecError } from '../../src/core/spec.js';
import { AggregatorError, type AggregationInfo, type Aggregator, type BuildContext } from './types.js';
import { assertFiniteOutput, checkStack, dropNonFinite } from './vectors.js';

/** What `run` returns: the aggregate and, where the rule selects or iterates, which and how often. */
export interface RunResult {
  out: Float32Array;
  /** Indices into the stack given to `run`. */
  selected?: number[];
  iterations?: number;
}

export abstract class BaseAggregator implements Aggregator {
  lastInfo: AggregationInfo | undefined = undefined;
  readonly dropsNonFinite: boolean = true;

  constructor(
    readonly name: string,
    readonly params: Readonly<Record<string, ParamValue>>,
  ) {}

  aggregate(updates: Float32Array[], weights: number[]): Float32Array {
    checkStack(this.name, updates, weights);
    const clean = dropNonFinite(updates, weights);
    if (clean.updates.length === 0) {
      throw new AggregatorError(`${this.name}: all ${updates.length} updates contain NaN/Inf values; nothing to aggregate`);
    }
    const res = this.run(clean.updates, clean.weights, clean.dropped.length);
    this.lastInfo = {
      n: updates.length,
      dropped: clean.dropped,
      ...(res.selected !== undefined ? { selected: res.selected.map((i) => clean.kept[i]!) } : {}),
      ...(res.iterations !== undefined ? { iterations: res.iterations } : {}),
    };
    return assertFiniteOutput(this.name, res.out);
  }

  /**
   * The rule itself, on a stack of finite updates (weights may sum to 0 only if the rule ignores
   * them). `dropped` non-finite updates were removed before; f-based rules use max(0, f − dropped).
   */
  abstract run(updates: Float32Array[], weights: number[], dropped: number): RunResult;

  checkClients(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new AggregatorError(`${this.name}: needs at least one update per round, got n=${n}`);
  }

  reset(): void {}
}

/** f − dropped, at least 0: each dropped non-finite update counts as one of the f Byzantine. */
export function effectiveF(f: number, dropped: number): number {
  return Math.max(0, f - dropped);
}

/** ' (after dropping k non-finite updates)' or ''. */
export function afterDrop(dropped: number): string {
  return dropped > 0 ? ` (after dropping ${dropped} non-finite update${dropped === 1 ? '' : 's'})` : '';
}

/** The weights renormalised to sum 1, or an error naming the rule when they sum to 0. */
export function normalisedWeights(who: string, weights: readonly number[]): number[] {
  let s = 0;
  for (const w of weights) s += w;
  if (!(s > 0)) throw new AggregatorError(`${who}: the weights of the remaining updates sum to 0`);
  return weights.map((w) => w / s);
}

/**
 * The `f` in force: the spec's value, else the run's --byzantine count, else a SpecError telling the
 * user how to give it.
 */
export function resolveF(component: string, values: Readonly<Record<string, ParamValue>>, ctx: BuildContext): number {
  const f = values['f'] ?? ctx.numByzantine;
  if (f === undefined) {
    throw new SpecError(`${component} needs f, the number of Byzantine clients to tolerate: write ${component}:f=N or run with --byzantine N`);
  }
  if (typeof f !== 'number' || !Number.isInteger(f) || f < 0) throw new SpecError(`${component}: f must be an integer >= 0, got ${String(f)}`);
  return f;
}

/** The name a component reports: see canonicalSpec. */
export const canonicalName = canonicalSpec;
