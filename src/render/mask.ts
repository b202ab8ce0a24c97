import sharp from 'sharp';
import { buildBlurMatrix } from '../numeric/gaussian.js';
import { applyPolarity, percentile, sumChannels, type Polarity } from './colormap.js';
import { pixelsToRgbBytes } from '../image/read-image.js';
import type { HwcShape } from '../numeric/hwc-shape.js';

/**
 * The mask visualizer (TruLens MaskVisualizer): the channel-summed attributions, shown by `polarity`,
 * smoothed with a Gaussian of `blurSigma` pixels, and kept where they reach the `threshold` quantile;
 * the kept pixels of the image are shown as they are, the rest dimmed.
 */
export interface MaskOptions {
  /** Gaussian blur of the map before thresholding, in pixels (0: none). */
  blurSigma: number;
  /** Quantile in [0, 1): 0.9 keeps the top 10 % of the (blurred) map. */
  threshold: number;
  polarity: Polarity;
}

export const DEFAULT_MASK_OPTIONS: MaskOptions = { blurSigma: 3, threshold: 0.9, polarity: 'positive' };
/** Brightness left to the pixels outside the mask. */
export const MASK_DIM = 0.2;

/** Separable Gaussian blur of an H×W map (edges renormalised, as blur IG's blur). */
export function blurMap(map: ArrayLike<number>, height: number, width: number, sigma: number): Float32Array {
  if (map.length !== height * width) throw new RangeError(`map has ${map.length} values, expected ${height}×${width}`);
  if (sigma <= 0) return Float32Array.from(map);
  const bh = buildBlurMatrix(height, sigma);
  const bw = buildBlurMatrix(width, sigma);
  const radius = Math.ceil(4 * sigma);
  const rows = new Float32Array(height * width);
  for (let i = 0; i < height; i += 1) {
    for (let j = 0; j < width; j += 1) {
      let s = 0;
      for (let l = Math.max(0, j - radius); l <= Math.min(width - 1, j + radius); l += 1) s += (bw[j * width + l] as number) * (map[i * width + l] as number);
      rows[i * width + j] = s;
    }
  }
  const out = new Float32Array(height * width);
  for (let i = 0; i < height; i += 1) {
    for (let j = 0; j < width; j += 1) {
      let s = 0;
      for (let k = Math.max(0, i - radius); k <= Math.min(height - 1, i + radius); k += 1) s += (bh[i * height + k] as number) * (rows[k * width + j] as number);
      out[i * width + j] = s;
    }
  }
  return out;
}

/** 1 where the blurred, polarity-shown map is ≥ its `threshold` quantile (and > 0), else 0; H×W of `shape`. */
export function computeMask(attributions: ArrayLike<number>, shape: HwcShape, options: MaskOptions): Uint8Array {
  const [height, width, channels] = shape;
  if (!(options.threshold >= 0 && options.threshold < 1)) throw new RangeError(`threshold must be in [0, 1), got ${options.threshold}`);
  const shown = applyPolarity(sumChannels(attributions, height, width, channels), options.polarity);
  const smooth = blurMap(options.polarity === 'all' ? shown.map(Math.abs) : shown, height, width, options.blurSigma);
  const cut = percentile(smooth, options.threshold * 100);
  const mask = new Uint8Array(height * width);
  for (let i = 0; i < mask.length; i += 1) mask[i] = (smooth[i] as number) >= cut && (smooth[i] as number) > 0 ? 1 : 0;
  return mask;
}

/** RGB bytes of the image (HWC, 0..255, 1 or 3 channels) with the pixels outside the mask dimmed. */
export function applyMask(pixels: ArrayLike<number>, mask: Uint8Array, channels: number, dim = MASK_DIM): Uint8Array {
  const rgb = pixelsToRgbBytes(pixels, channels);
  if (rgb.length !== mask.length * 3) throw new RangeError(`mask has ${mask.length} pixels, the image ${rgb.length / 3}`);
  for (let i = 0; i < mask.length; i += 1) {
    if (mask[i] === 1) continue;
    for (let k = 0; k < 3; k += 1) rgb[3 * i + k] = Math.round((rgb[3 * i + k] as number) * dim);
  }
  return rgb;
}

/** PNG of {@link applyMask} at the model's input size. */
export async function renderMaskPng(pixels: ArrayLike<number>, attributions: ArrayLike<number>, shape: HwcShape, options: MaskOptions): Promise<Buffer> {
  const [height, width, channels] = shape;
  const rgb = applyMask(pixels, computeMask(attributions, shape, options), channels);
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } }).png().toBuffer();
}
