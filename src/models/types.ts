import type { tf } from '../engine/tf.js';

/** Named parameters in a fixed order (insertion order is the model's parameter order). */
export type Params = Record<string, tf.Tensor>;

export type Shape3 = [number, number, number];

export interface ModelOptions {
  /** [height, width, channels] of one input image. */
  inputShape: Shape3;
  /** Number of classes (logits). */
  classes: number;
  /** Width multiplier, where the model has one (convnet). */
  width?: number;
  /** Batch normalisation with batch statistics, where the model has it (convnet). */
  batchNorm?: boolean;
}

/** A functional model: parameters live outside it; `apply` is a pure function of (params, x). */
export interface Model {
  readonly name: string;
  readonly inputShape: Shape3;
  readonly classes: number;
  /** Parameter names and shapes, in order. */
  readonly paramShapes: [string, number[]][];
  /** Fresh parameters drawn with the model's initialisation from a seed. */
  init(seed: number): Params;
  /** Logits [B, classes] for images x [B, H, W, C]. Does not dispose x; wrap calls in tf.tidy. */
  apply(params: Params, x: tf.Tensor4D): tf.Tensor2D;
}
