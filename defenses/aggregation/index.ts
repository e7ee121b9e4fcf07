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
import { describeRegistry, parseSpec, SpecError, type ParsedComponent, type ParamValue, type Registry } from '../../src/core/spec.js';
import { BaseAggregator, resolveF } from './base.js';
import { Bucketing, bucketingDecl } from './bucketing.js';
import { Bulyan, bulyanDecl } from './bulyan.js';
import { CenteredClip, centeredClipDecl } from './centered-clip.js';
import { Clip, clipDecl } from './clip.js';
import { Geomed, geomedDecl, type GeomedOptions } from './geomed.js';
import { Krum, krumDecl } from './krum.js';
import { Mean, meanDecl } from './mean.js';
import { Median, medianDecl } from './median.js';
import { MultiKrum, multiKrumDecl } from './multi-krum.js';
import { Nnm, nnmDecl } from './nnm.js';
import { NormClip, normClipDecl } from './norm-clip.js';
import { TrimmedMean, trimmedMeanDecl } from './trimmed-mean.js';
import { AggregatorError, type AggregationInfo, type Aggregator, type BuildContext, type PreAggregator } from './types.js';
import { assertFiniteOutput, checkStack, dropNonFinite } from './vectors.js';

export * from './types.js';
export * from './vectors.js';
export { BaseAggregator, canonicalName, effectiveF } from './base.js';
export { Mean, Median, TrimmedMean, Krum, MultiKrum, Bulyan, Geomed, NormClip, CenteredClip, Clip, Nnm, Bucketing };
export { coordinateMedian } from './median.js';
export { coordinateTrimmedMean } from './trimmed-mean.js';
export { krumScores } from './krum.js';
export { bulyanSelect } from './bulyan.js';
export { geometricMedian } from './geomed.js';
export { centeredClipping } from './centered-clip.js';
export { bucketize } from './bucketing.js';

const aggregators = [meanDecl, medianDecl, trimmedMeanDecl, krumDecl, multiKrumDecl, bulyanDecl, geomedDecl, normClipDecl, centeredClipDecl];
const preAggregators = [clipDecl, nnmDecl, bucketingDecl];

/** Every aggregator and pre-aggregator, for parseSpec and listings. */
export const aggregationRegistry: Registry = {
  kind: 'aggregator',
  components: [...aggregators, ...preAggregators],
  chain: true,
  example: 'trimmed-mean:beta=0.2, norm-clip:bound=5,noise=0.01, clip:bound=5+median',
};

/** Names of the final aggregators (not pre-aggregators). */
export const AGGREGATOR_NAMES: readonly string[] = aggregators.map((d) => d.name);
/** Names of the pre-aggregators. */
export const PRE_AGGREGATOR_NAMES: readonly string[] = preAggregators.map((d) => d.name);

/** Listing for --help and `fedattack list`. */
export function describeAggregators(): string {
  return describeRegistry(aggregationRegistry);
}

/** Build an aggregator (or a chain) from its spec; throws SpecError on a bad spec. */
export function buildAggregator(text: string, ctx: BuildContext = {}): Aggregator {
  const parsed = parseSpec(text, aggregationRegistry);
  const last = parsed[parsed.length - 1]!;
  if (PRE_AGGREGATOR_NAMES.includes(last.name)) {
    throw new SpecError(
      `"${text.trim()}": ${last.name} is a pre-aggregator and cannot end the chain; end it with one of ${AGGREGATOR_NAMES.join(', ')} (e.g. ${last.name}+median)`,
    );
  }
  const pres = parsed.slice(0, -1).map((p) => buildPre(p, ctx, text.trim()));
  const agg = buildFinal(last, ctx);
  return pres.length === 0 ? agg : new Chain(pres, agg);
}

function buildPre(p: ParsedComponent, ctx: BuildContext, whole: string): PreAggregator {
  const v = p.values;
  switch (p.name) {
    case 'clip':
      return new Clip(v['bound'] as number);
    case 'norm-clip':
      if ((v['noise'] as number) !== 0) {
        throw new SpecError(`"${whole}": norm-clip before another aggregator only clips; noise applies only when norm-clip ends the chain`);
      }
      return new Clip(v['bound'] as number);
    case 'nnm':
      return new Nnm(resolveF('nnm', v, ctx));
    case 'bucketing':
      return new Bucketing(v['s'] as number, ctx.seed ?? 0);
    default:
      throw new SpecError(
        `"${whole}": ${p.name} is an aggregator and can only end a chain; steps before it must be pre-aggregators (${PRE_AGGREGATOR_NAMES.join(', ')}, or norm-clip)`,
      );
  }
}

function buildFinal(p: ParsedComponent, ctx: BuildContext): BaseAggregator {
  const v = p.values;
  switch (p.name) {
    case 'mean':
      return new Mean();
    case 'median':
      return new Median();
    case 'trimmed-mean':
      return v['beta'] !== undefined ? new TrimmedMean(v['beta'] as number, undefined) : new TrimmedMean(undefined, resolveF('trimmed-mean', v, ctx));
    case 'krum':
      return new Krum(resolveF('krum', v, ctx));
    case 'multi-krum':
      return new MultiKrum(resolveF('multi-krum', v, ctx), v['m'] as number | undefined);
    case 'bulyan':
      return new Bulyan(resolveF('bulyan', v, ctx));
    case 'geomed':
      return new Geomed({ eps: v['eps'] as number, maxIter: v['maxIter'] as number, tol: v['tol'] as number, init: v['init'] as GeomedOptions['init'] });
    case 'norm-clip':
      return new NormClip(v['bound'] as number, v['noise'] as number, ctx.seed ?? 0);
    case 'centered-clip':
      return new CenteredClip(v['tau'] as number, v['iters'] as number, v['center'] as 'previous' | 'zero');
    default:
      throw new SpecError(`unknown aggregator "${p.name}"; valid aggregators: ${AGGREGATOR_NAMES.join(', ')}`);
  }
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
    readonly final: BaseAggregator,
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
    const res = this.withContext(updates.length - dropped, stack.updates.length, () => this.final.run(stack.updates, stack.weights, dropped));
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
