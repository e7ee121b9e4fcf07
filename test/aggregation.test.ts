/**
 * Tests for defenses/aggregation: every aggregator and pre-aggregator on small hand-made stacks
 * against hand-computed answers, the selection kernels against sort-based references, preconditions,
 * robustness properties (20% Gaussian or scaled sign-flip updates among honest ones), and the
 * non-finite policy (NaN/Inf never reaches a robust aggregate; mean refuses it).
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/engine/rng.js';
import { tf } from '../src/engine/tf.js';
import {
  AggregatorError,
  bucketize,
  buildAggregator,
  Bulyan,
  CenteredClip,
  Clip,
  CorruptUpdateError,
  findCorruptUpdates,
  flatten,
  geometricMedian,
  Krum,
  Mean,
  Median,
  MultiKrum,
  Nnm,
  NormClip,
  pairwiseSqDistances,
  selectKth,
  TrimmedMean,
  unflatten,
  Geomed,
  type Aggregator,
} from '../defenses/aggregation/index.js';
import { medianOf, meanAroundMedianOf, trimmedMeanOf } from '../defenses/aggregation/vectors.js';

before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

// ---------------------------------------------------------------------------------------------------
// helpers

const F = (...xs: number[]): Float32Array => Float32Array.from(xs);
const stack = (rows: number[][]): Float32Array[] => rows.map((r) => Float32Array.from(r));
const ones = (n: number): number[] => Array.from({ length: n }, () => 1);

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6, msg = ''): void {
  assert.equal(actual.length, expected.length, `${msg} length`);
  for (let j = 0; j < expected.length; j++) {
    assert.ok(Math.abs(actual[j]! - expected[j]!) <= tol, `${msg} [${j}]: got ${actual[j]}, expected ${expected[j]} (tol ${tol})`);
  }
}

function dist(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j]! - b[j]!) ** 2;
  return Math.sqrt(s);
}

function l2(a: ArrayLike<number>): number {
  return dist(a, new Float64Array(a.length));
}

function allFinite(v: Float32Array): boolean {
  return v.every((x) => Number.isFinite(x));
}

/** Throws an AggregatorError whose message matches every pattern. */
function throwsAgg(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AggregatorError, `expected AggregatorError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

/** Honest updates t + N(0, noise²) per coordinate. */
function honestAround(t: Float32Array, count: number, noise: number, rng: Rng): Float32Array[] {
  return Array.from({ length: count }, () => {
    const v = rng.normalArray(t.length, 0, noise);
    for (let j = 0; j < t.length; j++) v[j]! += t[j]!;
    return v;
  });
}

// ---------------------------------------------------------------------------------------------------

describe('vectors: flatten/unflatten and selection kernels', () => {
  it('flatten concatenates in key order; unflatten restores names and shapes', async () => {
    const p = { w: tf.tensor2d([[1, 2, 3], [4, 5, 6]]), b: tf.tensor1d([7, 8]) };
    const v = await flatten(p);
    close(v, [1, 2, 3, 4, 5, 6, 7, 8], 0);
    const back = unflatten(F(10, 20, 30, 40, 50, 60, 70, 80), p);
    assert.deepEqual(Object.keys(back), ['w', 'b']);
    assert.deepEqual(back['w']!.shape, [2, 3]);
    close(back['b']!.dataSync(), [70, 80], 0);
    assert.throws(() => unflatten(F(1, 2), p), /vector has 2 values, the parameters hold 8/);
    tf.dispose([p.w, p.b, back['w']!, back['b']!]);
  });

  it('selectKth, medianOf, trimmedMeanOf, meanAroundMedianOf agree with sorting (n up to 101, with ties)', () => {
    const rng = new Rng(1);
    for (const n of [1, 2, 3, 5, 24, 25, 50, 51, 100, 101]) {
      for (let trial = 0; trial < 20; trial++) {
        const vals = Array.from({ length: n }, () => (trial % 3 === 0 ? rng.int(5) : rng.normal()));
        const sorted = [...vals].sort((a, b) => a - b);
        const k = rng.int(n);
        const buf = Float64Array.from(vals);
        selectKth(buf, 0, n - 1, k);
        assert.equal(buf[k], sorted[k]);
        for (let i = 0; i < k; i++) assert.ok(buf[i]! <= buf[k]!);
        for (let i = k + 1; i < n; i++) assert.ok(buf[i]! >= buf[k]!);
        const med = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
        assert.equal(medianOf(Float64Array.from(vals), n), med);
        const b = Math.floor((n - 1) / 2 / 2);
        const mid = sorted.slice(b, n - b);
        assert.ok(Math.abs(trimmedMeanOf(Float64Array.from(vals), n, b) - mid.reduce((s, x) => s + x, 0) / mid.length) < 1e-12);
        const beta = Math.max(1, n - 2 * b);
        const byDist = [...vals].sort((x, y) => Math.abs(x - med) - Math.abs(y - med) || x - y).slice(0, beta);
        assert.ok(Math.abs(meanAroundMedianOf(Float64Array.from(vals), n, beta) - byDist.reduce((s, x) => s + x, 0) / beta) < 1e-12);
      }
    }
  });

  it('pairwiseSqDistances matches direct float64 sums across block boundaries', () => {
    const rng = new Rng(2);
    const u = Array.from({ length: 4 }, () => rng.normalArray(5000));
    const D = pairwiseSqDistances(u);
    for (let i = 0; i < 4; i++) {
      for (let k = 0; k < 4; k++) {
        let s = 0;
        for (let j = 0; j < 5000; j++) s += (u[i]![j]! - u[k]![j]!) ** 2;
        assert.ok(Math.abs(D[i * 4 + k]! - s) < 1e-9 * Math.max(1, s));
      }
    }
  });

  it('findCorruptUpdates flags NaN, ±Inf and (optionally) norms over maxNorm', () => {
    const u = stack([[1, 2], [NaN, 0], [0, Infinity], [300, 400], [-Infinity, NaN]]);
    assert.deepEqual(
      findCorruptUpdates(u).map((c) => [c.index, c.nonFinite, c.reason]),
      [
        [1, 1, 'non-finite'],
        [2, 1, 'non-finite'],
        [4, 2, 'non-finite'],
      ],
    );
    const withNorm = findCorruptUpdates(u, { maxNorm: 100 });
    assert.deepEqual(withNorm.find((c) => c.index === 3), { index: 3, nonFinite: 0, norm: 500, reason: 'norm' });
    assert.deepEqual(findCorruptUpdates(stack([[1], [2]])), []);
  });
});

describe('aggregators on hand-computed stacks', () => {
  it('mean: weighted by sample counts (FedAvg)', () => {
    close(new Mean().aggregate(stack([[1, 2], [3, 4], [5, 9]]), [1, 1, 2]), [3.5, 6]);
    close(new Mean().aggregate(stack([[1, 2], [3, 4]]), [10, 30]), [2.5, 3.5]);
  });

  it('mean: refuses NaN/Inf with CorruptUpdateError naming the clients', () => {
    assert.throws(
      () => new Mean().aggregate(stack([[1, 2], [NaN, 4], [1, Infinity]]), [1, 1, 1]),
      (e: unknown) => e instanceof CorruptUpdateError && /update 1: 1\/2 non-finite/.test(e.message) && e.corrupt.map((c) => c.index).join() === '1,2',
    );
  });

  it('median: coordinate-wise, middle pair averaged for even n, weights ignored', () => {
    close(new Median().aggregate(stack([[1], [2], [100]]), [1, 1, 1]), [2]);
    close(new Median().aggregate(stack([[1, 5], [2, 6], [100, -7]]), [5, 1, 1]), [2, 5]);
    close(new Median().aggregate(stack([[1], [2], [3], [100]]), ones(4)), [2.5]);
  });

  it('trimmed-mean: beta and f forms', () => {
    const u = stack([[1, 10], [2, 20], [3, 30], [4, 40], [100, -1000]]);
    close(new TrimmedMean(0.2, undefined).aggregate(u, ones(5)), [3, 20]);
    close(new TrimmedMean(undefined, 1).aggregate(u, ones(5)), [3, 20]);
    close(new TrimmedMean(undefined, 0).aggregate(u, ones(5)), [22, -180]);
    close(new TrimmedMean(0.1, undefined).aggregate(u, ones(5)), [22, -180]); // floor(0.5) = 0 trimmed
    throwsAgg(() => new TrimmedMean(undefined, 2).aggregate(stack([[1], [2], [3], [4]]), ones(4)), /needs n > 2b/, /b=2/, /n=4/);
  });

  const krumStack = stack([[0, 0], [0, 1], [1, 0], [0.5, 0.5], [100, 100]]);

  it('krum: the point with the smallest sum over its n-f-2 nearest (hand-computed scores 1.5,1.5,1.5,1,huge)', () => {
    const k = new Krum(1);
    close(k.aggregate(krumStack, ones(5)), [0.5, 0.5]);
    assert.deepEqual(k.lastInfo, { n: 5, dropped: [], selected: [3] });
    throwsAgg(() => new Krum(1).aggregate(krumStack.slice(0, 4), ones(4)), /krum:f=1 needs n >= 2f\+3 = 5/, /got n=4/);
    throwsAgg(() => new Krum(2).checkClients(6), /krum:f=2 needs n >= 2f\+3 = 7/, /n=6/);
  });

  it('krum: picks from the honest cluster when f outliers are far', () => {
    const rng = new Rng(3);
    const t = F(1, -1, 2);
    const u = [...honestAround(t, 7, 0.01, rng), F(50, 50, 50), F(-40, 0, 9)];
    const k = new Krum(2);
    const out = k.aggregate(u, ones(9));
    assert.ok(k.lastInfo!.selected![0]! < 7);
    assert.ok(dist(out, t) < 0.1);
  });

  it('multi-krum: mean of the m best-scored', () => {
    const mk = new MultiKrum(1, 2);
    close(mk.aggregate(krumStack, ones(5)), [0.25, 0.25]);
    assert.deepEqual(mk.lastInfo!.selected, [3, 0]);
    // default m = n - f = 4: all but the outlier
    close(new MultiKrum(1, undefined).aggregate(krumStack, ones(5)), [0.375, 0.375]);
    throwsAgg(() => new MultiKrum(1, 9).checkClients(5), /cannot select m=9 of n=5/);
  });

  it('bulyan: precondition n >= 4f+3 (fails at n = 4f+2)', () => {
    throwsAgg(() => new Bulyan(1).aggregate(stack([[1], [2], [3], [4], [5], [6]]), ones(6)), /bulyan:f=1 needs n >= 4f\+3 = 7/, /got n=6/);
    throwsAgg(() => new Bulyan(2).checkClients(10), /4f\+3 = 11/, /n=10/);
    new Bulyan(2).checkClients(11);
  });

  it('bulyan: iterated Krum selects [3],[4],[2],[5],[1]; mean of the 3 closest to the median 3 is 3', () => {
    const b = new Bulyan(1);
    close(b.aggregate(stack([[1], [2], [3], [4], [5], [6], [1000]]), ones(7)), [3]);
    assert.deepEqual(b.lastInfo!.selected, [2, 3, 1, 4, 0]);
  });

  it('bulyan: per coordinate, beta values around the median of the selected', () => {
    // f = 1, n = 7, theta = 5, beta = 3; the far point is never selected; coordinate 2 is a mirror
    const u = stack([[0, 0], [1, -1], [2, -2], [3, -3], [4, -4], [5, -5], [500, -500]]);
    const out = new Bulyan(1).aggregate(u, ones(7));
    close(out, [2, -2]);
  });

  it('geomed: Fermat point of the right isosceles triangle, and a 1-D median', () => {
    const o = { eps: 1e-12, maxIter: 5000, tol: 0, init: 'mean' as const };
    const t = (3 - Math.sqrt(3)) / 6;
    close(new Geomed(o).aggregate(stack([[0, 0], [1, 0], [0, 1]]), ones(3)), [t, t], 1e-6);
    close(new Geomed(o).aggregate(stack([[0], [1], [100]]), ones(3)), [1], 1e-6);
  });

  it('geomed: matches a brute-force grid minimiser of sum ||x_i - z|| on 2-D points to 1e-4', () => {
    const rng = new Rng(4);
    for (let trial = 0; trial < 3; trial++) {
      const pts = Array.from({ length: 7 }, () => [rng.uniformRange(-3, 3), rng.uniformRange(-3, 3)]);
      const w = pts.map(() => rng.uniformRange(0.5, 2));
      const obj = (x: number, y: number): number => pts.reduce((s, p, i) => s + w[i]! * Math.hypot(p[0]! - x, p[1]! - y), 0);
      // zooming grid search: 41x41 grid, shrink the window around the best point
      let cx = 0, cy = 0, half = 4;
      while (half > 1e-7) {
        let best = Infinity, bx = cx, by = cy;
        for (let a = -20; a <= 20; a++) {
          for (let b = -20; b <= 20; b++) {
            const x = cx + (a / 20) * half, y = cy + (b / 20) * half;
            const v = obj(x, y);
            if (v < best) [best, bx, by] = [v, x, y];
          }
        }
        [cx, cy, half] = [bx, by, half / 4];
      }
      const g = new Geomed({ eps: 1e-12, maxIter: 10000, tol: 0, init: 'median' }).aggregate(stack(pts), w);
      close(g, [cx, cy], 1e-4, `trial ${trial}`);
      assert.ok(obj(g[0]!, g[1]!) <= obj(cx, cy) + 1e-6);
    }
  });

  it('geomed: stops early by tol and reports its iterations', () => {
    const a = new Geomed({ eps: 1e-6, maxIter: 100, tol: 1e-6, init: 'median' });
    a.aggregate(stack([[0, 0], [1, 0], [0, 1], [1, 1], [50, 50]]), ones(5));
    assert.ok(a.lastInfo!.iterations! >= 1 && a.lastInfo!.iterations! < 100);
    const { iterations } = geometricMedian(stack([[1, 1], [2, 1], [1, 3]]), [1 / 3, 1 / 3, 1 / 3], { eps: 1e-6, maxIter: 3, tol: 0, init: 'zero' });
    assert.equal(iterations, 3);
  });

  it('norm-clip: every update is clipped to the bound before the weighted mean', () => {
    close(new NormClip(1, 0).aggregate(stack([[3, 4], [0, 0.5]]), [1, 1]), [0.3, 0.65]);
    const rng = new Rng(5);
    const u = Array.from({ length: 10 }, (_, i) => rng.normalArray(100, 0, i + 1));
    const clipped = new Clip(2).apply(u, ones(10));
    for (const v of clipped.updates) assert.ok(l2(v) <= 2 * (1 + 1e-6));
    assert.ok(l2(new NormClip(2, 0).aggregate(u, ones(10))) <= 2 * (1 + 1e-6));
    // noise: seeded, std as asked
    const noisy = new NormClip(1, 0.5, 7).aggregate([new Float32Array(20000)], [1]);
    const sd = Math.sqrt(noisy.reduce((s, x) => s + x * x, 0) / noisy.length);
    assert.ok(Math.abs(sd - 0.5) < 0.01);
    close(new NormClip(1, 0.5, 7).aggregate([new Float32Array(5)], [1]), noisy.subarray(0, 5), 0);
  });

  it('clip: ByzFL example with c = 2', () => {
    const out = new Clip(2).apply(stack([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), ones(3)).updates;
    close(out[0]!, [0.53452248, 1.06904497, 1.60356745], 1e-6);
    close(out[2]!, [1.00514142, 1.14873305, 1.29232469], 1e-6);
  });

  it('centered-clip: one step from zero, state carried between rounds, reset', () => {
    const cc = new CenteredClip(1, 1, 'zero');
    close(cc.aggregate(stack([[0.5], [0.5], [100]]), ones(3)), [2 / 3], 1e-6);
    const prev = new CenteredClip(1, 1, 'previous');
    close(prev.aggregate(stack([[0.5], [0.5], [100]]), ones(3)), [2 / 3], 1e-6);
    // second round starts from 2/3: diffs -1/6, -1/6, clipped +1 → 2/3 + (2/3)/3
    close(prev.aggregate(stack([[0.5], [0.5], [100]]), ones(3)), [2 / 3 + 2 / 9], 1e-6);
    prev.reset();
    close(prev.aggregate(stack([[0.5], [0.5], [100]]), ones(3)), [2 / 3], 1e-6);
  });

  it('centered-clip: resists one huge outlier (bias about tau/(n-1))', () => {
    const rng = new Rng(6);
    const t = rng.normalArray(20, 0, 1 / Math.sqrt(20)); // norm about 1
    const u = [...honestAround(t, 9, 0.01, rng), new Float32Array(20).fill(1e6)];
    const cc = new CenteredClip(1, 20, 'zero').aggregate(u, ones(10));
    assert.ok(dist(cc, t) < 0.2, `centered-clip error ${dist(cc, t)}`);
    assert.ok(dist(new Mean().aggregate(u, ones(10)), t) > 1e4);
  });

  it('nnm: ByzFL example (f = 1)', () => {
    const out = new Nnm(1).apply(stack([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), ones(3), 0).updates;
    close(out[0]!, [2.5, 3.5, 4.5]);
    close(out[1]!, [2.5, 3.5, 4.5]);
    close(out[2]!, [5.5, 6.5, 7.5]);
  });

  it('bucketing: weighted bucket means with total weights; bucketing+mean equals mean', () => {
    const b = bucketize(stack([[1], [4], [7]]), [1, 1, 1], [2, 0, 1], 2);
    close(b.updates[0]!, [4]);
    close(b.updates[1]!, [4]);
    assert.deepEqual(b.weights, [2, 1]);
    const rng = new Rng(8);
    const u = Array.from({ length: 9 }, () => rng.normalArray(6));
    const w = u.map(() => 1 + rng.int(50));
    close(buildAggregator('bucketing:s=2+mean', { seed: 3 }).aggregate(u, w), new Mean().aggregate(u, w), 1e-5);
  });

  it('chains: clip then median; preconditions count the buckets', () => {
    close(buildAggregator('clip:bound=1+median').aggregate(stack([[3, 4], [0, 0.5], [0, 0.4]]), ones(3)), [0, 0.5]);
    const chain = buildAggregator('bucketing:s=2+krum:f=1', { seed: 1 });
    throwsAgg(() => chain.checkClients(8), /the pre-aggregators turn 8 updates into 4/, /krum:f=1 needs n >= 2f\+3 = 5/);
    chain.checkClients(10);
    // nnm (f = 1): each of the four near points becomes the mean of the four, [0.375, 0.375]
    const nk = buildAggregator('nnm+krum', { numByzantine: 1 });
    close(nk.aggregate(krumStack, ones(5)), [0.375, 0.375]);
    assert.deepEqual(nk.lastInfo!.dropped, []);
  });

  it('results never alias inputs, and inputs are not modified', () => {
    const u = stack([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14]]);
    const copy = u.map((v) => Float32Array.from(v));
    for (const spec of ['mean', 'median', 'trimmed-mean:f=1', 'krum:f=1', 'multi-krum:f=1', 'bulyan:f=1', 'geomed', 'norm-clip', 'centered-clip', 'clip+nnm:f=1+median']) {
      const out = buildAggregator(spec).aggregate(u, ones(7));
      for (const v of u) assert.notEqual(out.buffer, v.buffer, spec);
      u.forEach((v, i) => close(v, copy[i]!, 0, spec));
    }
  });
});

describe('robustness properties', () => {
  const d = 50;
  const n = 20;
  const f = 4;
  const robust = ['median', `trimmed-mean:beta=0.2`, `krum:f=${f}`, `multi-krum:f=${f}`, `bulyan:f=${f}`, 'geomed', `clip:bound=10+trimmed-mean:f=${f}`, `nnm:f=${f}+krum:f=${f}`];

  function scenario(seed: number, attack: 'gaussian' | 'sign-flip'): { t: Float32Array; u: Float32Array[] } {
    const rng = new Rng(seed);
    const t = rng.normalArray(d, 0, 1);
    const honest = honestAround(t, n - f, 0.01, rng);
    const byz =
      attack === 'gaussian'
        ? Array.from({ length: f }, () => rng.normalArray(d, 0, 100))
        : honestAround(t, f, 0.01, rng).map((own) => own.map((x) => -10 * x));
    // Byzantine updates interleaved, not at the end
    const u = [...honest];
    byz.forEach((b, i) => u.splice(i * 5 + 2, 0, b));
    return { t, u };
  }

  for (const attack of ['gaussian', 'sign-flip'] as const) {
    it(`20% ${attack === 'gaussian' ? 'Gaussian (sigma 100)' : 'scaled sign-flip (scale 10)'} updates: mean lands far, robust rules stay close`, () => {
      for (const seed of [11, 12, 13]) {
        const { t, u } = scenario(seed, attack);
        const meanErr = dist(new Mean().aggregate(u, ones(n)), t);
        assert.ok(meanErr > 5, `mean error ${meanErr}`);
        for (const spec of robust) {
          const err = dist(buildAggregator(spec).aggregate(u, ones(n)), t);
          assert.ok(err < 0.2, `${spec} under ${attack} (seed ${seed}): error ${err} (mean: ${meanErr})`);
        }
      }
    });
  }

  it('NaN/Inf updates never reach a robust aggregate; they are dropped and reported', () => {
    const rng = new Rng(21);
    const t = rng.normalArray(d, 0, 1);
    const u = honestAround(t, 9, 0.01, rng);
    const nanU = new Float32Array(d).fill(1);
    nanU[7] = NaN;
    const infU = new Float32Array(d).fill(-Infinity);
    u.splice(2, 0, nanU);
    u.splice(6, 0, infU); // n = 11, f = 2: the two corrupt ones
    const specs = ['median', 'trimmed-mean:f=2', 'trimmed-mean:beta=0.2', 'krum:f=2', 'multi-krum:f=2', 'bulyan:f=2', 'geomed', 'norm-clip', 'centered-clip:center=zero,tau=10,iters=5', 'clip:bound=100+median', 'nnm:f=2+krum:f=2', 'bucketing:s=2+median'];
    for (const spec of specs) {
      const agg: Aggregator = buildAggregator(spec, { seed: 1 });
      const out = agg.aggregate(u, ones(11));
      assert.ok(allFinite(out), `${spec} returned non-finite values`);
      assert.deepEqual(agg.lastInfo!.dropped, [2, 6], spec);
      if (!spec.startsWith('norm-clip') && !spec.startsWith('centered')) assert.ok(dist(out, t) < 0.2, `${spec}: error ${dist(out, t)}`);
    }
    // krum's selection maps back to input indices, skipping the dropped ones
    const k = buildAggregator('krum:f=2');
    k.aggregate(u, ones(11));
    assert.ok(![2, 6].includes(k.lastInfo!.selected![0]!));
  });

  it('dropped updates count against f, so preconditions that held still hold', () => {
    // n = 5, f = 1 (Krum needs 5): one NaN leaves n = 4 with f' = 0 (needs 3)
    const u = stack([[0, 0], [0, 1], [1, 0], [0.5, 0.5], [NaN, 0]]);
    close(new Krum(1).aggregate(u, ones(5)), [0.5, 0.5]);
    // all corrupt: a clear error, never a NaN model
    throwsAgg(() => new Median().aggregate(stack([[NaN], [Infinity]]), [1, 1]), /median: all 2 updates contain NaN\/Inf/);
    throwsAgg(() => buildAggregator('clip+median').aggregate(stack([[NaN]]), [1]), /all 1 updates contain NaN\/Inf/);
  });

  it('malformed stacks are clear errors', () => {
    throwsAgg(() => new Median().aggregate([], []), /median: no updates/);
    throwsAgg(() => new Median().aggregate(stack([[1, 2], [1]]), [1, 1]), /update 1 has 1 values, update 0 has 2/);
    throwsAgg(() => new Mean().aggregate(stack([[1], [2]]), [1]), /2 updates but 1 weights/);
    throwsAgg(() => new Mean().aggregate(stack([[1], [2]]), [1, -1]), /weight 1 is -1/);
    throwsAgg(() => new Mean().aggregate(stack([[1], [2]]), [0, 0]), /weights sum to 0/);
  });
});
