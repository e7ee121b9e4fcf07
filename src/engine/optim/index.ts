/**
 * Optimizers over arbitrary lists of `tf.Variable`s, driven by an objective closure that returns the
 * loss and one gradient per variable (the PyTorch `optimizer.step(closure)` pattern).
 *
 * - `lbfgs`: L-BFGS with the algorithm, defaults and stopping rules of `torch.optim.LBFGS` (PyTorch 1.13),
 *   optionally with the strong-Wolfe line search (see `lbfgs.ts`).
 * - `adam`: Adam (Kingma & Ba, ICLR 2015) with PyTorch defaults, optional sign-of-gradient input as used
 *   by Inverting Gradients (Geiping et al., NeurIPS 2020) (see `adam.ts`).
 * - `sgd`: SGD with optional heavy-ball momentum and weight decay, PyTorch semantics (see `sgd.ts`).
 *
 * All optimizers update the variables in place (`v.assign(...)`), dispose every intermediate tensor of a
 * step (also when the objective throws), take ownership of (and dispose) the tensors the objective
 * returns, and never write non-finite values into the variables: a non-finite loss or gradient stops the
 * step, leaves the variables at their last finite-loss point and sets `diverged` (sticky).
 */
import { tf } from '../tf.js';
import { LBFGSOptimizer, type LBFGSOptions } from './lbfgs.js';
import { AdamOptimizer, type AdamOptions } from './adam.js';
import { SGDOptimizer, type SGDOptions } from './sgd.js';

export { LBFGSOptimizer, AdamOptimizer, SGDOptimizer };
export type { LBFGSOptions, AdamOptions, SGDOptions };
export type { Objective, Optimizer } from './types.js';
import type { Optimizer } from './types.js';

export type OptimizerName = 'lbfgs' | 'adam' | 'sgd';
export type OptimizerOptions = LBFGSOptions | AdamOptions | SGDOptions;

export function makeOptimizer(name: 'lbfgs', vars: tf.Variable[], opts?: LBFGSOptions): LBFGSOptimizer;
export function makeOptimizer(name: 'adam', vars: tf.Variable[], opts?: AdamOptions): AdamOptimizer;
export function makeOptimizer(name: 'sgd', vars: tf.Variable[], opts?: SGDOptions): SGDOptimizer;
export function makeOptimizer(name: OptimizerName, vars: tf.Variable[], opts?: OptimizerOptions): Optimizer;
export function makeOptimizer(name: OptimizerName, vars: tf.Variable[], opts: OptimizerOptions = {}): Optimizer {
  switch (name) {
    case 'lbfgs':
      return new LBFGSOptimizer(vars, opts as LBFGSOptions);
    case 'adam':
      return new AdamOptimizer(vars, opts as AdamOptions);
    case 'sgd':
      return new SGDOptimizer(vars, opts as SGDOptions);
    default:
      throw new Error(`makeOptimizer: unknown optimizer '${String(name)}' (expected lbfgs, adam or sgd)`);
  }
}
