import type { Component } from '../core/registry.js';
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
  /** Batch normalisation, where the model has it (convnet); default true. */
  batchNorm?: boolean;
  /**
   * Which statistics batch normalisation uses (convnet): 'batch' (default; PyTorch's train mode, the
   * statistics of the batch itself) or 'init' (PyTorch's eval mode with the running statistics of a
   * freshly initialised network, mean 0 and variance 1: the affine map γ·x/√(1+ε) + β).
   */
  batchNormStats?: 'batch' | 'init';
  /**
   * Where convnet max-pools (3x3, stride 3): 'fedattack' (default) after the 4th, 6th and 8th
   * convolution; 'inversefed' after the 6th and 8th, as inversefed's ConvNet (whose duplicated `conv6`
   * key leaves eight convolutions), giving a 3x3 feature map and a dense layer of 36·width inputs at 32x32.
   */
  layout?: 'fedattack' | 'inversefed';
  /**
   * Convolution weight initialisation (convnet): 'torch-default' (default) U(±1/√fan_in), PyTorch's
   * Conv2d default; 'kaiming' U(±√(6/fan_in)), He et al.'s ReLU gain (kaiming_uniform_, 'relu'), which
   * keeps activations from vanishing through the eight layers when BN does not renormalise them.
   */
  weightInit?: 'torch-default' | 'kaiming';
  /**
   * Activation after each convolution (convnet): 'relu' (default, inversefed's ConvNet) or 'elu'. ReLU
   * makes the gradient a victim sends a *discontinuous* function of the image (a unit crossing zero switches
   * its whole backward signal), which is what Inverting Gradients has to optimise; ELU is smooth.
   */
  activation?: 'relu' | 'elu';
  /**
   * Pooling (convnet, 3x3 stride 3): 'max' (default) or 'avg'. Max-pooling routes the backward signal to
   * the window's argmax, which switches under tiny image changes (another discontinuity); averaging does not.
   */
  pool?: 'max' | 'avg';
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

/** What every model is built for: the input shape and the number of classes. */
export interface ModelContext {
  inputShape: Shape3;
  classes: number;
}

/**
 * A model as a registrable component (see `registerModel`): its declaration, whose `params` are the
 * model's variants (declared ModelOptions keys, e.g. convnet's width, layout, activation), and
 * `build(values, ctx)` from the validated option values (defaults filled in) and the input shape and classes.
 */
export type ModelComponent = Component<Model, ModelContext>;
