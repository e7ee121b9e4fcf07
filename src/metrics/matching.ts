/**
 * Optimal one-to-one matching of reconstructions to ground-truth images.
 *
 * A batch gradient-leakage attack returns B reconstructions in an arbitrary order (the gradient of
 * a mean loss is permutation-invariant), so before scoring we pair them with the B private
 * images by solving the linear assignment problem
 *
 * ```
 *   minimise  Σ_i cost[i][σ(i)]   over injective σ: {0..n−1} → {0..m−1},  n ≤ m
 * ```
 *
 * with the Hungarian (Kuhn–Munkres) algorithm in its O(n²·m) shortest-augmenting-path form with
 * row/column potentials (Kuhn 1955, "The Hungarian method for the assignment problem"; Munkres
 * 1957; the potential formulation follows Jonker & Volgenant 1987). Rectangular matrices with
 * n > m are solved on the transpose; rows left without a column get −1.
 *
 * {@link matchAndScore} builds the cost matrix from per-pair MSE (default) or −SSIM, solves it and
 * reports MSE / PSNR / SSIM of every matched pair plus their means (see `./image.ts`).
 */
import { mse, ssim, type SsimOptions } from './image.js';

function solveRowsLeqCols(cost: number[][], n: number, m: number): number[] {
  // 1-indexed arrays; index 0 is the virtual start column/row.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j] = row assigned to column j (0 = none)
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      const row = cost[i0 - 1];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = row[j - 1] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const assignment = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j] !== 0) assignment[p[j] - 1] = j - 1;
  return assignment;
}

/**
 * Minimum-total-cost one-to-one assignment for an n×m cost matrix. Returns `a` with `a[i]` the
 * column given to row i; all columns distinct. For n ≤ m every row is assigned; for n > m the
 * m rows that gain a column get one and the others get −1. Costs must be finite.
 */
export function bestAssignment(cost: number[][]): number[] {
  const n = cost.length;
  if (n === 0) return [];
  const m = cost[0].length;
  for (let i = 0; i < n; i++) {
    if (!Array.isArray(cost[i]) || cost[i].length !== m) {
      throw new Error(`bestAssignment: row ${i} has ${cost[i]?.length} entries, expected ${m}`);
    }
    for (let j = 0; j < m; j++) {
      if (!Number.isFinite(cost[i][j])) {
        throw new Error(`bestAssignment: cost[${i}][${j}] = ${cost[i][j]} is not a finite number`);
      }
    }
  }
  if (m === 0) return new Array<number>(n).fill(-1);
  if (n <= m) return solveRowsLeqCols(cost, n, m);
  const t = Array.from({ length: m }, (_, j) => cost.map((row) => row[j]));
  const colToRow = solveRowsLeqCols(t, m, n);
  const assignment = new Array<number>(n).fill(-1);
  colToRow.forEach((row, col) => {
    assignment[row] = col;
  });
  return assignment;
}

/** Total cost of an assignment as returned by {@link bestAssignment} (unassigned rows skipped). */
export function assignmentCost(cost: number[][], assignment: number[]): number {
  let s = 0;
  assignment.forEach((j, i) => {
    if (j >= 0) s += cost[i][j];
  });
  return s;
}

export interface MatchedPair {
  /** Index into the ground-truth list. */
  truth: number;
  /** Index into the reconstruction list. */
  recon: number;
  mse: number;
  psnr: number;
  ssim: number;
}

export interface MatchScore {
  /** `assignment[t]` = reconstruction matched to ground-truth image t (−1 if none). */
  assignment: number[];
  /** One entry per matched ground-truth image, in ground-truth order. */
  pairs: MatchedPair[];
  /** Means over the matched pairs (PSNR is +Infinity if any pair is identical). */
  mean: { mse: number; psnr: number; ssim: number };
}

export interface MatchOptions {
  /** Matching criterion: minimise total MSE (default) or maximise total SSIM. */
  by?: 'mse' | 'ssim';
  /** Data range for PSNR/SSIM (default 1). */
  dataRange?: number;
  ssim?: SsimOptions;
}

/**
 * Match reconstructions to ground-truth images (each `h × w × c`, NHWC) optimally and score the
 * pairs. Every ground-truth image is matched when there are at least as many reconstructions.
 */
export function matchAndScore(
  recons: ArrayLike<number>[],
  truths: ArrayLike<number>[],
  h: number,
  w: number,
  c: number,
  opts: MatchOptions = {},
): MatchScore {
  if (truths.length === 0 || recons.length === 0) throw new Error('matchAndScore: empty image list');
  const dataRange = opts.dataRange ?? 1;
  const ssimOpts: SsimOptions = { ...opts.ssim, dataRange };
  const mseM = truths.map((t) => recons.map((r) => mse(r, t)));
  const ssimM = truths.map((t) => recons.map((r) => ssim(r, t, h, w, c, ssimOpts)));
  const cost = opts.by === 'ssim' ? ssimM.map((row) => row.map((s) => -s)) : mseM;
  const assignment = bestAssignment(cost);
  const pairs: MatchedPair[] = [];
  assignment.forEach((r, t) => {
    if (r < 0) return;
    const m = mseM[t][r];
    pairs.push({
      truth: t,
      recon: r,
      mse: m,
      psnr: m === 0 ? Infinity : 10 * Math.log10((dataRange * dataRange) / m),
      ssim: ssimM[t][r],
    });
  });
  const avg = (f: (p: MatchedPair) => number): number => pairs.reduce((s, p) => s + f(p), 0) / pairs.length;
  return { assignment, pairs, mean: { mse: avg((p) => p.mse), psnr: avg((p) => p.psnr), ssim: avg((p) => p.ssim) } };
}
