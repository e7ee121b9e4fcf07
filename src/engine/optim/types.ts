/** The optimizer contract shared by L-BFGS, Adam and SGD (see index.ts). */
import type { tf } from '../tf.js';

/** Evaluates the objective at the current values of the optimizer's variables. Returns fresh tensors
 *  that the optimizer takes ownership of (and disposes): the scalar loss and one gradient per variable
 *  (same shapes, same order). */
export type Objective = () => { loss: tf.Scalar; grads: tf.Tensor[] };

export interface Optimizer {
  readonly name: string;
  /** Number of objective evaluations so far (L-BFGS may evaluate several times per step). */
  readonly evaluations: number;
  /** True once an evaluation produced a non-finite loss or gradient (the step was stopped there and the
   *  variables were left at their last finite point). Sticky. */
  readonly diverged: boolean;
  /** Current base learning rate. */
  readonly learningRate: number;
  /** Changes the learning rate used by subsequent steps (for step-decay schedules). */
  setLearningRate(lr: number): void;
  /** One optimisation step; resolves to the loss at the first evaluation of this step (like PyTorch's
   *  step(closure)). Asynchronous because results are read back with `await tensor.data()` (WebGPU has no
   *  synchronous read in Node). */
  step(objective: Objective): Promise<number>;
  dispose(): void;
}

