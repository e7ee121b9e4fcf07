/**
 * Scoring a reconstruction against the ground truth: reconstructions are matched one-to-one to the true
 * images by the assignment of least total MSE (Hungarian algorithm) — a batch gradient does not tell
 * which image is which — and then scored: MSE, PSNR (dB, data range 1, on [0, 1] images after
 * clipping), SSIM, label accuracy of the matched pairs and, order-free, of the label multiset.
 */
import { labelAccuracy, labelMultisetAccuracy } from './labels.js';
import { matchAndScore } from './matching.js';

/** [height, width, channels] of one image. */
type Shape3 = readonly [number, number, number];

/** What is scored: B·H·W·C reconstructed values (NHWC) and B recovered labels. */
export interface ReconstructedBatch {
  images: Float32Array;
  labels: number[];
}

export interface GroundTruth {
  /** One H·W·C array in [0, 1] per image. */
  images: Float32Array[];
  labels: number[];
}

export interface ImageScore {
  /** Index of the ground-truth image. */
  index: number;
  /** Index of the reconstruction matched to it. */
  reconstruction: number;
  trueLabel: number;
  predictedLabel: number;
  mse: number;
  psnr: number;
  ssim: number;
}

export interface Score {
  /** Means over the images. */
  mse: number;
  psnr: number;
  ssim: number;
  /** Matched pairs whose label is right. */
  labelAccuracy: number;
  /** Order-free: overlap of the recovered and true label multisets. */
  labelMultisetAccuracy: number;
  perImage: ImageScore[];
}

/** Splits B·H·W·C values into B images. */
export function splitImages(all: Float32Array, shape: Shape3): Float32Array[] {
  const n = shape[0] * shape[1] * shape[2];
  return Array.from({ length: all.length / n }, (_, i) => all.slice(i * n, (i + 1) * n));
}

export function scoreReconstruction(rec: ReconstructedBatch, truth: GroundTruth, shape: Shape3): Score {
  const [h, w, c] = shape;
  const recons = splitImages(rec.images, shape).map((img) => img.map((v) => (v > 0 ? (v < 1 ? v : 1) : 0)));
  const m = matchAndScore(recons, truth.images, h, w, c, { by: 'mse', dataRange: 1 });
  const perImage: ImageScore[] = m.pairs.map((p) => ({
    index: p.truth, reconstruction: p.recon, trueLabel: truth.labels[p.truth]!, predictedLabel: rec.labels[p.recon]!,
    mse: p.mse, psnr: p.psnr, ssim: p.ssim,
  }));
  return {
    mse: m.mean.mse,
    psnr: m.mean.psnr,
    ssim: m.mean.ssim,
    labelAccuracy: labelAccuracy(perImage.map((p) => p.predictedLabel), perImage.map((p) => p.trueLabel)),
    // more true samples than reconstructions (a multi-step update): compare with the matched samples' labels
    labelMultisetAccuracy: labelMultisetAccuracy(rec.labels,
      truth.labels.length === rec.labels.length ? truth.labels : perImage.map((p) => p.trueLabel)),
    perImage,
  };
}
