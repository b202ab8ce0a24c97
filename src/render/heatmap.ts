import sharp from 'sharp';
import { blendOverlay, colorize, DEFAULT_CLIP_PERCENTILE, normaliseMap, sumChannels, type Polarity } from './colormap.js';
import { pixelsToRgbBytes } from '../image/read-image.js';
import type { HwcShape } from '../numeric/hwc-shape.js';

export interface HeatmapOptions {
  polarity: Polarity;
  /** Percentile of the shown magnitudes that maps to full colour; larger ones saturate. Default 99. */
  clipPercentile?: number;
}

async function encodeRgbPng(rgb: Uint8Array, height: number, width: number): Promise<Buffer> {
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * PNG (RGB, height × width of `shape` — the model input resolution) of the attributions summed over
 * channels, shown with `polarity` and clipped at `clipPercentile` (see normaliseMap): inferno for
 * one-sided polarities, blue–white–red for `all`.
 */
export async function renderHeatmapPng(attributions: Float32Array, shape: HwcShape, opts: HeatmapOptions): Promise<Buffer> {
  const [height, width, channels] = shape;
  const map = sumChannels(attributions, height, width, channels);
  const { values } = normaliseMap(map, opts.polarity, opts.clipPercentile ?? DEFAULT_CLIP_PERCENTILE);
  return encodeRgbPng(colorize(values, opts.polarity), height, width);
}

/**
 * PNG of the heatmap blended over the image as the model saw it (`imagePixels`: HWC 0..255 of
 * `shape`, gray expanded to RGB). Opacity grows with the normalised magnitude, so pixels with no
 * attribution show the photo unchanged.
 */
export async function renderOverlayPng(imagePixels: Float32Array, attributions: Float32Array, shape: HwcShape, opts: HeatmapOptions): Promise<Buffer> {
  const [height, width, channels] = shape;
  if (imagePixels.length !== height * width * channels) {
    throw new RangeError(`image has ${imagePixels.length} values, expected ${height}×${width}×${channels}`);
  }
  const map = sumChannels(attributions, height, width, channels);
  const { values } = normaliseMap(map, opts.polarity, opts.clipPercentile ?? DEFAULT_CLIP_PERCENTILE);
  const rgb = blendOverlay(pixelsToRgbBytes(imagePixels, channels), values, opts.polarity);
  return encodeRgbPng(rgb, height, width);
}
