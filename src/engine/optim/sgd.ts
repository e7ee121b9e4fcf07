/**
 * Stochastic gradient descent over a list of `tf.Variable`s, PyTorch `torch.optim.SGD` semantics
 * (dampening 0, nesterov false):
 *
 *     g ← ∇f(θ) + λ·θ                      (weight decay λ, default 0)
 *     b ← g                 on the first step,   b ← μ·b + g   afterwards   (only if momentum μ ≠ 0)
 *     θ ← θ − lr·b          (θ ← θ − lr·g without momentum)
 *
 * Options and defaults: lr (required in PyTorch; default here 0.01), momentum 0, weightDecay 0.
 * The learning rate can be changed between steps with `setLearningRate`.
 *
 * A non-finite loss or gradient skips the update (variables and momentum buffers untouched) and sets
 * `diverged` (sticky). The loss is read back every step (it is the return value of `step`).
 *
 * Reference: PyTorch `torch/optim/sgd.py` (1.13); momentum as in Sutskever et al., ICML 2013 (PyTorch
 * variant: the learning rate multiplies the buffer, not the gradient).
 *
 * This file also holds {@link firstOrderEvaluate}, the objective-evaluation helper shared with Adam.
 */
import { tf } from '../tf.js';
import type { Objective, Optimizer } from './types.js';

export interface SGDOptions {
  /** Learning rate, default 0.01. */
  lr?: number;
  /** Momentum factor μ, default 0 (plain gradient descent). */
  momentum?: number;
  /** L2 penalty λ added to the gradient (λ·θ), default 0. */
  weightDecay?: number;
}

/**
 * Calls the objective, checks its output against `vars`, reads back the loss and a finiteness probe
 * (ℓ1 norm of all gradients) in one read, runs `update(grads)` (inside a tidy) if everything is finite,
 * and disposes the objective's tensors in all cases (also when the objective throws, its output is
 * malformed or `update` throws). Returns the loss and whether the update ran.
 */
export async function firstOrderEvaluate(
  who: string,
  vars: readonly tf.Variable[],
  objective: Objective,
  update: (grads: tf.Tensor[]) => void,
): Promise<{ loss: number; finite: boolean }> {
  const out = tf.tidy(() => objective());
  try {
    if (!out || !(out.loss instanceof tf.Tensor) || !Array.isArray(out.grads)) {
      throw new Error(`${who}: objective must return { loss: tf.Scalar, grads: tf.Tensor[] }`);
    }
    if (out.grads.length !== vars.length) {
      throw new Error(`${who}: objective returned ${out.grads.length} gradients for ${vars.length} variables`);
    }
    out.grads.forEach((g, i) => {
      const v = vars[i]!;
      if (g.size !== v.size || g.rank !== v.rank || g.shape.some((s, k) => s !== v.shape[k])) {
        throw new Error(`${who}: gradient ${i} has shape [${g.shape}] but variable ${v.name} has [${v.shape}]`);
      }
    });
    if (out.loss.size !== 1) throw new Error(`${who}: loss must be a scalar, got shape [${out.loss.shape}]`);
    const packed = tf.tidy(() => {
      const l1 = tf.addN(out.grads.map((g) => tf.sum(tf.abs(tf.cast(g, 'float32')))));
      return tf.stack([tf.reshape(tf.cast(out.loss, 'float32'), []), l1]);
    });
    let stats: Float32Array;
    try {
      stats = (await packed.data()) as Float32Array;
    } finally {
      packed.dispose();
    }
    const loss = stats[0]!;
    const finite = Number.isFinite(loss) && Number.isFinite(stats[1]!);
    if (finite) tf.tidy(() => update(out.grads));
    return { loss, finite };
  } finally {
    tf.dispose([out?.loss, ...(Array.isArray(out?.grads) ? out.grads : [])].filter((t): t is tf.Tensor => t instanceof tf.Tensor));
  }
}

export class SGDOptimizer implements Optimizer {
  readonly name = 'sgd';
  readonly momentum: number;
  readonly weightDecay: number;

  private lr: number;
  private readonly vars: tf.Variable[];
  /** Momentum buffers (allocated when momentum ≠ 0). */
  private readonly bufs: tf.Variable[];
  private steps = 0;
  private evals = 0;
  private divergedFlag = false;
  private disposed = false;

  constructor(vars: tf.Variable[], opts: SGDOptions = {}) {
    if (vars.length === 0) throw new Error('SGD: no variables to optimise');
    this.vars = vars.slice();
    this.lr = opts.lr ?? 0.01;
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    if (!(this.lr >= 0) || !(this.momentum >= 0) || !(this.weightDecay >= 0)) {
      throw new Error('SGD: lr, momentum and weightDecay must be >= 0');
    }
    this.bufs = this.momentum !== 0 ? this.vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false))) : [];
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
  /** Number of updates applied so far. */
  get iterations(): number {
    return this.steps;
  }
  setLearningRate(lr: number): void {
    this.lr = lr;
  }

  async step(objective: Objective): Promise<number> {
    if (this.disposed) throw new Error('SGD: step() after dispose()');
    const lr = this.lr;
    const mu = this.momentum;
    const wd = this.weightDecay;
    const first = this.steps === 0;
    this.evals++;
    const res = await firstOrderEvaluate('SGD', this.vars, objective, (grads) => {
        this.vars.forEach((p, i) => {
          let g: tf.Tensor = grads[i]!;
          if (wd !== 0) g = tf.add(g, tf.mul(p, wd));
          if (mu !== 0) {
            const buf = this.bufs[i]!;
            buf.assign(first ? g : tf.add(tf.mul(buf, mu), g));
            g = buf;
          }
          p.assign(tf.sub(p, tf.mul(g, lr)));
        });
      });
    if (res.finite) this.steps++;
    else this.divergedFlag = true;
    return res.loss;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose(this.bufs);
  }
}
