/**
 * Seeded pseudo-random numbers for everything in fedattack that draws at random: parameter
 * initialisation, dummy inputs, client sampling, partitions, Byzantine noise.
 *
 * Generator: xoshiro128** (Blackman & Vigna), seeded through splitmix32 so that nearby seeds give
 * unrelated streams. Pure JavaScript, so the same seed gives the same numbers on every backend.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
    let x = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 bits of precision. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniformRange(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    if (!(n > 0) || !Number.isInteger(n)) throw new Error(`Rng.int needs a positive integer, got ${n}`);
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal N(0, 1) by the Box-Muller transform. */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 by the boost Gamma(a+1)·U^(1/a). */
  gamma(shape: number): number {
    if (!(shape > 0)) throw new Error(`gamma shape must be > 0, got ${shape}`);
    if (shape < 1) {
      let u = 0;
      while (u === 0) u = this.uniform();
      return this.gamma(shape + 1) * Math.pow(u, 1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** A draw from Dirichlet(alpha, ..., alpha) of dimension k. */
  dirichlet(alpha: number, k: number): number[] {
    const g = Array.from({ length: k }, () => this.gamma(alpha));
    const s = g.reduce((a, b) => a + b, 0);
    return s > 0 ? g.map((v) => v / s) : g.map(() => 1 / k);
  }

  /** In-place Fisher-Yates shuffle; returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** k distinct indices from 0..n-1, in random order. */
  sample(n: number, k: number): number[] {
    if (k > n) throw new Error(`cannot sample ${k} of ${n}`);
    return this.permutation(n).slice(0, k);
  }

  /** Float32Array of n draws from N(mean, std²). */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** Float32Array of n draws from U[lo, hi). */
  uniformArray(n: number, lo: number, hi: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniformRange(lo, hi);
    return out;
  }

  /** A child generator with an independent stream, derived from this one and a label. */
  fork(label: string | number): Rng {
    let h = this.nextU32();
    const s = String(label);
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    return new Rng(h);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
