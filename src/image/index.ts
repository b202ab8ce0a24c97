export { readImage, decodeToRgb, resizeRgb, blurPixels, pixelsToRgbBytes } from './read-image.js';
export type { ReadImageOptions, DecodedImage } from './read-image.js';
export { rgbToGray, grayToRgb, clampByte, toBytes, clipInPlace } from './pixels.js';
export { resolvePreprocess, computePreprocessed } from './preprocess.js';
export type { PreprocessParams } from './preprocess.js';
export {
  parseBaselineSpec,
  buildBaselinePixels,
  constantBaseline,
  uniformBaseline,
  gaussianBaseline,
  DEFAULT_GAUSSIAN_SIGMA,
  DEFAULT_BLUR_SIGMA,
} from './baselines.js';
export type { BaselineSpec } from './baselines.js';
