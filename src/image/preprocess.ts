import { IgxError } from '../errors.js';

/** Preprocessing from pixels in 0..255 to model input: a preset, or per-channel mean/std ((x - mean) / std). */
export const PRESETS = ['[-1,1]', '[0,1]', 'imagenet', 'raw'] as const;
export type PreprocessPreset = (typeof PRESETS)[number];
export type Preprocess = PreprocessPreset | { mean: number[]; std: number[] };

/** How a photo is fitted to the model's input size. */
export const RESIZE_MODES = ['cover', 'contain', 'fill'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

/** Per-channel affine map from pixels (0..255) to model input: (x − mean[c]) / std[c]. */
export interface PreprocessParams {
  mean: number[];
  std: number[];
}

const IMAGENET_MEAN = [123.675, 116.28, 103.53];
const IMAGENET_STD = [58.395, 57.12, 57.375];

const average = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Turn a preset or a custom mean/std into one mean and one std per channel.
 * - `'[-1,1]'`: x / 127.5 − 1 (mean 127.5, std 127.5) — MobileNet/Inception style.
 * - `'[0,1]'`: x / 255.
 * - `'imagenet'`: torchvision's mean [123.675, 116.28, 103.53] and std [58.395, 57.12, 57.375] (the
 *   0..1 constants × 255). A one-channel model gets the averages of the three (114.495, 57.63): there
 *   is no standard grayscale ImageNet normalisation, and the averages keep a gray pixel's value
 *   the mean of what the RGB normalisation would give its three equal channels.
 * - `'raw'`: 0..255 unchanged.
 * - `{ mean, std }`: lists of length 1 (used for every channel) or `channels`.
 * A custom list of any other length is a config error (E_CONFIG).
 */
export function resolvePreprocess(p: Preprocess, channels: number): PreprocessParams {
  if (!Number.isInteger(channels) || channels < 1) {
    throw new RangeError(`channels must be a positive integer, got ${channels}`);
  }
  const fill = (v: number): number[] => new Array<number>(channels).fill(v);
  if (p === '[-1,1]') return { mean: fill(127.5), std: fill(127.5) };
  if (p === '[0,1]') return { mean: fill(0), std: fill(255) };
  if (p === 'raw') return { mean: fill(0), std: fill(1) };
  if (p === 'imagenet') {
    if (channels === 3) return { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] };
    return { mean: fill(average(IMAGENET_MEAN)), std: fill(average(IMAGENET_STD)) };
  }
  const broadcast = (name: 'mean' | 'std', xs: number[]): number[] => {
    if (xs.length === 1) return fill(xs[0]!);
    if (xs.length === channels) return [...xs];
    throw new IgxError(
      'E_CONFIG',
      `preprocess ${name} has ${xs.length} values but the model takes ${channels} channel(s); give 1 or ${channels}`,
    );
  };
  const mean = broadcast('mean', p.mean);
  const std = broadcast('std', p.std);
  for (const m of mean) {
    if (!Number.isFinite(m)) throw new IgxError('E_CONFIG', `preprocess mean ${m} is not a finite number`);
  }
  for (const s of std) {
    if (!(Number.isFinite(s) && s > 0)) {
      throw new IgxError('E_CONFIG', `preprocess std ${s} must be a positive finite number`);
    }
  }
  return { mean, std };
}

/**
 * Apply (x − mean[c]) / std[c] to HWC pixels. Used for the image and, identically, for baselines,
 * which are made in pixel space.
 */
export function computePreprocessed(
  pixels: ArrayLike<number>,
  channels: number,
  params: PreprocessParams,
): Float32Array {
  if (params.mean.length !== channels || params.std.length !== channels) {
    throw new RangeError(
      `preprocess has ${params.mean.length} mean(s) and ${params.std.length} std(s) for ${channels} channel(s)`,
    );
  }
  if (pixels.length % channels !== 0) {
    throw new RangeError(`pixel buffer length ${pixels.length} is not a multiple of ${channels} channels`);
  }
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i += channels) {
    for (let c = 0; c < channels; c += 1) {
      out[i + c] = (pixels[i + c]! - params.mean[c]!) / params.std[c]!;
    }
  }
  return out;
}
