/**
 * Types shared by every dataset loader in fedattack.
 *
 * A dataset is held as plain typed arrays (no TensorFlow.js here): images in NHWC order with pixel
 * values scaled to [0, 1], integer labels, and optionally the natural per-user split of LEAF data.
 * Tensors are made from these arrays elsewhere.
 */
import { UserError } from '../src/core/errors.js';

/** One split (train or test) of a dataset. */
export interface Dataset {
  name: string;
  /** N*H*W*C values, NHWC, pixel values scaled to [0, 1]. */
  images: Float32Array;
  /** N integer labels in 0..numClasses-1. */
  labels: Int32Array;
  /** [H, W, C] of one image. */
  shape: [number, number, number];
  numClasses: number;
  classNames?: string[];
  /** Natural per-user split (LEAF): the sample indices of each user, into this split. */
  users?: { id: string; indices: number[] }[];
}

/** The train and test splits of a dataset. */
export interface DatasetSplit {
  train: Dataset;
  test: Dataset;
}

/**
 * A user-facing data error: a missing, truncated or malformed file, a bad option. The message is
 * complete on its own (it names the file and what was expected); callers show it without a stack.
 */
export class DataError extends UserError {
  /** The file or directory the error is about, when there is one. */
  readonly file?: string;

  constructor(message: string, file?: string) {
    super(message);
    this.name = 'DataError';
    if (file !== undefined) this.file = file;
  }
}
