/**
 * Client defenses: what an honest client does to protect itself or the federation, at one of two levels.
 *
 * - **batch**: transforms every local training mini-batch before the SGD step (adversarial training:
 *   `pgd`, `fgsm`), so it changes what the client learns and hence what it sends;
 * - **update**: transforms the update just before it is sent (`clip-noise`: clipping plus Gaussian
 *   noise), so it changes exactly what the server observes. Its `transform` is an {@link UpdateTransform}
 *   with an asynchronous `apply`.
 *
 * Every defense is a registered {@link ClientDefenseComponent}; `buildClientDefense` turns a spec into a
 * {@link ClientDefense}, a union discriminated by `level`.
 */
import type { Component } from '../../src/core/registry.js';
import type { ParamValue } from '../../src/core/spec.js';
import type { tf } from '../../src/engine/tf.js';
import type { UpdateTransform } from '../../src/fl/types.js';
import type { Model, Params } from '../../src/models/index.js';

/** A defense applied to every local training mini-batch (adversarial training). */
export interface BatchDefense {
  readonly level: 'batch';
  /** Canonical spec text, e.g. 'pgd:epsilon=0.2'. */
  readonly name: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  /**
   * The batch the client trains on instead of `x` (pixels in [0, 1], soft/one-hot `targets`), at the
   * current local parameters. Returns a new tensor; must not dispose `x`. Deterministic given `seed`.
   */
  transformBatch(model: Model, params: Params, x: tf.Tensor4D, targets: tf.Tensor, seed: number): tf.Tensor4D;
}

/** A defense applied to the update an honest client sends (clipping, noise, pruning, quantisation). */
export interface UpdateDefense {
  readonly level: 'update';
  /** Canonical spec text, e.g. 'clip-noise:clip=1,sigma=0.01'. */
  readonly name: string;
  readonly params: Readonly<Record<string, ParamValue>>;
  /** What the harness applies to the update (pass it in the run's `transforms`). */
  readonly transform: UpdateTransform;
}

/** A built client defense: batch-level or update-level (see `level`). */
export type ClientDefense = BatchDefense | UpdateDefense;

/** What a client defense may need from the run when it is built (reserved: the built-ins need nothing). */
export interface ClientDefenseContext {
  /** The run's seed. */
  seed?: number;
}

/**
 * A client defense as a registrable component (see `registerClientDefense`): its declaration, the
 * `level` it acts at, and `build(values, ctx)` returning a defense of that level.
 */
export type ClientDefenseComponent =
  | (Component<BatchDefense, ClientDefenseContext> & { readonly level: 'batch' })
  | (Component<UpdateDefense, ClientDefenseContext> & { readonly level: 'update' });
