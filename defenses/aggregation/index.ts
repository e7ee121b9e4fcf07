/**
 * The aggregation registry: every server-side rule by name, built from a spec string.
 *
 *     buildAggregator('median')                         coordinate-wise median
 *     buildAggregator('krum', { numByzantine: 2 })      f from the run
 *     buildAggregator('clip:bound=5+nnm+krum:f=2')      pre-aggregators, then an aggregator
 *
 * A chain is zero or more pre-aggregators (clip, nnm, bucketing; `norm-clip` in a pre position acts as
 * `clip`) followed by exactly one aggregator. Chains drop non-finite updates once, up front, and hand
 * the reduced f on to every step (see types.ts).
 */
import { ComponentRegistry, RegistryError } from '../../src/core/registry.js';
import { SpecError, type ParsedComponent, type ParamValue } from '../../src/core/spec.js';
import type { BaseAggregator, RunResult } from './base.js';
import { Bucketing, bucketingComponent } from './bucketing.js';
import { Bulyan, bulyanComponent } from './bulyan.js';
import { CenteredClip, centeredClipComponent } from './centered-clip.js';
import { Clip, clipComponent } from './clip.js';
import { Geomed, geomedComponent } from './geomed.js';
import { Krum, krumComponent } from './krum.js';
import { Mean, meanComponent } from './mean.js';
import { Median, medianComponent } from './median.js';
import { MultiKrum, multiKrumComponent } from './multi-krum.js';
import { Nnm, nnmComponent } from './nnm.js';
import { NormClip, normClipComponent } from './norm-clip.js';
import { TrimmedMean, trimmedMeanComponent } from './trimmed-mean.js';
import {
  AggregatorError, type AggregationComponent, type AggregationInfo, type Aggregator, type BuildContext, type PreAggregator,
} from './types.js';
import { assertFiniteOutput, checkStack, dropNonFinite } from './vectors.js';

export * from './types.js';
export * from './vectors.js';
export { BaseAggregator, canonicalName, effectiveF, normalisedWeights, resolveF, type RunResult } from './base.js';
export { Mean, Median, TrimmedMean, Krum, MultiKrum, Bulyan, Geomed, NormClip, CenteredClip, Clip, Nnm, Bucketing };
export {
  meanComponent, medianComponent, trimmedMeanComponent, krumComponent, multiKrumComponent, bulyanComponent, geomedComponent,
  normClipComponent, centeredClipComponent, clipComponent, nnmComponent, bucketingComponent,
};
export { coordinateMedian } from './median.js';
export { coordinateTrimmedMean } from './trimmed-mean.js';
export { krumScores } from './krum.js';
export { bulyanSelect } from './bulyan.js';
export { geometricMedian } from './geomed.js';
export { centeredClipping } from './centered-clip.js';
export { bucketize } from './bucketing.js';

/**
 * Every aggregator and pre-aggregator by name (process-wide: see ComponentRegistry.shared). Built-ins
 * are registered below, aggregators first; `registerAggregator` adds more.
 */
export const aggregationRegistry = ComponentRegistry.shared<Aggregator | PreAggregator, BuildContext, AggregationComponent>('aggregator', {
  chain: true,
  example: 'trimmed-mean:beta=0.2, norm-clip:bound=5,noise=0.01, clip:bound=5+median',
});

for (const c of [
  meanComponent, medianComponent, trimmedMeanComponent, krumComponent, multiKrumComponent, bulyanComponent, geomedComponent,
  normClipComponent, centeredClipComponent, clipComponent, nnmComponent, bucketingComponent,
]) aggregationRegistry.registerBuiltin(c);

/**
 * Adds an aggregator (`role: 'aggregator'`) or pre-aggregator (`role: 'pre-aggregator'`) usable in
 * every `--aggregator` spec, chain and config. RegistryError on a taken name or a malformed component.
 *
 * ```ts
 * registerAggregator({ name: 'my-rule', summary: 'one line', role: 'aggregator', params: {},
 *   build: () => new MyRule() });    // MyRule extends BaseAggregator, or implements Aggregator
 * ```
 */
export function registerAggregator(component: AggregationComponent): AggregationComponent {
  const role = (component as { role?: unknown } | undefined)?.role;
  if (role !== 'aggregator' && role !== 'pre-aggregator') {
    throw new RegistryError(`cannot register aggregator ${JSON.stringify(component?.name)}: role must be 'aggregator' or 'pre-aggregator', got ${JSON.stringify(role)}`);
  }
  return aggregationRegistry.register(component);
}

/** Removes a registered aggregator or pre-aggregator (tests, plug-ins replacing their own); true if it was there. */
export function unregisterAggregator(name: string): boolean {
  return aggregationRegistry.unregister(name);
}

/** Names of every final aggregator (role 'aggregator'), built-in and registered, in registration order. */
export function aggregatorNames(): string[] {
  return aggregationRegistry.list().filter((c) => c.role === 'aggregator').map((c) => c.name);
}

/** Names of every pre-aggregator (role 'pre-aggregator'), in registration order. */
export function preAggregatorNames(): string[] {
  return aggregationRegistry.list().filter((c) => c.role === 'pre-aggregator').map((c) => c.name);
}

/** @deprecated The built-in final aggregators only; use {@link aggregatorNames}, which sees registered ones. */
export const AGGREGATOR_NAMES: readonly string[] = aggregatorNames();
/** @deprecated The built-in pre-aggregators only; use {@link preAggregatorNames}. */
export const PRE_AGGREGATOR_NAMES: readonly string[] = preAggregatorNames();

/** Listing for --help and `fedattack list`: every registered aggregator and pre-aggregator. */
export function describeAggregators(): string {
  return aggregationRegistry.describe();
}

/**
 * Build an aggregator (or a chain: pre-aggregators `+` one aggregator) from its spec; `ctx` gives the
 * run's Byzantine count (the default of every `f`) and seed. Throws SpecError on a bad spec.
 */
export function buildAggregator(text: string, ctx: BuildContext = {}): Aggregator {
  const parsed = aggregationRegistry.parse(text);
  const last = parsed[parsed.length - 1]!;
  const final = aggregationRegistry.get(last.name);
  if (final.role !== 'aggregator') {
    throw new SpecError(
      `"${text.trim()}": ${last.name} is a pre-aggregator and cannot end the chain; end it with one of ${aggregatorNames().join(', ')} (e.g. ${last.name}+median)`,
    );
  }
  const pres = parsed.slice(0, -1).map((p) => buildPre(p, ctx, text.trim()));
  const agg = final.build(last.values, ctx);
  return pres.length === 0 ? agg : new Chain(pres, agg);
}

function buildPre(p: ParsedComponent, ctx: BuildContext, whole: string): PreAggregator {
  const c = aggregationRegistry.get(p.name);
  if (c.role === 'pre-aggregator') return c.build(p.values, ctx);
  if (c.buildPre !== undefined) return c.buildPre(p.values, ctx);
  const pre = [...preAggregatorNames(), ...aggregationRegistry.list().filter((a) => a.role === 'aggregator' && a.buildPre !== undefined).map((a) => a.name)];
  throw new SpecError(`"${whole}": ${p.name} is an aggregator and can only end a chain; steps before it must be pre-aggregators (${pre.join(', ')})`);
}

/**
 * The final step of a chain on a finite stack: a BaseAggregator's `run` (told how many were dropped),
 * else `aggregate`. Tested by shape, not `instanceof`: a plug-in's rule may extend the BaseAggregator
 * of its own copy of fedattack.
 */
function runFinal(final: Aggregator, updates: Float32Array[], weights: number[], dropped: number): RunResult {
  const frame = final as Partial<Pick<BaseAggregator, 'run'>>;
  if (typeof frame.run === 'function') return frame.run.call(final, updates, weights, dropped);
  const out = final.aggregate(updates, weights);
  const info = final.lastInfo;
  return { out, ...(info?.selected !== undefined ? { selected: info.selected } : {}), ...(info?.iterations !== undefined ? { iterations: info.iterations } : {}) };
}

/**
 * Pre-aggregators then an aggregator. Non-finite updates are dropped once, before the first step;
 * `lastInfo.selected` maps back to input indices unless a step (bucketing) merges updates.
 */
export class Chain implements Aggregator {
  readonly name: string;
  readonly dropsNonFinite = true;
  readonly params: Readonly<Record<string, ParamValue>>;
  lastInfo: AggregationInfo | undefined = undefined;

  constructor(
    readonly pre: readonly PreAggregator[],
    readonly final: Aggregator,
  ) {
    this.name = [...pre.map((p) => p.name), final.name].join('+');
    const params: Record<string, ParamValue> = {};
    for (const step of [...pre, final]) for (const [k, val] of Object.entries(step.params)) params[`${step.name.split(':')[0]}.${k}`] = val;
    this.params = params;
  }

  aggregate(updates: Float32Array[], weights: number[]): Float32Array {
    checkStack(this.name, updates, weights);
    const clean = dropNonFinite(updates, weights);
    if (clean.updates.length === 0) throw new AggregatorError(`${this.name}: all ${updates.length} updates contain NaN/Inf values; nothing to aggregate`);
    const dropped = clean.dropped.length;
    let stack = { updates: clean.updates, weights: clean.weights };
    let map: number[] | null = clean.kept;
    for (const step of this.pre) {
      stack = step.apply(stack.updates, stack.weights, dropped);
      if (!step.preservesIndices) map = null;
    }
    const res = this.withContext(updates.length - dropped, stack.updates.length, () => runFinal(this.final, stack.updates, stack.weights, dropped));
    const m = map;
    this.lastInfo = {
      n: updates.length,
      dropped: clean.dropped,
      ...(res.selected !== undefined && m !== null ? { selected: res.selected.map((i) => m[i]!) } : {}),
      ...(res.iterations !== undefined ? { iterations: res.iterations } : {}),
    };
    return assertFiniteOutput(this.name, res.out);
  }

  checkClients(n: number): void {
    let m = n;
    for (const step of this.pre) m = step.outputCount(m);
    this.withContext(n, m, () => this.final.checkClients(m));
  }

  reset(): void {
    this.final.reset();
  }

  /** Run fn; if it fails and the pre-aggregators changed the count, say so in the message. */
  private withContext<T>(n: number, m: number, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof AggregatorError && m !== n) {
        throw new AggregatorError(`${this.name}: the pre-aggregators turn ${n} updates into ${m}; ${e.message}`);
      }
      throw e;
    }
  }
}
