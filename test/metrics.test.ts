import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  assignmentCost,
  bestAssignment,
  gaussianKernel1d,
  labelAccuracy,
  labelMultisetAccuracy,
  matchAndScore,
  mse,
  psnr,
  ssim,
  ssimWindowRadius,
} from '../src/metrics/index.js';
import { Rng } from '../src/engine/rng.js';

/** Build an h×w×c Float32Array from f(i, j, k) evaluated in double precision. */
function img(h: number, w: number, c: number, f: (i: number, j: number, k: number) => number): Float32Array {
  const a = new Float32Array(h * w * c);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) a[(i * w + j) * c + k] = f(i, j, k);
  return a;
}

/**
 * Independent, deliberately naive SSIM: for every valid pixel, a direct 2-D double loop over the
 * (2r+1)² window with an explicitly normalised 2-D Gaussian. No separability, no buffers.
 */
function slowSsim(a: Float32Array, b: Float32Array, h: number, w: number, c: number, r: number): number {
  const sigma = 1.5;
  const C1 = 0.01 ** 2;
  const C2 = 0.03 ** 2;
  let wsum = 0;
  for (let di = -r; di <= r; di++) for (let dj = -r; dj <= r; dj++) wsum += Math.exp(-(di * di + dj * dj) / (2 * sigma * sigma));
  let total = 0;
  for (let k = 0; k < c; k++) {
    let s = 0;
    let count = 0;
    for (let i = r; i < h - r; i++) {
      for (let j = r; j < w - r; j++) {
        let mx = 0, my = 0, mxx = 0, myy = 0, mxy = 0;
        for (let di = -r; di <= r; di++) {
          for (let dj = -r; dj <= r; dj++) {
            const g = Math.exp(-(di * di + dj * dj) / (2 * sigma * sigma)) / wsum;
            const x = a[((i + di) * w + j + dj) * c + k];
            const y = b[((i + di) * w + j + dj) * c + k];
            mx += g * x; my += g * y; mxx += g * x * x; myy += g * y * y; mxy += g * x * y;
          }
        }
        const vx = mxx - mx * mx, vy = myy - my * my, vxy = mxy - mx * my;
        s += ((2 * mx * my + C1) * (2 * vxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
        count++;
      }
    }
    total += s / count;
  }
  return total / c;
}

// Deterministic oracle pairs: integer/sine formulas evaluated in double precision, then stored as
// float32. The Python oracle (see ORACLE) used the same formulas.
const A1 = img(16, 16, 1, (i, j) => ((i * 7 + j * 13) % 17) / 16);
const A2 = img(16, 16, 1, (i, j) => ((i * i + 3 * j) % 11) / 10);
const B1 = img(12, 14, 3, (i, j, k) => ((i * 5 + j * 3 + k * 7) % 23) / 22);
const B2 = img(12, 14, 3, (i, j, k) => Math.min(1, Math.max(0, ((i * 5 + j * 3 + k * 7) % 23) / 22 + (((i * 31 + j * 17 + k * 13) % 9) - 4) / 40)));
const C1 = img(20, 20, 3, (i, j, k) => 0.5 + 0.5 * Math.sin(0.3 * i + 0.2 * j + k));
const C2 = img(20, 20, 3, (i, j, k) => 0.5 + 0.45 * Math.sin(0.3 * i + 0.2 * j + k + 0.4));
const S1 = img(7, 9, 3, (i, j, k) => ((i * 3 + j * 5 + k * 2) % 13) / 12);
const S2 = img(7, 9, 3, (i, j, k) => ((i * 2 + j * 7 + k) % 13) / 12);

/*
 * Oracle values, produced once with Python 3 + scikit-image 0.26.0 + scipy 1.17.1 (not needed to
 * run the tests). Each image was built with the same formula in float64, cast with
 * `.astype(np.float32).astype(np.float64)`, and scored with
 *   skimage.metrics.structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
 *       use_sample_covariance=False, data_range=1.0, channel_axis=-1)
 * For the 7×9 pair (too small for skimage's 11×11 window) the oracle is the same pipeline written
 * with scipy: per channel, gaussian_filter(z, sigma=1.5, truncate=3/1.5, mode='reflect') for
 * μx, μy, E[x²], E[y²], E[xy]; the Wang et al. map; crop 3 px each side; mean; mean over channels.
 */
const ORACLE = {
  A: 0.22884837448153073, // 16×16×1
  B: 0.9787846389334169, // 12×14×3, y = x + small structured noise
  C: 0.7859219903607505, // 20×20×3, phase-shifted sinusoids
  S: -0.03202202969186455, // 7×9×3, window radius shrunk to 3
};

describe('mse / psnr', () => {
  it('match hand-computed values', () => {
    const a = new Float32Array([0, 0.5, 1, 0.25]);
    const b = new Float32Array([0, 0.25, 0.5, 0.25]);
    // squared errors 0, 1/16, 1/4, 0 → mean 5/64
    assert.equal(mse(a, b), 5 / 64);
    assert.ok(Math.abs(psnr(a, b) - 10 * Math.log10(64 / 5)) < 1e-12);
    // data range 255 scales PSNR by 20·log10(255)
    assert.ok(Math.abs(psnr(a, b, 255) - (10 * Math.log10(64 / 5) + 20 * Math.log10(255))) < 1e-9);
    // a uniform error of 0.1 gives exactly 20 dB
    assert.ok(Math.abs(psnr([0.1, 0.1], [0, 0]) - 20) < 1e-12);
  });

  it('identical images: MSE 0, PSNR +Infinity', () => {
    assert.equal(mse(A1, A1), 0);
    assert.equal(psnr(A1, A1), Infinity);
  });

  it('reject mismatched or empty input', () => {
    assert.throws(() => mse([1, 2], [1]), /differ in size/);
    assert.throws(() => mse([], []), /empty/);
    assert.throws(() => psnr([1], [0], 0), /dataRange/);
  });
});

describe('ssim', () => {
  it('is exactly 1 for identical images', () => {
    assert.equal(ssim(A1, A1, 16, 16, 1), 1);
    assert.equal(ssim(B1, new Float32Array(B1), 12, 14, 3), 1);
    assert.equal(ssim(S1, S1, 7, 9, 3), 1);
  });

  it('matches the scikit-image oracle values', () => {
    assert.ok(Math.abs(ssim(A1, A2, 16, 16, 1) - ORACLE.A) < 1e-12, `A: ${ssim(A1, A2, 16, 16, 1)}`);
    assert.ok(Math.abs(ssim(B1, B2, 12, 14, 3) - ORACLE.B) < 1e-12, `B: ${ssim(B1, B2, 12, 14, 3)}`);
    assert.ok(Math.abs(ssim(C1, C2, 20, 20, 3) - ORACLE.C) < 1e-12, `C: ${ssim(C1, C2, 20, 20, 3)}`);
  });

  it('small images use a shrunk window (scipy oracle)', () => {
    assert.equal(ssimWindowRadius(7, 9), 3);
    assert.equal(ssimWindowRadius(32, 32), 5);
    assert.equal(ssimWindowRadius(1, 40), 0);
    assert.ok(Math.abs(ssim(S1, S2, 7, 9, 3) - ORACLE.S) < 1e-12, `S: ${ssim(S1, S2, 7, 9, 3)}`);
    // 1-pixel images: luminance term only
    const x = 0.3, y = 0.6, c1 = 1e-4;
    assert.ok(Math.abs(ssim([x], [y], 1, 1, 1) - (2 * x * y + c1) / (x * x + y * y + c1)) < 1e-12);
  });

  it('agrees with a slow direct double-loop implementation', () => {
    for (const [a, b, h, w, c] of [[A1, A2, 16, 16, 1], [B1, B2, 12, 14, 3], [C1, C2, 20, 20, 3], [S1, S2, 7, 9, 3]] as const) {
      const fast = ssim(a, b, h, w, c);
      const slow = slowSsim(a, b, h, w, c, ssimWindowRadius(h, w));
      assert.ok(Math.abs(fast - slow) < 1e-10, `${h}x${w}x${c}: ${fast} vs ${slow}`);
    }
    const rng = new Rng(7);
    const r1 = img(24, 19, 3, () => rng.uniform());
    const r2 = img(24, 19, 3, () => rng.uniform());
    assert.ok(Math.abs(ssim(r1, r2, 24, 19, 3) - slowSsim(r1, r2, 24, 19, 3, 5)) < 1e-10);
  });

  it('is exactly symmetric', () => {
    assert.equal(ssim(A1, A2, 16, 16, 1), ssim(A2, A1, 16, 16, 1));
    assert.equal(ssim(C1, C2, 20, 20, 3), ssim(C2, C1, 20, 20, 3));
    assert.equal(ssim(S1, S2, 7, 9, 3), ssim(S2, S1, 7, 9, 3));
  });

  it('decreases as noise increases', () => {
    const rng = new Rng(1);
    const noise = img(32, 32, 3, () => rng.normal());
    const noisy = (s: number): Float32Array => img(32, 32, 3, (i, j, k) => {
      const base = 0.5 + 0.4 * Math.sin(0.3 * i + 0.2 * j + k);
      return Math.min(1, Math.max(0, base + s * noise[(i * 32 + j) * 3 + k]));
    });
    const clean = noisy(0);
    const values = [0.01, 0.05, 0.1, 0.3].map((s) => ssim(clean, noisy(s), 32, 32, 3));
    for (let i = 1; i < values.length; i++) assert.ok(values[i] < values[i - 1], `ssim ${values}`);
    assert.ok(values[0] > 0.9 && values[0] < 1);
    assert.ok(values[3] < 0.5);
  });

  it('validates shapes and the Gaussian kernel is normalised', () => {
    assert.throws(() => ssim(A1, A2, 16, 15, 1), /values expected/);
    assert.throws(() => ssim(A1, A2, 0, 16, 1), /positive integer/);
    const g = gaussianKernel1d(1.5, 5);
    assert.equal(g.length, 11);
    assert.ok(Math.abs(g.reduce((s, v) => s + v, 0) - 1) < 1e-15);
    assert.equal(g[0], g[10]);
  });
});

describe('label accuracy', () => {
  it('position-wise', () => {
    assert.equal(labelAccuracy([1, 2, 3, 4], [1, 2, 0, 4]), 0.75);
    assert.equal(labelAccuracy([5], [5]), 1);
    assert.throws(() => labelAccuracy([1], [1, 2]), /1 predicted labels for 2/);
    assert.throws(() => labelAccuracy([], []), /no labels/);
  });

  it('multiset (order-free)', () => {
    assert.equal(labelMultisetAccuracy([3, 1, 2], [1, 2, 3]), 1);
    assert.equal(labelMultisetAccuracy([1, 1, 1, 2], [1, 2, 2, 3]), 0.5);
    assert.equal(labelMultisetAccuracy([0, 0], [1, 1]), 0);
  });
});

function bruteForce(cost: number[][]): number {
  const n = cost.length;
  const m = cost[0].length;
  let best = Infinity;
  const used = new Array<boolean>(m).fill(false);
  const rec = (i: number, acc: number): void => {
    if (i === n) {
      best = Math.min(best, acc);
      return;
    }
    for (let j = 0; j < m; j++) {
      if (used[j]) continue;
      used[j] = true;
      rec(i + 1, acc + cost[i][j]);
      used[j] = false;
    }
  };
  rec(0, 0);
  return best;
}

function checkAssignment(a: number[], n: number, m: number): void {
  assert.equal(a.length, n);
  const assigned = a.filter((j) => j >= 0);
  assert.equal(assigned.length, Math.min(n, m));
  assert.equal(new Set(assigned).size, assigned.length, 'columns must be distinct');
  for (const j of assigned) assert.ok(j < m);
}

describe('bestAssignment (Hungarian)', () => {
  it('matches brute force on random square and rectangular matrices', () => {
    const rng = new Rng(42);
    for (let trial = 0; trial < 300; trial++) {
      const [n, m] = ([[5, 5], [4, 6], [1, 3], [3, 3], [6, 6], [2, 7]] as const)[trial % 6];
      // mix continuous costs, small integer costs (many ties) and negative costs
      const kind = trial % 3;
      const cost = Array.from({ length: n }, () =>
        Array.from({ length: m }, () => (kind === 0 ? rng.uniform() * 10 : kind === 1 ? Math.floor(rng.uniform() * 4) : rng.normal() * 5)),
      );
      const a = bestAssignment(cost);
      checkAssignment(a, n, m);
      assert.ok(Math.abs(assignmentCost(cost, a) - bruteForce(cost)) < 1e-9, `trial ${trial}`);
    }
  });

  it('handles n > m by transposing (unmatched rows get -1)', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 30; trial++) {
      const cost = Array.from({ length: 6 }, () => Array.from({ length: 4 }, () => rng.uniform()));
      const a = bestAssignment(cost);
      checkAssignment(a, 6, 4);
      const t = Array.from({ length: 4 }, (_, j) => cost.map((r) => r[j]));
      assert.ok(Math.abs(assignmentCost(cost, a) - bruteForce(t)) < 1e-9);
    }
  });

  it('edge cases and validation', () => {
    assert.deepEqual(bestAssignment([]), []);
    assert.deepEqual(bestAssignment([[7]]), [0]);
    assert.deepEqual(bestAssignment([[0, 1], [1, 0]]), [0, 1]);
    assert.deepEqual(bestAssignment([[1, 0], [0, 1]]), [1, 0]);
    assert.throws(() => bestAssignment([[1, 2], [3]]), /row 1/);
    assert.throws(() => bestAssignment([[1, NaN]]), /not a finite/);
  });
});

describe('matchAndScore', () => {
  it('recovers a shuffled batch and scores it', () => {
    const truths = [A1, A2, img(16, 16, 1, (i, j) => (i + j) / 30)];
    const rng = new Rng(5);
    const jitter = (x: Float32Array): Float32Array => x.map((v) => Math.min(1, Math.max(0, v + 0.02 * rng.normal())));
    // reconstructions in shuffled order: recon 0 ≈ truth 2, recon 1 ≈ truth 0, recon 2 = truth 1
    const recons = [jitter(truths[2]), jitter(truths[0]), truths[1]];
    const s = matchAndScore(recons, truths, 16, 16, 1);
    assert.deepEqual(s.assignment, [1, 2, 0]);
    assert.equal(s.pairs[1].mse, 0);
    assert.equal(s.pairs[1].psnr, Infinity);
    assert.equal(s.pairs[1].ssim, 1);
    assert.equal(s.mean.psnr, Infinity);
    assert.ok(s.pairs[0].psnr > 30 && Number.isFinite(s.pairs[0].psnr));
    assert.equal(s.mean.mse, (s.pairs[0].mse + s.pairs[2].mse) / 3);
    const bySsim = matchAndScore(recons, truths, 16, 16, 1, { by: 'ssim' });
    assert.deepEqual(bySsim.assignment, [1, 2, 0]);
  });
});
