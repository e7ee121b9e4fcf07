/**
 * Adam over a list of `tf.Variable`s (Kingma & Ba, "Adam: A Method for Stochastic Optimization",
 * ICLR 2015), with the exact arithmetic of PyTorch's `torch.optim.Adam` (1.13, amsgrad off):
 *
 *     g ← ∇f(θ)             or  g ← sign(∇f(θ))   with `signedGradients` (Inverting Gradients)
 *     g ← g + λ·θ           (weight decay λ, L2 style as in PyTorch, default 0)
 *     k ← k + 1
 *     m ← β₁·m + (1 − β₁)·g
 *     v ← β₂·v + (1 − β₂)·g²
 *     θ ← θ − (lr / (1 − β₁ᵏ)) · m / (√v / √(1 − β₂ᵏ) + ε)
 *
 * Options and defaults (PyTorch's): lr 1e-3, betas [0.9, 0.999], eps 1e-8, weightDecay 0,
 * signedGradients false. `setLearningRate(lr)` changes lr between steps (step-decay schedules such as
 * Inverting Gradients' MultiStepLR at 3/8, 5/8, 7/8 of the iterations with factor 0.1).
 *
 * `signedGradients` follows Geiping et al., "Inverting Gradients — How easy is it to break privacy in
 * federated learning?", NeurIPS 2020: the gradient of the reconstruction loss is replaced by its sign
 * before Adam sees it (sign(0) = 0); weight decay, if any, is added after the sign (PyTorch adds it
 * inside `step`).
 *
 * A non-finite loss or gradient skips the update (variables, moments and k untouched) and sets
 * `diverged` (sticky). The loss is read back every step (it is the return value of `step`).
 *
 * Reference: PyTorch `torch/optim/adam.py` (`_single_tensor_adam`).
 */
import { tf } from '../tf.js';
import type { Objective, Optimizer } from './types.js';
import { firstOrderEvaluate } from './sgd.js';

export interface AdamOptions {
  /** Learning rate, default 1e-3. */
  lr?: number;
  /** Exponential decay rates of the first and second moment estimates, default [0.9, 0.999]. */
  betas?: [number, number];
  /** Term added to the denominator, default 1e-8. */
  eps?: number;
  /** L2 penalty λ added to the gradient (λ·θ), default 0. */
  weightDecay?: number;
  /** Feed sign(∇f) instead of ∇f to Adam (Inverting Gradients), default false. */
  signedGradients?: boolean;
}

export class AdamOptimizer implements Optimizer {
  readonly name = 'adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly signedGradients: boolean;

  private lr: number;
  private readonly vars: tf.Variable[];
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private k = 0;
  private evals = 0;
  private divergedFlag = false;
  private disposed = false;

  constructor(vars: tf.Variable[], opts: AdamOptions = {}) {
    if (vars.length === 0) throw new Error('Adam: no variables to optimise');
    this.vars = vars.slice();
    this.lr = opts.lr ?? 1e-3;
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.signedGradients = opts.signedGradients ?? false;
    if (!(this.beta1 >= 0 && this.beta1 < 1) || !(this.beta2 >= 0 && this.beta2 < 1)) {
      throw new Error(`Adam: betas must be in [0, 1), got [${this.beta1}, ${this.beta2}]`);
    }
    if (!(this.lr >= 0) || !(this.eps >= 0) || !(this.weightDecay >= 0)) {
      throw new Error('Adam: lr, eps and weightDecay must be >= 0');
    }
    this.m = this.vars.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    this.v = this.vars.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
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
  /** Number of updates applied so far (Adam's k). */
  get iterations(): number {
    return this.k;
  }
  setLearningRate(lr: number): void {
    this.lr = lr;
  }

  async step(objective: Objective): Promise<number> {
    if (this.disposed) throw new Error('Adam: step() after dispose()');
    const { beta1, beta2, eps, weightDecay: wd, signedGradients } = this;
    const lr = this.lr;
    const k = this.k + 1;
    const stepSize = lr / (1 - beta1 ** k);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** k);
    this.evals++;
    const res = await firstOrderEvaluate('Adam', this.vars, objective, (grads) => {
        this.vars.forEach((p, i) => {
          let g: tf.Tensor = signedGradients ? tf.sign(grads[i]!) : grads[i]!;
          if (wd !== 0) g = tf.add(g, tf.mul(p, wd));
          const m = this.m[i]!;
          const v = this.v[i]!;
          m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
          v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.mul(g, g), 1 - beta2)));
          const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), eps);
          p.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepSize)));
        });
      });
    if (res.finite) this.k = k;
    else this.divergedFlag = true;
    return res.loss;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.m, ...this.v]);
  }
}
