import { IgxError } from '../errors.js';

/**
 * Pure pieces of heatmap rendering: channel sum, polarity, percentile clipping, colormaps and the
 * overlay blend. No sharp here; render.ts only encodes what these produce.
 */

export const POLARITIES = ['positive', 'negative', 'absolute', 'all'] as const;
export type Polarity = (typeof POLARITIES)[number];
export const DEFAULT_CLIP_PERCENTILE = 99;
/** Opacity of the heatmap over the photo where the normalised magnitude is 1. */
export const OVERLAY_MAX_ALPHA = 0.75;

export type Rgb = [number, number, number];

/** Sum HWC attributions over channels → one value per pixel (H×W, row-major). */
export function sumChannels(attributions: ArrayLike<number>, height: number, width: number, channels: number): Float32Array {
  if (attributions.length !== height * width * channels) {
    throw new RangeError(
      `attributions have ${attributions.length} values, expected ${height}×${width}×${channels} = ${height * width * channels}`,
    );
  }
  const n = height * width;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 1) {
    let s = 0;
    for (let c = 0; c < channels; c += 1) s += attributions[i * channels + c]!;
    out[i] = s;
  }
  return out;
}

/**
 * What is shown: `positive` → max(v, 0); `negative` → max(−v, 0) (negative evidence as a positive
 * magnitude); `absolute` → |v|; `all` → v, signed.
 */
export function applyPolarity(map: ArrayLike<number>, polarity: Polarity): Float32Array {
  const out = new Float32Array(map.length);
  for (let i = 0; i < map.length; i += 1) {
    const v = map[i]!;
    out[i] =
      polarity === 'positive' ? Math.max(v, 0)
      : polarity === 'negative' ? Math.max(-v, 0)
      : polarity === 'absolute' ? Math.abs(v)
      : v;
  }
  return out;
}

/**
 * The p-th percentile (0..100) with linear interpolation between order statistics — numpy's default
 * (`np.percentile(..., method='linear')`). NaN for an empty list.
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

export interface NormalisedMap {
  /** In [0, 1] for one-sided polarities, [−1, 1] for `all`. */
  values: Float32Array;
  /** The magnitude mapped to 1 (values above it saturate); 0 when nothing is shown. */
  scale: number;
}

/**
 * Scale a channel-summed map for display. The scale is the `clipPercentile`-th percentile of the
 * non-zero shown magnitudes (|v| for `all`), so pixels with nothing to show (the other sign, exact
 * zeros) do not pull the scale down, and a map with a single hot pixel still shows it at full
 * strength. Magnitudes above the scale saturate at 1 (or −1).
 */
export function normaliseMap(
  map: ArrayLike<number>,
  polarity: Polarity,
  clipPercentile: number = DEFAULT_CLIP_PERCENTILE,
): NormalisedMap {
  if (!POLARITIES.includes(polarity)) {
    throw new IgxError('E_FLAG', `--polarity must be one of ${POLARITIES.join(', ')}, got '${String(polarity)}'`);
  }
  if (!(clipPercentile > 0 && clipPercentile <= 100)) {
    throw new IgxError('E_FLAG', `--clip-percentile must be more than 0 and at most 100, got ${clipPercentile}`);
  }
  const shown = applyPolarity(map, polarity);
  const magnitudes: number[] = [];
  for (const v of shown) {
    const m = Math.abs(v);
    if (m > 0 && Number.isFinite(m)) magnitudes.push(m);
  }
  const scale = magnitudes.length === 0 ? 0 : percentile(magnitudes, clipPercentile);
  const values = new Float32Array(shown.length);
  if (scale > 0) {
    for (let i = 0; i < shown.length; i += 1) {
      const v = shown[i]! / scale;
      values[i] = Number.isNaN(v) ? 0 : Math.max(-1, Math.min(1, v));
    }
  }
  return { values, scale };
}

/** matplotlib's 'inferno' sampled at 0, 0.1, …, 1 (perceptually uniform, black → purple → yellow). */
const INFERNO: Rgb[] = [
  [0x00, 0x00, 0x04],
  [0x16, 0x0b, 0x39],
  [0x42, 0x0a, 0x68],
  [0x6a, 0x17, 0x6e],
  [0x93, 0x26, 0x67],
  [0xbc, 0x37, 0x54],
  [0xdd, 0x51, 0x3a],
  [0xf3, 0x78, 0x19],
  [0xfc, 0xa5, 0x0a],
  [0xf6, 0xd7, 0x46],
  [0xfc, 0xff, 0xa4],
];

/** ColorBrewer 'RdBu' reversed, sampled at −1, −0.8, …, 1: blue (negative) → near-white (0) → red (positive). */
const BLUE_WHITE_RED: Rgb[] = [
  [0x05, 0x30, 0x61],
  [0x21, 0x66, 0xac],
  [0x43, 0x93, 0xc3],
  [0x92, 0xc5, 0xde],
  [0xd1, 0xe5, 0xf0],
  [0xf7, 0xf7, 0xf7],
  [0xfd, 0xdb, 0xc7],
  [0xf4, 0xa5, 0x82],
  [0xd6, 0x60, 0x4d],
  [0xb2, 0x18, 0x2b],
  [0x67, 0x00, 0x1f],
];

function lookup(stops: Rgb[], t: number): Rgb {
  const x = Number.isNaN(t) ? 0 : Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [
    Math.round(a[0] + f * (b[0] - a[0])),
    Math.round(a[1] + f * (b[1] - a[1])),
    Math.round(a[2] + f * (b[2] - a[2])),
  ];
}

/** Sequential colormap for one-sided maps, t in [0, 1] (clamped). */
export function sequentialColor(t: number): Rgb {
  return lookup(INFERNO, t);
}

/** Diverging colormap for signed maps, t in [−1, 1] (clamped), symmetric about 0. */
export function divergingColor(t: number): Rgb {
  return lookup(BLUE_WHITE_RED, (t + 1) / 2);
}

/** The colour of a normalised value under a polarity: diverging for `all`, sequential otherwise. */
export function colorFor(value: number, polarity: Polarity): Rgb {
  return polarity === 'all' ? divergingColor(value) : sequentialColor(value);
}

/** Normalised map (H×W) → RGB bytes (H×W×3). */
export function colorize(values: ArrayLike<number>, polarity: Polarity): Uint8Array {
  const out = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i += 1) {
    const [r, g, b] = colorFor(values[i]!, polarity);
    out[3 * i] = r;
    out[3 * i + 1] = g;
    out[3 * i + 2] = b;
  }
  return out;
}

/**
 * Heatmap over the photo: out = (1 − α)·image + α·colour with α = OVERLAY_MAX_ALPHA·|value|, so
 * where the attribution is zero the photo shows unchanged. `imageRgb` and the result are H×W×3 bytes.
 */
export function blendOverlay(imageRgb: ArrayLike<number>, values: ArrayLike<number>, polarity: Polarity): Uint8Array {
  if (imageRgb.length !== values.length * 3) {
    throw new RangeError(`image has ${imageRgb.length} values, expected ${values.length}×3`);
  }
  const out = new Uint8Array(imageRgb.length);
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i]!;
    const alpha = OVERLAY_MAX_ALPHA * Math.min(1, Math.abs(Number.isNaN(v) ? 0 : v));
    const colour = colorFor(v, polarity);
    for (let c = 0; c < 3; c += 1) {
      const p = imageRgb[3 * i + c]!;
      out[3 * i + c] = Math.round((1 - alpha) * p + alpha * colour[c]!);
    }
  }
  return out;
}
