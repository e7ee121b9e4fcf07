/**
 * Metrics barrel: image quality (MSE, PSNR, SSIM), label recovery accuracy, and optimal matching
 * of reconstructions to ground truth. See each module's header for formulas and references.
 */
export { mse, psnr, ssim, ssimWindowRadius, gaussianKernel1d, type SsimOptions } from './image.js';
export { labelAccuracy, labelMultisetAccuracy } from './labels.js';
export { mean, median } from './stats.js';
export {
  bestAssignment,
  assignmentCost,
  matchAndScore,
  type MatchedPair,
  type MatchScore,
  type MatchOptions,
} from './matching.js';
export * from './reconstruction.js';
