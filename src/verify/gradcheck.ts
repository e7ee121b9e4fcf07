/**
 * Gradient checks: is an autodiff gradient right? For a scalar function f of some tensors, compare the
 * directional derivative along a random unit direction v,  D = Σ_i <∇_i f, v_i>, with
 *  - central finite differences (f(x+εv) − f(x−εv)) / 2ε, Richardson-extrapolated over ε and ε/2 so
 *    the O(ε²) error cancels (float32 arithmetic limits the rest), or
 *  - the same autodiff computed on the cpu backend (for backends such as wasm whose float32 sums are
 *    too noisy for finite differences, once cpu itself has passed the finite-difference check).
 * f may itself contain gradients (second-order checks: e.g. the DLG objective ‖∇θ L(x) − g‖²).
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import { readFlat, readScalar } from '../engine/read.js';

export interface CheckInput {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface CheckCase {
  name: string;
  /** 1: f is a loss; 2: f contains parameter gradients (a gradient of a gradient is checked). */
  order: 1 | 2;
  inputs: CheckInput[];
  /** Names of the inputs to differentiate with respect to. */
  wrt: string[];
  fn: (t: Record<string, tf.Tensor>) => tf.Scalar;
  /** Relative tolerance; default 2e-3 against finite differences, 1e-3 against cpu autodiff. */
  tol?: number;
  /** Finite-difference step along the unit direction (default 1e-2). Piecewise-smooth functions (ReLU,
   * max-pool) need small steps: a second-order objective of a ReLU net jumps where a unit switches. */
  eps?: number;
}

export interface CheckResult {
  name: string;
  order: 1 | 2;
  backend: string;
  reference: 'finite-difference' | 'cpu-autodiff';
  autodiff: number;
  expected: number;
  relError: number;
  tol: number;
  pass: boolean;
  ms: number;
  error?: string;
}

function tensors(inputs: CheckInput[], shift?: { v: Record<string, Float32Array>; eps: number }): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const inp of inputs) {
    let vals = inp.values;
    const dir = shift?.v[inp.name];
    if (shift && dir) {
      vals = new Float32Array(vals.length);
      for (let i = 0; i < vals.length; i++) vals[i] = inp.values[i]! + shift.eps * dir[i]!;
    }
    out[inp.name] = tf.tensor(vals, inp.shape, 'float32');
  }
  return out;
}

function directions(c: CheckCase, seed: number): Record<string, Float32Array> {
  const rng = new Rng(seed);
  const v: Record<string, Float32Array> = {};
  let norm2 = 0;
  for (const name of c.wrt) {
    const inp = c.inputs.find((i) => i.name === name);
    if (!inp) throw new Error(`check '${c.name}': no input '${name}'`);
    const d = rng.normalArray(inp.values.length);
    for (const x of d) norm2 += x * x;
    v[name] = d;
  }
  const s = 1 / Math.sqrt(norm2);
  for (const d of Object.values(v)) for (let i = 0; i < d.length; i++) d[i]! *= s;
  return v;
}

/** Σ_i <∇_i f, v_i> by autodiff on the current backend, and ‖∇f‖. */
export async function autodiffDirectional(c: CheckCase, v: Record<string, Float32Array>): Promise<{ d: number; norm: number }> {
  const grads = tf.tidy(() => {
    const t = tensors(c.inputs);
    const xs = c.wrt.map((n) => t[n]!);
    return tf.grads((...args: tf.Tensor[]) => {
      const m = { ...t };
      c.wrt.forEach((n, i) => (m[n] = args[i]!));
      return c.fn(m);
    })(xs);
  });
  let gv: Float64Array;
  try {
    gv = await readFlat(grads);
  } finally {
    tf.dispose(grads);
  }
  let d = 0;
  let n2 = 0;
  let off = 0;
  c.wrt.forEach((name) => {
    const dir = v[name]!;
    for (let k = 0; k < dir.length; k++) {
      const g = gv[off + k]!;
      d += g * dir[k]!;
      n2 += g * g;
    }
    off += dir.length;
  });
  return { d, norm: Math.sqrt(n2) };
}

async function value(c: CheckCase, v: Record<string, Float32Array>, eps: number): Promise<number> {
  const s = tf.tidy(() => c.fn(tensors(c.inputs, { v, eps })));
  try {
    return await readScalar(s);
  } finally {
    s.dispose();
  }
}

/** Central difference along v, Richardson-extrapolated: (4·D(ε/2) − D(ε)) / 3. */
export async function finiteDifferenceDirectional(c: CheckCase, v: Record<string, Float32Array>, eps = 1e-2): Promise<number> {
  const d = async (e: number): Promise<number> => ((await value(c, v, e)) - (await value(c, v, -e))) / (2 * e);
  return (4 * (await d(eps / 2)) - (await d(eps))) / 3;
}

/**
 * |a − b| relative to the larger of |a|, |b| and ‖∇f‖/10: a directional derivative that is tiny only
 * because v happens to be nearly orthogonal to ∇f is judged against the gradient's own scale.
 */
export function relativeError(a: number, b: number, gradNorm = 0): number {
  const scale = Math.max(Math.abs(a), Math.abs(b), gradNorm / 10, 1e-12);
  return Math.abs(a - b) / scale;
}

/**
 * Runs one check on the current backend. On cpu the reference is finite differences; elsewhere it is
 * cpu's autodiff (the function switches to cpu and back).
 */
export async function runCheck(c: CheckCase, seed = 1): Promise<CheckResult> {
  const backend = tf.getBackend();
  const v = directions(c, seed);
  const t0 = performance.now();
  const base = { name: c.name, order: c.order, backend };
  try {
    const { d: autodiff, norm } = await autodiffDirectional(c, v);
    let expected: number;
    let reference: CheckResult['reference'];
    if (backend === 'cpu') {
      expected = await finiteDifferenceDirectional(c, v, c.eps);
      reference = 'finite-difference';
    } else {
      await tf.setBackend('cpu');
      try {
        expected = (await autodiffDirectional(c, v)).d;
      } finally {
        await tf.setBackend(backend);
      }
      reference = 'cpu-autodiff';
    }
    const tol = c.tol ?? (reference === 'finite-difference' ? 2e-3 : 1e-3);
    const relError = relativeError(autodiff, expected, norm);
    const pass = Number.isFinite(autodiff) && relError <= tol;
    return { ...base, reference, autodiff, expected, relError, tol, pass, ms: performance.now() - t0 };
  } catch (e) {
    return {
      ...base, reference: backend === 'cpu' ? 'finite-difference' : 'cpu-autodiff', autodiff: NaN, expected: NaN,
      relError: NaN, tol: c.tol ?? 0, pass: false, ms: performance.now() - t0, error: (e as Error).message,
    };
  }
}
