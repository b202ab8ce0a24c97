export { readImage, decodeToRgb, resizeRgb, blurPixels, pixelsToRgbBytes } from './read-image.js';
export type { ReadImageOptions, DecodedImage } from './read-image.js';
export { rgbToGray, grayToRgb, clampByte, toBytes, clipInPlace } from './pixels.js';
export { resolvePreprocess, computePreprocessed } from './preprocess.js';
export type { PreprocessParams } from './preprocess.js';
export { createRng } from './rng.js';
export type { Rng } from './rng.js';
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
export {
  POLARITIES,
  DEFAULT_CLIP_PERCENTILE,
  OVERLAY_MAX_ALPHA,
  sumChannels,
  applyPolarity,
  percentile,
  normaliseMap,
  sequentialColor,
  divergingColor,
  colorFor,
  colorize,
  blendOverlay,
} from './colormap.js';
export type { Polarity, Rgb, NormalisedMap } from './colormap.js';
export { renderHeatmapPng, renderOverlayPng } from './render.js';
export type { HeatmapOptions } from './render.js';
export { encodeNpy } from './npy.js';
