/**
 * A synthetic, learnable image-classification dataset: the default for demos and tests, no files.
 *
 * Generation (deterministic given the seed): every class has a prototype made of a few random
 * smooth strokes (quadratic Bézier curves drawn with a Gaussian pen profile, in random colours when
 * C = 3). A sample of class k is its prototype under
 * - a random shift of the whole image by up to `maxShift` pixels (default 3 at 28x28) in x and y,
 * - an extra jitter of each stroke by up to 1 pixel, and a random intensity per stroke,
 * - a random global intensity scaling and a random background level,
 * - with probability `distractorProb` (default 0.5), one extra faint stroke taken from a random class,
 * - additive Gaussian pixel noise (std `noise`, default 0.2; normal quantiles of 16-bit draws),
 * clipped to [0, 1]. Labels are exactly balanced (counts differ by at most one) and shuffled.
 *
 * Prototypes depend only on (seed, classes, shape); train and test samples come from independent
 * streams, so changing trainSize does not change the test set. Measured with the defaults (6000
 * train / 1000 test, seed 1): a small CNN (conv 5x5x16, pool, conv 5x5x32, pool, dense; Adam 1e-3,
 * batch 64) reaches 93% test accuracy after 3 epochs and 95% after 4; softmax regression on the
 * pixels 78% after 4 epochs and 82% after 8 (the shifts and distractor strokes defeat templates).
 * Generating 60,000 samples of 28x28 takes well under 2 s.
 *
 * No file is read, so nothing needs validating beyond the options (positive integer sizes, 2+
 * classes, a shape of three positive integers with 1 or 3 channels, image side at least 8).
 */
import { Rng } from '../src/engine/rng.js';
import { DataError, type Dataset, type DatasetSplit } from './types.js';

export interface SyntheticOptions {
  /** Number of classes (default 10). */
  classes?: number;
  /** [H, W, C] (default [28, 28, 1]); C is 1 or 3. */
  shape?: [number, number, number];
  /** Training samples (default 6000). */
  trainSize?: number;
  /** Test samples (default 1000). */
  testSize?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Pixel noise standard deviation (default 0.2). */
  noise?: number;
  /** Largest shift of a whole image in pixels (default round(3 * side / 28), at least 1). */
  maxShift?: number;
  /** Strokes per class prototype (default 3). */
  strokes?: number;
  /** Probability of a faint distractor stroke from a random class (default 0.5). */
  distractorProb?: number;
  /** Dataset name put on the result (default 'synthetic'). */
  name?: string;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** N(0, 1) quantiles at the midpoints of 65536 equal-probability bins: a 16-bit draw -> a normal draw. */
const NORMAL_TABLE: Float32Array = (() => {
  const t = new Float32Array(65536);
  for (let i = 0; i < 65536; i++) t[i] = normalQuantile((i + 0.5) / 65536);
  return t;
})();

interface Stroke {
  /** Rendered on a padded canvas of (H + 2 pad) x (W + 2 pad), one channel. */
  canvas: Float32Array;
  /** Colour per channel (all 1 for grey). */
  colour: number[];
}

function checkPositiveInt(v: number, what: string, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new DataError(`synthetic: ${what} must be an integer >= ${min}, got ${v}`);
}

function renderStroke(rng: Rng, H: number, W: number, pad: number, scale: number, channels: number): Stroke {
  const Hp = H + 2 * pad;
  const Wp = W + 2 * pad;
  const margin = 4 * scale;
  const pt = (): [number, number] => [margin + rng.uniform() * (H - 2 * margin), margin + rng.uniform() * (W - 2 * margin)];
  const p0 = pt();
  const p1 = pt();
  const c = pt();
  const sigma = (0.9 + 0.5 * rng.uniform()) * scale;
  const M = 24;
  const ys: number[] = [];
  const xs: number[] = [];
  for (let i = 0; i <= M; i++) {
    const t = i / M;
    const a = (1 - t) * (1 - t);
    const b = 2 * (1 - t) * t;
    const d = t * t;
    ys.push(a * p0[0] + b * c[0] + d * p1[0] + pad);
    xs.push(a * p0[1] + b * c[1] + d * p1[1] + pad);
  }
  const canvas = new Float32Array(Hp * Wp);
  const inv = 1 / (2 * sigma * sigma);
  for (let y = 0; y < Hp; y++) {
    for (let x = 0; x < Wp; x++) {
      let best = Infinity;
      for (let i = 0; i < M; i++) {
        const ay = ys[i]!;
        const ax = xs[i]!;
        const sy = ys[i + 1]! - ay;
        const sx = xs[i + 1]! - ax;
        const len2 = sy * sy + sx * sx;
        let t = len2 > 0 ? ((y - ay) * sy + (x - ax) * sx) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const dy = y - (ay + t * sy);
        const dx = x - (ax + t * sx);
        const d2 = dy * dy + dx * dx;
        if (d2 < best) best = d2;
      }
      canvas[y * Wp + x] = Math.exp(-best * inv);
    }
  }
  let colour: number[];
  if (channels === 1) {
    colour = [1];
  } else {
    colour = Array.from({ length: channels }, () => 0.2 + 0.8 * rng.uniform());
    const m = Math.max(...colour);
    colour = colour.map((v) => v / m);
  }
  return { canvas, colour };
}

/** Draws `n` samples from the class prototypes. */
function drawSamples(
  rng: Rng,
  n: number,
  protos: Stroke[][],
  shape: [number, number, number],
  pad: number,
  maxShift: number,
  noise: number,
  distractorProb: number,
  name: string,
): Dataset {
  const [H, W, C] = shape;
  const K = protos.length;
  const Wp = W + 2 * pad;
  const px = H * W;
  const len = px * C;
  const labels = new Int32Array(n);
  const order = rng.permutation(n);
  for (let i = 0; i < n; i++) labels[order[i]!] = i % K;
  const images = new Float32Array(n * len);
  const acc = new Float32Array(len);
  const noiseScale = noise;
  const span = 2 * maxShift + 1;

  const addStroke = (s: Stroke, amp: number, oy: number, ox: number): void => {
    const cv = s.canvas;
    for (let y = 0; y < H; y++) {
      const src = (y - oy + pad) * Wp + pad - ox;
      const dst = y * W;
      if (C === 1) {
        for (let x = 0; x < W; x++) acc[dst + x]! += amp * cv[src + x]!;
      } else {
        const c0 = amp * s.colour[0]!;
        const c1 = amp * s.colour[1]!;
        const c2 = amp * s.colour[2]!;
        for (let x = 0; x < W; x++) {
          const v = cv[src + x]!;
          const o = (dst + x) * 3;
          acc[o]! += v * c0;
          acc[o + 1]! += v * c1;
          acc[o + 2]! += v * c2;
        }
      }
    }
  };

  for (let i = 0; i < n; i++) {
    const strokes = protos[labels[i]!]!;
    const dy = rng.int(span) - maxShift;
    const dx = rng.int(span) - maxShift;
    const gain = 0.7 + 0.4 * rng.uniform();
    if (C === 1) {
      acc.fill(0.12 * rng.uniform());
    } else {
      for (let ch = 0; ch < C; ch++) {
        const b = 0.12 * rng.uniform();
        for (let p = ch; p < len; p += C) acc[p] = b;
      }
    }
    for (const s of strokes) {
      const jy = rng.int(3) - 1;
      const jx = rng.int(3) - 1;
      addStroke(s, gain * (0.6 + 0.4 * rng.uniform()), dy + jy, dx + jx);
    }
    if (rng.uniform() < distractorProb) {
      const other = protos[rng.int(K)]!;
      const s = other[rng.int(other.length)]!;
      addStroke(s, 0.3 + 0.3 * rng.uniform(), rng.int(span) - maxShift, rng.int(span) - maxShift);
    }
    const base = i * len;
    // Pixel noise: an inline xorshift32 stream seeded per sample (fast, deterministic), two
    // 16-bit draws per step, each mapped through the table of normal quantiles.
    let st = rng.nextU32() | 1;
    const even = len & ~1;
    for (let p = 0; p < even; p += 2) {
      st ^= st << 13;
      st ^= st >>> 17;
      st ^= st << 5;
      const v0 = acc[p]! + noiseScale * NORMAL_TABLE[st & 0xffff]!;
      const v1 = acc[p + 1]! + noiseScale * NORMAL_TABLE[st >>> 16]!;
      images[base + p] = v0 < 0 ? 0 : v0 > 1 ? 1 : v0;
      images[base + p + 1] = v1 < 0 ? 0 : v1 > 1 ? 1 : v1;
    }
    if (even < len) {
      st ^= st << 13;
      st ^= st >>> 17;
      st ^= st << 5;
      const v = acc[even]! + noiseScale * NORMAL_TABLE[st & 0xffff]!;
      images[base + even] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return { name, images, labels, shape: [H, W, C], numClasses: K, classNames: Array.from({ length: K }, (_, k) => `class ${k}`) };
}

/** Generates the synthetic dataset (train and test splits). */
export function generateSynthetic(opts: SyntheticOptions = {}): DatasetSplit {
  const classes = opts.classes ?? 10;
  const shape = opts.shape ?? [28, 28, 1];
  const trainSize = opts.trainSize ?? 6000;
  const testSize = opts.testSize ?? 1000;
  const seed = opts.seed ?? 0;
  const noise = opts.noise ?? 0.2;
  const strokes = opts.strokes ?? 3;
  const distractorProb = opts.distractorProb ?? 0.5;
  const name = opts.name ?? 'synthetic';
  checkPositiveInt(classes, 'classes', 2);
  checkPositiveInt(trainSize, 'trainSize');
  checkPositiveInt(testSize, 'testSize');
  checkPositiveInt(strokes, 'strokes');
  if (!Array.isArray(shape) || shape.length !== 3) throw new DataError(`synthetic: shape must be [H, W, C], got ${JSON.stringify(shape)}`);
  const [H, W, C] = shape;
  checkPositiveInt(H, 'shape height', 8);
  checkPositiveInt(W, 'shape width', 8);
  if (C !== 1 && C !== 3) throw new DataError(`synthetic: shape channels must be 1 or 3, got ${C}`);
  if (!(noise >= 0)) throw new DataError(`synthetic: noise must be >= 0, got ${noise}`);
  if (!(distractorProb >= 0 && distractorProb <= 1)) throw new DataError(`synthetic: distractorProb must be in [0, 1], got ${distractorProb}`);
  const scale = Math.min(H, W) / 28;
  const maxShift = opts.maxShift ?? Math.max(1, Math.round(3 * scale));
  if (!Number.isInteger(maxShift) || maxShift < 0) throw new DataError(`synthetic: maxShift must be an integer >= 0, got ${maxShift}`);
  // Room for the largest offset: whole-image shift or distractor shift, plus 1 for the stroke jitter.
  const pad = maxShift + 1;

  const root = new Rng(seed);
  const protoRng = root.fork('prototypes');
  const trainRng = root.fork('train');
  const testRng = root.fork('test');
  const protos: Stroke[][] = [];
  for (let k = 0; k < classes; k++) {
    protos.push(Array.from({ length: strokes }, () => renderStroke(protoRng, H, W, pad, scale, C)));
  }
  return {
    train: drawSamples(trainRng, trainSize, protos, [H, W, C], pad, maxShift, noise, distractorProb, name),
    test: drawSamples(testRng, testSize, protos, [H, W, C], pad, maxShift, noise, distractorProb, name),
  };
}
