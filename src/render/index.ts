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
export { renderHeatmapPng, renderOverlayPng } from './heatmap.js';
export type { HeatmapOptions } from './heatmap.js';
