/**
 * Tests for attacks/poisoning: the normal quantile behind ALIE against reference values, ALIE's z for
 * (n, f) from the paper's formula, IPM = −ε·mean, sign-flip, seeded Gaussian noise, label maps, exact
 * trigger pixels, and the model-replacement boost that makes the next global model ≈ the attacker's.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/engine/rng.js';
import {
  Alie,
  alieVector,
  alieZ,
  applyTrigger,
  AttackError,
  backdoorTestSet,
  buildAttack,
  flipLabels,
  Gaussian,
  inverseNormalCdf,
  Ipm,
  LabelFlip,
  labelMap,
  ModelReplacement,
  reverseLabel,
  scaleForReplacement,
  SignFlip,
  triggerPixels,
  type CraftContext,
  type LocalSamples,
  type Trigger,
} from '../attacks/poisoning/index.js';
import { Mean } from '../defenses/aggregation/index.js';

const F = (...xs: number[]): Float32Array => Float32Array.from(xs);

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let j = 0; j < expected.length; j++) assert.ok(Math.abs(actual[j]! - expected[j]!) <= tol, `[${j}]: got ${actual[j]}, expected ${expected[j]}`);
}

function ctx(over: Partial<CraftContext> = {}): CraftContext {
  return { honest: [], numClients: 10, numByzantine: 2, rng: new Rng(0), ...over };
}

describe('inverse normal CDF (Acklam) and ALIE', () => {
  it('matches reference quantiles (Python statistics.NormalDist) to 1e-8 relative', () => {
    const ref: [number, number][] = [
      [0.975, 1.9599639845400536],
      [0.025, -1.9599639845400538],
      [0.5, 0],
      [0.72, 0.5828415072712162],
      [0.9, 1.2815515655446008],
      [0.99, 2.3263478740408408],
      [0.999, 3.090232306167813],
      [0.3, -0.5244005127080407],
      [0.02425, -1.9729610513118845], // the region boundary
      [0.97575, 1.9729610513118847],
      [1e-10, -6.361340902404056],
    ];
    for (const [p, x] of ref) assert.ok(Math.abs(inverseNormalCdf(p) - x) <= 1e-8 * Math.max(1, Math.abs(x)), `p=${p}: ${inverseNormalCdf(p)} vs ${x}`);
    assert.throws(() => inverseNormalCdf(0), RangeError);
    assert.throws(() => inverseNormalCdf(1), RangeError);
  });

  it("alieZ from the paper's formula: n=50, f=12 → s=14, z = Φ⁻¹(0.72) = 0.5828; n=50, f=24 → 1.7507", () => {
    assert.ok(Math.abs(alieZ(50, 12) - 0.5828415) < 1e-3);
    assert.ok(Math.abs(alieZ(50, 12) - 0.5828415072712162) < 1e-8);
    assert.ok(Math.abs(alieZ(50, 24) - 1.7506860712521695) < 1e-8);
    assert.ok(Math.abs(alieZ(10, 2) - 0.2533471031357998) < 1e-8);
    assert.throws(() => alieZ(10, 6), (e: unknown) => e instanceof AttackError && /f is a majority/.test(e.message));
  });

  it('alie sends mean − z·std per coordinate (population std) over the honest updates', () => {
    close(alieVector([F(0, 1), F(2, 3)], 1), [0, 1]);
    close(alieVector([F(1, 5), F(1, 5), F(4, 5)], 2), [2 - 2 * Math.sqrt(2), 5]);
    const a = new Alie();
    const honest = [F(0, 10), F(2, 10), F(4, 13)];
    const out = a.craft(ctx({ honest, numClients: 50, numByzantine: 12 }));
    assert.ok(Math.abs(a.lastZ! - 0.5828415) < 1e-6);
    const sd0 = Math.sqrt(8 / 3);
    close(out, [2 - a.lastZ! * sd0, 11 - a.lastZ! * Math.sqrt(2)], 1e-5);
    close(new Alie(-1.5).craft(ctx({ honest })), [2 + 1.5 * sd0, 11 + 1.5 * Math.sqrt(2)], 1e-5);
    assert.equal(a.seesHonestUpdates, true);
    assert.throws(() => a.craft(ctx()), /needs the round's honest updates/);
  });
});

describe('model-poisoning attacks', () => {
  it('ipm sends exactly −ε · mean of the honest updates', () => {
    close(new Ipm(0.5).craft(ctx({ honest: [F(1, 2), F(3, 4)] })), [-1, -1.5]);
    const rng = new Rng(1);
    const honest = Array.from({ length: 7 }, () => rng.normalArray(100));
    const expected = new Mean().aggregate(honest, honest.map(() => 1)).map((x) => -0.1 * x);
    close(new Ipm().craft(ctx({ honest })), expected, 1e-6);
    assert.equal(new Ipm().seesHonestUpdates, true);
  });

  it('sign-flip sends −scale · own update and needs it', () => {
    close(new SignFlip().craft(ctx({ ownUpdate: F(1, -2) })), [-1, 2]);
    close(new SignFlip(10).craft(ctx({ ownUpdate: F(1, -2) })), [-10, 20]);
    assert.throws(() => new SignFlip().craft(ctx()), /needs ctx.ownUpdate/);
    assert.deepEqual([new SignFlip().seesHonestUpdates, new SignFlip().needsOwnUpdate], [false, true]);
  });

  it('gaussian draws N(mu, sigma²) of the update length, reproducibly from the seed', () => {
    const g = new Gaussian(100, 0);
    const a = g.craft(ctx({ dim: 50000, rng: new Rng(5) }));
    const b = g.craft(ctx({ dim: 50000, rng: new Rng(5) }));
    close(a, b, 0);
    const m = a.reduce((s, x) => s + x, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length);
    assert.ok(Math.abs(m) < 2 && Math.abs(sd - 100) < 1.5, `mean ${m}, sd ${sd}`);
    assert.equal(new Gaussian().craft(ctx({ ownUpdate: new Float32Array(7) })).length, 7);
    assert.throws(() => new Gaussian().craft(ctx()), /cannot tell the update length/);
  });
});

describe('label-flip', () => {
  it('reverse maps y → C−1−y; targeted maps only source → target', () => {
    assert.deepEqual([...labelMap(10)].slice(0, 4), [9, 8, 7, 6]);
    assert.deepEqual([...flipLabels(Int32Array.from([0, 3, 9]), labelMap(10))], [9, 6, 0]);
    assert.equal(reverseLabel(3, 10), 6);
    assert.deepEqual([...labelMap(5, { mode: 'targeted', source: 2, target: 4 })], [0, 1, 4, 3, 4]);
    assert.throws(() => labelMap(5, { mode: 'targeted', source: 2, target: 7 }), /must be classes of 0..4/);
  });

  it('poisonData relabels the chosen fraction without touching the input; craft sends the trained update', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => i % 10);
    const data: LocalSamples = { images: new Float32Array(100 * 4), labels, shape: [2, 2, 1], numClasses: 10 };
    const all = new LabelFlip().poisonData(data, new Rng(1));
    assert.deepEqual([...all.labels.slice(0, 3)], [9, 8, 7]);
    assert.equal(data.labels[0], 0);
    const half = new LabelFlip({ mode: 'reverse', source: 0, target: 0 }, 0.5).poisonData(data, new Rng(1));
    assert.equal(half.labels.filter((y, i) => y !== labels[i]).length, 50); // reverse has no fixed point for even C
    close(new LabelFlip().craft(ctx({ ownUpdate: F(1, 2) })), [1, 2], 0);
  });
});

describe('model replacement: trigger and boost', () => {
  it('stamps a square in the bottom-right corner, exactly those pixels, every channel', () => {
    const h = 6, w = 6, c = 2;
    const imgs = new Float32Array(2 * h * w * c).fill(0.5);
    const t: Trigger = { pattern: 'square', size: 2, value: 1, position: 'bottom-right' };
    assert.deepEqual(triggerPixels(h, w, t), [[4, 4], [4, 5], [5, 4], [5, 5]]);
    const out = applyTrigger(imgs, h, w, c, t);
    for (let n = 0; n < 2; n++) {
      for (let r = 0; r < h; r++) {
        for (let col = 0; col < w; col++) {
          for (let k = 0; k < c; k++) {
            const expected = r >= 4 && col >= 4 ? 1 : 0.5;
            assert.equal(out[((n * h + r) * w + col) * c + k], expected, `image ${n} (${r},${col},${k})`);
          }
        }
      }
    }
    assert.ok(imgs.every((x) => x === 0.5), 'input untouched');
  });

  it('stamps a plus (middle row and column of the box) at top-left with a margin, only on chosen images', () => {
    const h = 5, w = 5, c = 1;
    const t: Trigger = { pattern: 'plus', size: 3, value: 0.9, position: 'top-left', margin: 1 };
    assert.deepEqual(triggerPixels(h, w, t), [[1, 2], [2, 1], [2, 2], [2, 3], [3, 2]]);
    const out = applyTrigger(new Float32Array(3 * 25), h, w, c, t, [1]);
    const stamped = [...out.keys()].filter((i) => out[i] !== 0);
    assert.deepEqual(stamped, [25 + 7, 25 + 11, 25 + 12, 25 + 13, 25 + 17]);
    assert.ok(Math.abs(out[25 + 12]! - 0.9) < 1e-7);
    assert.deepEqual(triggerPixels(4, 4, { pattern: 'square', size: 1, value: 1, position: 'top-right' }), [[0, 3]]);
    assert.deepEqual(triggerPixels(4, 4, { pattern: 'square', size: 1, value: 1, position: 'bottom-left', margin: 1 }), [[2, 1]]);
    assert.throws(() => triggerPixels(4, 4, { pattern: 'square', size: 4, value: 1, position: 'top-left', margin: 1 }), /does not fit a 4x4 image/);
  });

  it('scaleForReplacement multiplies by n/η, so that FedAvg lands on the attacker model', () => {
    close(scaleForReplacement(F(1, -2), 10, 1), [10, -20]);
    close(scaleForReplacement(F(1, -2), 10, 0.5), [20, -40]);
    // global G, attacker's backdoored model X, honest updates ≈ 0 (near convergence)
    const G = F(1, 2, 3);
    const X = F(4, 0, 3);
    const n = 5;
    const eta = 1;
    const delta = X.map((x, j) => x - G[j]!);
    const updates = [scaleForReplacement(delta, n, eta), ...Array.from({ length: n - 1 }, () => new Float32Array(3))];
    const agg = new Mean().aggregate(updates, updates.map(() => 1));
    close(G.map((g, j) => g + eta * agg[j]!), X, 1e-6);
  });

  it('poisonData stamps and relabels the chosen fraction; craft boosts by n/serverLr or the given scale', () => {
    const labels = Int32Array.from({ length: 50 }, (_, i) => 1 + (i % 4));
    const data: LocalSamples = { images: new Float32Array(50 * 16), labels, shape: [4, 4, 1], numClasses: 5 };
    const mr = buildAttack('model-replacement:target=0,size=2,fraction=0.2') as ModelReplacement;
    const p = mr.poisonData!(data, new Rng(3));
    const poisoned = [...p.labels.keys()].filter((i) => p.labels[i] === 0);
    assert.equal(poisoned.length, 10);
    for (let i = 0; i < 50; i++) {
      const corner = p.images[i * 16 + 15]!; // pixel (3,3)
      assert.equal(corner, poisoned.includes(i) ? 1 : 0);
    }
    close(mr.craft(ctx({ ownUpdate: F(1, 2), numClients: 8, serverLr: 2, numByzantine: 1 })), [4, 8]);
    // f_round = 2 attackers in the round: each boosts by n/(η·2), so that the mean lands on X once.
    close(mr.craft(ctx({ ownUpdate: F(1, 2), numClients: 8, serverLr: 2, numByzantine: 2 })), [2, 4]);
    const G = F(1, 2);
    const X = F(3, -2);
    const d = X.map((x, j) => x - G[j]!);
    const sent = [0, 1].map(() => mr.craft(ctx({ ownUpdate: d, numClients: 8, serverLr: 1, numByzantine: 2 })));
    const agg = new Mean().aggregate([...sent, ...Array.from({ length: 6 }, () => new Float32Array(2))], Array(8).fill(1));
    close(G.map((g, j) => g + agg[j]!), X, 1e-6);
    const fixed = buildAttack('model-replacement:scale=3');
    close(fixed.craft(ctx({ ownUpdate: F(1, 2), numClients: 8 })), [3, 6]);
    assert.throws(() => mr.poisonData!({ ...data, numClasses: 0 }, new Rng(0)), /target=0 is not a class/);
  });

  it('backdoorTestSet: non-target samples, stamped, labelled target', () => {
    const data: LocalSamples = { images: new Float32Array(3 * 4), labels: Int32Array.from([0, 2, 1]), shape: [2, 2, 1], numClasses: 3 };
    const t: Trigger = { pattern: 'square', size: 1, value: 1, position: 'bottom-right' };
    const b = backdoorTestSet(data, t, 2);
    assert.deepEqual([...b.labels], [2, 2]);
    assert.deepEqual([...b.images], [0, 0, 0, 1, 0, 0, 0, 1]);
  });
});
