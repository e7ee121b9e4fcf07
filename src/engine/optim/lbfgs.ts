/**
 * L-BFGS over a list of `tf.Variable`s, a port of the algorithm of `torch.optim.LBFGS` (PyTorch 1.13,
 * itself modelled on minFunc / torch7 `optim.lbfgs` and `optim.lswolfe`).
 *
 * All variables are handled as one flat float32 vector x (concatenation of their reshapes). Each call to
 * {@link LBFGSOptimizer.step} evaluates f(x), g = ∇f(x) and then runs at most `maxIter` iterations of
 *
 *     d = −H·g                   (two-loop recursion over the last `historySize` pairs (s, y),
 *                                 s = t·d_prev, y = g − g_prev, stored only when yᵀs > 1e-10,
 *                                 initial inverse Hessian H₀ = γ·I with γ = yᵀs / yᵀy;
 *                                 on the very first iteration d = −g)
 *     t = min(1, 1/‖g‖₁)·lr      on the very first iteration, t = lr afterwards
 *     x ← x + t·d                (fixed step, or t from the strong-Wolfe line search)
 *
 * The state (d, t, history, γ, previous flat gradient and loss, iteration / evaluation counters) carries
 * over between `step` calls exactly as in PyTorch. An iteration loop stops on: max|g| ≤ toleranceGrad
 * (also checked right after the first evaluation of a step), gᵀd > −toleranceChange, max|t·d| ≤
 * toleranceChange, |f − f_prev| < toleranceChange, `maxIter` iterations, `maxEval` evaluations.
 * Without line search the objective is not re-evaluated after the last iteration of a step (PyTorch).
 *
 * Line search `'strong_wolfe'`: bracketing + zoom with safeguarded cubic interpolation, c1 = 1e-4,
 * c2 = 0.9, at most 25 evaluations (PyTorch `_strong_wolfe` / `_cubic_interpolate`).
 *
 * Options and defaults (PyTorch's): lr 1, maxIter 20, maxEval floor(maxIter·5/4), toleranceGrad 1e-7,
 * toleranceChange 1e-9, historySize 100, lineSearchFn null | 'strong_wolfe' (null).
 *
 * Departures from PyTorch: a non-finite loss or gradient (or a non-finite direction) stops the step, the
 * variables are restored to the last point whose loss was finite, and `diverged` becomes true (sticky);
 * an exception thrown by the objective restores the variables and the optimizer state to what they were
 * at the start of the step (and rethrows). Scalars are read back (dataSync) only where control flow needs
 * them, as PyTorch's `.item()`; they are then combined in double precision (PyTorch combines some of
 * them as float32 tensors), so iterates agree with PyTorch to float32 round-off, not bitwise.
 *
 * Reference: D. C. Liu, J. Nocedal, "On the limited memory BFGS method for large scale optimization",
 * Math. Programming 45 (1989); J. Nocedal, S. Wright, "Numerical Optimization", Alg. 7.4 and 3.5/3.6;
 * PyTorch `torch/optim/lbfgs.py`.
 */
import { tf } from '../tf.js';
import type { Objective, Optimizer } from './index.js';

export interface LBFGSOptions {
  /** Learning rate (step length scale), default 1. */
  lr?: number;
  /** Maximal number of iterations per `step`, default 20. */
  maxIter?: number;
  /** Maximal number of objective evaluations per `step`, default floor(maxIter * 5 / 4). */
  maxEval?: number;
  /** Termination tolerance on first-order optimality (max |g|), default 1e-7. */
  toleranceGrad?: number;
  /** Termination tolerance on function value / parameter changes, default 1e-9. */
  toleranceChange?: number;
  /** Number of (s, y) correction pairs kept, default 100. */
  historySize?: number;
  /** `'strong_wolfe'` or null (fixed step t = lr), default null. */
  lineSearchFn?: 'strong_wolfe' | null;
}

type Vec = tf.Tensor1D;

/** Optimizer state carried across `step` calls (PyTorch's `state[...]` entries). */
interface LBFGSState {
  funcEvals: number;
  nIter: number;
  d: Vec | null;
  t: number;
  oldDirs: Vec[]; // y_k
  oldStps: Vec[]; // s_k
  ro: number[]; // 1 / (y_kᵀ s_k)
  hDiag: number;
  prevFlatGrad: Vec | null;
  prevLoss: number;
}

/** Result of one objective evaluation, flattened. */
interface Evaluation {
  loss: number;
  grad: Vec;
  maxAbs: number;
  l1: number;
  /** gᵀd when a direction was given, else NaN. */
  gtd: number;
  finite: boolean;
}

function stateTensors(s: LBFGSState): tf.Tensor[] {
  const out: tf.Tensor[] = [...s.oldDirs, ...s.oldStps];
  if (s.d) out.push(s.d);
  if (s.prevFlatGrad) out.push(s.prevFlatGrad);
  return out;
}

/** Safeguarded cubic interpolation of the minimiser from (x1, f1, g1), (x2, f2, g2) (PyTorch's
 *  `_cubic_interpolate`, after torch7 polyinterp.lua), clamped to `bounds` (default: [x1, x2] sorted). */
export function cubicInterpolate(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  bounds?: [number, number],
): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  // Minimiser of the cubic through both points with both slopes.
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2sq = d1 * d1 - g1 * g2;
  if (d2sq >= 0) {
    const d2 = Math.sqrt(d2sq);
    const minPos =
      x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    // min(max(minPos, lo), hi), with Python's NaN semantics (max(NaN, lo) = NaN; min(NaN, hi) = NaN).
    const clampedLo = minPos < lo ? lo : minPos;
    return hi < clampedLo ? hi : clampedLo;
  }
  return (lo + hi) / 2;
}

export class LBFGSOptimizer implements Optimizer {
  readonly name = 'lbfgs';
  readonly maxIter: number;
  readonly maxEval: number;
  readonly toleranceGrad: number;
  readonly toleranceChange: number;
  readonly historySize: number;
  readonly lineSearchFn: 'strong_wolfe' | null;

  private lr: number;
  private readonly vars: tf.Variable[];
  private readonly sizes: number[];
  private readonly numel: number;
  private state: LBFGSState;
  private evals = 0;
  private divergedFlag = false;
  private disposed = false;

  constructor(vars: tf.Variable[], opts: LBFGSOptions = {}) {
    if (vars.length === 0) throw new Error('LBFGS: no variables to optimise');
    this.vars = vars.slice();
    this.sizes = vars.map((v) => v.size);
    this.numel = this.sizes.reduce((a, b) => a + b, 0);
    this.lr = opts.lr ?? 1;
    this.maxIter = opts.maxIter ?? 20;
    this.maxEval = opts.maxEval ?? Math.floor((this.maxIter * 5) / 4);
    this.toleranceGrad = opts.toleranceGrad ?? 1e-7;
    this.toleranceChange = opts.toleranceChange ?? 1e-9;
    this.historySize = opts.historySize ?? 100;
    this.lineSearchFn = opts.lineSearchFn ?? null;
    if (this.lineSearchFn !== null && this.lineSearchFn !== 'strong_wolfe') {
      throw new Error(`LBFGS: only 'strong_wolfe' line search is supported, got '${String(this.lineSearchFn)}'`);
    }
    if (!(this.maxIter >= 1) || !(this.maxEval >= 1) || !(this.historySize >= 1)) {
      throw new Error('LBFGS: maxIter, maxEval and historySize must be >= 1');
    }
    for (const v of vars) {
      if (v.dtype !== 'float32') throw new Error(`LBFGS: variable ${v.name} is ${v.dtype}, expected float32`);
    }
    this.state = {
      funcEvals: 0,
      nIter: 0,
      d: null,
      t: this.lr,
      oldDirs: [],
      oldStps: [],
      ro: [],
      hDiag: 1,
      prevFlatGrad: null,
      prevLoss: NaN,
    };
  }

  get evaluations(): number {
    return this.evals;
  }
  get diverged(): boolean {
    return this.divergedFlag;
  }
  get learningRate(): number {
    return this.lr;
  }
  /** Total L-BFGS iterations so far (PyTorch's `state['n_iter']`). */
  get iterations(): number {
    return this.state.nIter;
  }
  /** Number of stored correction pairs. */
  get historyLength(): number {
    return this.state.oldDirs.length;
  }
  setLearningRate(lr: number): void {
    this.lr = lr;
  }

  /** Number of tensors held as state (d, previous gradient, 2 per history pair). */
  get stateTensorCount(): number {
    return stateTensors(this.state).length;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose(stateTensors(this.state));
    this.state.oldDirs = [];
    this.state.oldStps = [];
    this.state.d = null;
    this.state.prevFlatGrad = null;
  }

  step(objective: Objective): number {
    if (this.disposed) throw new Error('LBFGS: step() after dispose()');
    const old = this.state;
    const oldSet = new Set<tf.Tensor>(stateTensors(old));
    const work: LBFGSState = { ...old, oldDirs: old.oldDirs.slice(), oldStps: old.oldStps.slice(), ro: old.ro.slice() };
    const keptNow: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(t: T): T => {
      if (!t.kept) {
        tf.keep(t);
        keptNow.push(t);
      }
      return t;
    };
    /** Frees a state tensor that was dropped from the working state, unless the committed state owns it. */
    const drop = (t: tf.Tensor | null): void => {
      if (t && !oldSet.has(t)) t.dispose();
    };
    let committed = false;
    try {
      const result = tf.tidy(() => {
        const x0 = this.flatParams();
        try {
          return this.run(objective, work, keep, drop);
        } catch (e) {
          this.setParams(x0);
          throw e;
        }
      });
      this.state = work;
      committed = true;
      return result;
    } finally {
      const live = new Set<tf.Tensor>(stateTensors(this.state));
      for (const t of keptNow) if (!live.has(t)) t.dispose();
      if (committed) for (const t of oldSet) if (!live.has(t)) t.dispose();
    }
  }

  // ------------------------------------------------------------------------------------------------
  // flat-vector helpers

  private flatParams(): Vec {
    return tf.tidy(() => tf.concat(this.vars.map((v) => tf.reshape(v, [-1]))) as Vec);
  }

  /** vars ← x (exact copy). */
  private setParams(x: Vec): void {
    tf.tidy(() => {
      let off = 0;
      this.vars.forEach((v, i) => {
        const n = this.sizes[i]!;
        v.assign(tf.reshape(tf.slice(x, [off], [n]), v.shape));
        off += n;
      });
    });
  }

  /** vars ← base + t·d, with base the current variable values, or the flat vector `base` if given. */
  private addDir(t: number, d: Vec, base?: Vec): void {
    tf.tidy(() => {
      let off = 0;
      this.vars.forEach((v, i) => {
        const n = this.sizes[i]!;
        const b = base ? tf.reshape(tf.slice(base, [off], [n]), v.shape) : v;
        v.assign(tf.add(b, tf.mul(tf.reshape(tf.slice(d, [off], [n]), v.shape), t)));
        off += n;
      });
    });
  }

  /** Calls the objective at the current variables; flattens the gradients (the objective's tensors are
   *  disposed) and reads back loss, max|g|, ‖g‖₁ and, if `d` is given, gᵀd in one sync. */
  private evaluate(objective: Objective, d?: Vec): Evaluation {
    this.evals++;
    const out = objective();
    let grad: Vec;
    let stats: Float32Array | Int32Array | Uint8Array;
    try {
      if (!out || !Array.isArray(out.grads) || out.grads.length !== this.vars.length) {
        throw new Error(
          `LBFGS: objective returned ${out && Array.isArray(out.grads) ? out.grads.length : 'no'} gradients for ${this.vars.length} variables`,
        );
      }
      out.grads.forEach((g, i) => {
        if (g.size !== this.sizes[i]) {
          throw new Error(`LBFGS: gradient ${i} has shape [${g.shape}] but variable ${this.vars[i]!.name} has [${this.vars[i]!.shape}]`);
        }
      });
      if (out.loss.size !== 1) throw new Error(`LBFGS: loss must be a scalar, got shape [${out.loss.shape}]`);
      grad = tf.tidy(() => tf.concat(out.grads.map((g) => tf.reshape(tf.cast(g, 'float32'), [-1]))) as Vec);
      const packed = tf.tidy(() => {
        const a = tf.abs(grad);
        const parts: tf.Tensor[] = [tf.reshape(tf.cast(out.loss, 'float32'), []), tf.max(a), tf.sum(a)];
        if (d) parts.push(tf.dot(grad, d));
        return tf.stack(parts);
      });
      stats = packed.dataSync();
      packed.dispose();
    } finally {
      tf.dispose([out?.loss, ...(out?.grads ?? [])].filter((t): t is tf.Tensor => t instanceof tf.Tensor));
    }
    const loss = stats[0]!;
    const maxAbs = stats[1]!;
    const l1 = stats[2]!;
    const gtd = d ? stats[3]! : NaN;
    // max() may skip NaNs; the ℓ1 sum propagates NaN and ±Inf.
    const finite = Number.isFinite(loss) && Number.isFinite(l1) && Number.isFinite(maxAbs) && (!d || Number.isFinite(gtd));
    return { loss, grad, maxAbs, l1, gtd, finite };
  }

  private readScalar(f: () => tf.Scalar): number {
    const s = tf.tidy(f);
    const v = s.dataSync()[0]!;
    s.dispose();
    return v;
  }

  /** Two-loop recursion: returns −H·g for the stored history and H₀ = hDiag·I. */
  private direction(g: Vec, st: LBFGSState): Vec {
    return tf.tidy(() => {
      const num = st.oldDirs.length;
      const al: tf.Scalar[] = new Array(num);
      let q: Vec = tf.neg(g);
      for (let i = num - 1; i >= 0; i--) {
        const a = tf.mul(tf.dot(st.oldStps[i]!, q), st.ro[i]!) as tf.Scalar;
        al[i] = a;
        const qn = tf.tidy(() => tf.sub(q, tf.mul(st.oldDirs[i]!, a)) as Vec);
        q.dispose();
        q = qn;
      }
      let r: Vec = tf.mul(q, st.hDiag);
      q.dispose();
      for (let i = 0; i < num; i++) {
        const rn = tf.tidy(() => {
          const be = tf.mul(tf.dot(st.oldDirs[i]!, r), st.ro[i]!);
          return tf.add(r, tf.mul(st.oldStps[i]!, tf.sub(al[i]!, be))) as Vec;
        });
        r.dispose();
        r = rn;
      }
      return r;
    });
  }

  // ------------------------------------------------------------------------------------------------
  // the algorithm

  private run(
    objective: Objective,
    st: LBFGSState,
    keep: <T extends tf.Tensor>(t: T) => T,
    drop: (t: tf.Tensor | null) => void,
  ): number {
    const { maxIter, maxEval, toleranceGrad, toleranceChange, historySize } = this;
    const lr = this.lr;
    /** Frees a loop-local gradient unless it is (also) held by the state. */
    const release = (t: tf.Tensor): void => {
      if (!t.kept) t.dispose();
    };

    const first = this.evaluate(objective);
    const origLoss = first.loss;
    let loss = first.loss;
    let flatGrad = first.grad;
    let currentEvals = 1;
    st.funcEvals += 1;
    if (!first.finite) {
      this.divergedFlag = true;
      return origLoss;
    }
    let optCond = first.maxAbs <= toleranceGrad;
    if (optCond) return origLoss;

    let d = st.d;
    let t = st.t;
    let nIter = 0;
    while (nIter < maxIter) {
      nIter++;
      st.nIter++;

      // ---- descent direction
      if (st.nIter === 1) {
        drop(d);
        d = keep(tf.neg(flatGrad));
        for (const v of st.oldDirs) drop(v);
        for (const v of st.oldStps) drop(v);
        st.oldDirs = [];
        st.oldStps = [];
        st.ro = [];
        st.hDiag = 1;
      } else {
        const prev = st.prevFlatGrad;
        const dPrev = d;
        if (!prev || !dPrev) throw new Error('LBFGS: inconsistent state (missing previous gradient or direction)');
        const y = tf.sub(flatGrad, prev) as Vec;
        const s = tf.mul(dPrev, t) as Vec;
        const ys = this.readScalar(() => tf.dot(y, s) as tf.Scalar);
        if (ys > 1e-10) {
          if (st.oldDirs.length === historySize) {
            drop(st.oldDirs.shift()!);
            drop(st.oldStps.shift()!);
            st.ro.shift();
          }
          st.oldDirs.push(keep(y));
          st.oldStps.push(keep(s));
          st.ro.push(1 / ys);
          st.hDiag = ys / this.readScalar(() => tf.dot(y, y) as tf.Scalar);
        } else {
          y.dispose();
          s.dispose();
        }
        d = keep(this.direction(flatGrad, st));
        drop(dPrev);
      }
      // the gradient becomes the previous gradient (tensors are immutable: no copy needed)
      if (st.prevFlatGrad !== flatGrad) drop(st.prevFlatGrad);
      st.prevFlatGrad = keep(flatGrad);
      st.prevLoss = loss;

      // ---- step length
      t = st.nIter === 1 ? Math.min(1, 1 / first.l1) * lr : lr;
      const gtd = this.readScalar(() => tf.dot(flatGrad, d!) as tf.Scalar);
      if (!Number.isFinite(gtd)) {
        // non-finite direction (e.g. overflow in the curvature pairs): stop without moving
        this.divergedFlag = true;
        break;
      }
      if (gtd > -toleranceChange) break;

      let lsEvals = 0;
      if (this.lineSearchFn === 'strong_wolfe') {
        const x = this.flatParams();
        const ls = this.strongWolfe(objective, x, t, d, loss, flatGrad, first.maxAbs, gtd);
        lsEvals = ls.evals;
        currentEvals += lsEvals;
        st.funcEvals += lsEvals;
        if (ls.diverged) {
          // variables are already back at x (every trial point is undone after its evaluation)
          this.divergedFlag = true;
          x.dispose();
          break;
        }
        loss = ls.f;
        if (ls.g !== flatGrad) release(flatGrad);
        flatGrad = ls.g;
        t = ls.t;
        this.addDir(t, d, x);
        x.dispose();
        optCond = ls.maxAbs <= toleranceGrad;
      } else {
        if (nIter !== maxIter) {
          const x = this.flatParams();
          this.addDir(t, d, x);
          // re-evaluate only if not in the last iteration (PyTorch: no use in a stochastic setting)
          const ev = this.evaluate(objective);
          lsEvals = 1;
          currentEvals += 1;
          st.funcEvals += 1;
          if (!ev.finite) {
            this.setParams(x);
            x.dispose();
            release(ev.grad);
            this.divergedFlag = true;
            break;
          }
          x.dispose();
          loss = ev.loss;
          release(flatGrad);
          flatGrad = ev.grad;
          optCond = ev.maxAbs <= toleranceGrad;
        } else {
          this.addDir(t, d);
        }
      }

      // ---- stopping rules
      if (nIter === maxIter) break;
      if (currentEvals >= maxEval) break;
      if (optCond) break;
      const change = this.readScalar(() => tf.max(tf.abs(tf.mul(d!, t))) as tf.Scalar);
      if (change <= toleranceChange) break;
      if (Math.abs(loss - st.prevLoss) < toleranceChange) break;
    }

    st.d = d;
    st.t = t;
    if (st.prevFlatGrad !== flatGrad) release(flatGrad);
    return origLoss;
  }

  /**
   * Strong-Wolfe line search along d from x (PyTorch `_strong_wolfe`, after torch7 lswolfe.lua).
   * f, g, gtd: loss, flat gradient and directional derivative at x. Each trial point x + t·d is evaluated
   * and the variables are put back to x. Returns the accepted (f, g, t), the number of evaluations, and
   * `diverged` if a trial evaluation was non-finite (then g is the input gradient and t = 0).
   */
  private strongWolfe(
    objective: Objective,
    x: Vec,
    tInit: number,
    d: Vec,
    f: number,
    g: Vec,
    gMaxAbs: number,
    gtd: number,
    c1 = 1e-4,
    c2 = 0.9,
    toleranceChange = 1e-9,
    maxLs = 25,
  ): { f: number; g: Vec; maxAbs: number; t: number; evals: number; diverged: boolean } {
    interface Pt {
      t: number;
      f: number;
      g: Vec;
      gtd: number;
      maxAbs: number;
    }
    const created: Vec[] = [];
    const finish = (p: Pt | null, evals: number, diverged: boolean) => {
      const res = p ? { f: p.f, g: p.g, maxAbs: p.maxAbs, t: p.t, evals, diverged } : { f, g, maxAbs: gMaxAbs, t: 0, evals, diverged };
      for (const c of created) if (c !== res.g) c.dispose();
      return res;
    };
    const dNorm = this.readScalar(() => tf.max(tf.abs(d)) as tf.Scalar);
    const evalAt = (t: number): Pt & { finite: boolean } => {
      this.addDir(t, d, x);
      let ev: Evaluation;
      try {
        ev = this.evaluate(objective, d);
      } finally {
        this.setParams(x);
      }
      created.push(ev.grad);
      return { t, f: ev.loss, g: ev.grad, gtd: ev.gtd, maxAbs: ev.maxAbs, finite: ev.finite };
    };

    let t = tInit;
    let cur = evalAt(t);
    let evals = 1;
    if (!cur.finite) return finish(null, evals, true);

    // ---- bracketing phase
    let prev: Pt = { t: 0, f, g, gtd, maxAbs: gMaxAbs };
    let bracket: Pt[] = [];
    let done = false;
    let lsIter = 0;
    while (lsIter < maxLs) {
      if (cur.f > f + c1 * t * gtd || (lsIter > 1 && cur.f >= prev.f)) {
        bracket = [prev, cur];
        break;
      }
      if (Math.abs(cur.gtd) <= -c2 * gtd) {
        bracket = [cur];
        done = true;
        break;
      }
      if (cur.gtd >= 0) {
        bracket = [prev, cur];
        break;
      }
      // extrapolate with a safeguarded cubic step in [t + 0.01 (t − t_prev), 10 t]
      const minStep = t + 0.01 * (t - prev.t);
      const maxStep = t * 10;
      const tNext = cubicInterpolate(prev.t, prev.f, prev.gtd, t, cur.f, cur.gtd, [minStep, maxStep]);
      prev = cur;
      t = tNext;
      cur = evalAt(t);
      evals++;
      lsIter++;
      if (!cur.finite) return finish(null, evals, true);
    }
    if (lsIter === maxLs) {
      // PyTorch keeps [0, t] here; its zoom loop does not run (ls_iter == max_ls)
      bracket = [{ t: 0, f, g, gtd, maxAbs: gMaxAbs }, cur];
    }

    // ---- zoom phase
    let insufProgress = false;
    const lowHigh = (): [number, number] => (bracket[0]!.f <= bracket[bracket.length - 1]!.f ? [0, 1] : [1, 0]);
    let [lowPos, highPos] = lowHigh();
    while (!done && lsIter < maxLs) {
      const b0 = bracket[0]!;
      const b1 = bracket[1]!;
      if (Math.abs(b1.t - b0.t) * dNorm < toleranceChange) break;

      t = cubicInterpolate(b0.t, b0.f, b0.gtd, b1.t, b1.f, b1.gtd);
      // keep t at least 10% of the bracket away from its ends when progress is insufficient
      const bMax = Math.max(b0.t, b1.t);
      const bMin = Math.min(b0.t, b1.t);
      const eps = 0.1 * (bMax - bMin);
      if (Math.min(bMax - t, t - bMin) < eps) {
        if (insufProgress || t >= bMax || t <= bMin) {
          t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
          insufProgress = false;
        } else {
          insufProgress = true;
        }
      } else {
        insufProgress = false;
      }

      cur = evalAt(t);
      evals++;
      lsIter++;
      if (!cur.finite) return finish(null, evals, true);

      if (cur.f > f + c1 * t * gtd || cur.f >= bracket[lowPos]!.f) {
        // Armijo not satisfied or not lower than the lowest point: new high
        bracket[highPos] = cur;
        [lowPos, highPos] = lowHigh();
      } else {
        if (Math.abs(cur.gtd) <= -c2 * gtd) {
          done = true; // strong Wolfe conditions hold
        } else if (cur.gtd * (bracket[highPos]!.t - bracket[lowPos]!.t) >= 0) {
          bracket[highPos] = bracket[lowPos]!; // old low becomes new high
        }
        bracket[lowPos] = cur; // new point becomes new low
      }
    }
    return finish(bracket[lowPos]!, evals, false);
  }
}
