/**
 * Image-quality metrics for scoring gradient-leakage reconstructions against the private ground
 * truth. All functions take plain arrays (typically `Float32Array`) of pixels in NHWC order
 * (a single image: `[h, w, c]` row-major, channel fastest) and do their arithmetic in float64.
 *
 * **MSE** — mean squared error over every pixel and channel:
 * `MSE(a, b) = (1/N) Σ_i (a_i − b_i)²`.
 *
 * **PSNR** — peak signal-to-noise ratio in decibels:
 * `PSNR(a, b) = 10 · log10(R² / MSE(a, b))`, with `R = dataRange` (default 1, images in [0, 1]).
 * Identical images have MSE 0 and PSNR `+Infinity`. That value is returned as is (it is the
 * honest answer); {@link ../io/atomic.ts writeJsonAtomic} deliberately encodes it as the JSON
 * string `"Infinity"` (and −Infinity/NaN as `"-Infinity"`/`"NaN"`) instead of the `null` that
 * `JSON.stringify` would silently produce.
 *
 * **SSIM** — structural similarity, Wang, Bovik, Sheikh & Simoncelli, "Image quality
 * assessment: from error visibility to structural similarity", IEEE TIP 13(4), 2004:
 *
 * ```
 *   μx = G∗x, μy = G∗y, σx² = G∗(x²) − μx², σy² = G∗(y²) − μy², σxy = G∗(xy) − μx·μy
 *   S = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),
 *   C1 = (K1·L)², C2 = (K2·L)²
 * ```
 *
 * where `G` is a normalised Gaussian window with σ = 1.5, truncated at radius
 * `r = floor(3.5·σ + 0.5) = 5` (an 11×11 window), K1 = 0.01, K2 = 0.03, L = 1 (the data range).
 * Variances are population (not sample) moments. The local map `S` is evaluated only on the
 * "valid" region — pixels whose whole window lies inside the image, i.e. an
 * `(h − 2r) × (w − 2r)` map — and averaged; for colour images this is done per channel and the
 * channel means are averaged. This reproduces scikit-image's
 * `structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
 * data_range=1, channel_axis=-1)` (skimage filters the whole image with reflect padding and then
 * crops `r` pixels from every border, which leaves exactly the valid region).
 *
 * Small images: when `min(h, w) < 2r + 1` the window cannot fit. We then shrink the radius to
 * the largest that fits, `r' = floor((min(h, w) − 1) / 2)`, keeping σ = 1.5 and renormalising
 * the truncated Gaussian (the same kernel scipy's `gaussian_filter(sigma=1.5, truncate=r'/1.5)`
 * uses). scikit-image refuses such images; for a 1-pixel side the window is 1×1 and SSIM reduces
 * to the luminance term `(2xy + C1)/(x² + y² + C1)`.
 */

/** Options for {@link ssim}. Defaults are those of Wang et al. 2004. */
export interface SsimOptions {
  /** Dynamic range L of the pixel values (default 1 for images in [0, 1]). */
  dataRange?: number;
  /** Stabiliser constant K1 (default 0.01). */
  k1?: number;
  /** Stabiliser constant K2 (default 0.03). */
  k2?: number;
  /** Standard deviation of the Gaussian window (default 1.5). */
  sigma?: number;
  /** Window truncation in standard deviations (default 3.5, giving radius 5 for σ = 1.5). */
  truncate?: number;
}

type Pixels = ArrayLike<number>;

function checkPair(a: Pixels, b: Pixels, fn: string): void {
  if (a.length !== b.length) {
    throw new Error(`${fn}: images differ in size (${a.length} vs ${b.length} values)`);
  }
  if (a.length === 0) throw new Error(`${fn}: images are empty`);
}

/** Mean squared error `(1/N) Σ (a_i − b_i)²` over all values. Throws on a size mismatch. */
export function mse(a: Pixels, b: Pixels): number {
  checkPair(a, b, 'mse');
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s / a.length;
}

/**
 * Peak signal-to-noise ratio `10 · log10(dataRange² / MSE)` in dB. Returns `+Infinity` for
 * identical images (MSE 0) and NaN if an input holds NaN.
 */
export function psnr(a: Pixels, b: Pixels, dataRange = 1): number {
  if (!(dataRange > 0)) throw new Error(`psnr: dataRange must be > 0, got ${dataRange}`);
  const m = mse(a, b);
  if (m === 0) return Infinity;
  return 10 * Math.log10((dataRange * dataRange) / m);
}

/** Normalised 1-D Gaussian kernel of the given radius (scipy's `_gaussian_kernel1d`). */
export function gaussianKernel1d(sigma: number, radius: number): Float64Array {
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = radius === 0 ? 1 : Math.exp((-0.5 * i * i) / (sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/**
 * The window radius SSIM uses for an `h × w` image: `floor(truncate·σ + 0.5)` (5 by default),
 * reduced to `floor((min(h, w) − 1)/2)` when the image is too small for it.
 */
export function ssimWindowRadius(h: number, w: number, opts: SsimOptions = {}): number {
  const sigma = opts.sigma ?? 1.5;
  const truncate = opts.truncate ?? 3.5;
  const r = Math.floor(truncate * sigma + 0.5);
  return Math.max(0, Math.min(r, Math.floor((Math.min(h, w) - 1) / 2)));
}

/**
 * Mean structural similarity of two `h × w × c` images (NHWC, one image), in [−1, 1];
 * 1 exactly for identical images. See the file header for the definition and defaults.
 */
export function ssim(a: Pixels, b: Pixels, h: number, w: number, c: number, opts: SsimOptions = {}): number {
  checkPair(a, b, 'ssim');
  for (const [name, v] of [['h', h], ['w', w], ['c', c]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`ssim: ${name} must be a positive integer, got ${v}`);
  }
  if (h * w * c !== a.length) {
    throw new Error(`ssim: ${h}x${w}x${c} = ${h * w * c} values expected, images have ${a.length}`);
  }
  const L = opts.dataRange ?? 1;
  const K1 = opts.k1 ?? 0.01;
  const K2 = opts.k2 ?? 0.03;
  const sigma = opts.sigma ?? 1.5;
  if (!(L > 0)) throw new Error(`ssim: dataRange must be > 0, got ${L}`);
  if (!(sigma > 0)) throw new Error(`ssim: sigma must be > 0, got ${sigma}`);
  const C1 = (K1 * L) ** 2;
  const C2 = (K2 * L) ** 2;
  const r = ssimWindowRadius(h, w, opts);
  const g = gaussianKernel1d(sigma, r);
  const win = 2 * r + 1;
  const oh = h - 2 * r;
  const ow = w - 2 * r;

  // Five moment planes, filtered separably: rows first (h × ow), then columns (oh × ow).
  const rowsBuf = Array.from({ length: 5 }, () => new Float64Array(h * ow));
  const x = new Float64Array(w);
  const y = new Float64Array(w);
  let total = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        x[j] = a[(i * w + j) * c + ch];
        y[j] = b[(i * w + j) * c + ch];
      }
      for (let j = 0; j < ow; j++) {
        let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (let k = 0; k < win; k++) {
          const gk = g[k];
          const xv = x[j + k];
          const yv = y[j + k];
          sx += gk * xv;
          sy += gk * yv;
          sxx += gk * (xv * xv);
          syy += gk * (yv * yv);
          sxy += gk * (xv * yv);
        }
        const o = i * ow + j;
        rowsBuf[0][o] = sx;
        rowsBuf[1][o] = sy;
        rowsBuf[2][o] = sxx;
        rowsBuf[3][o] = syy;
        rowsBuf[4][o] = sxy;
      }
    }
    const [rx, ry, rxx, ryy, rxy] = rowsBuf;
    let chSum = 0;
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
        for (let k = 0; k < win; k++) {
          const gk = g[k];
          const o = (i + k) * ow + j;
          ux += gk * rx[o];
          uy += gk * ry[o];
          uxx += gk * rxx[o];
          uyy += gk * ryy[o];
          uxy += gk * rxy[o];
        }
        const vx = uxx - ux * ux;
        const vy = uyy - uy * uy;
        const vxy = uxy - ux * uy;
        const num = (2 * ux * uy + C1) * (2 * vxy + C2);
        const den = (ux * ux + uy * uy + C1) * (vx + vy + C2);
        chSum += num / den;
      }
    }
    total += chSum / (oh * ow);
  }
  return total / c;
}
