/** Summaries of an attribution map that reports carry: pure functions over HWC float data. */

import type { HwcShape } from './hwc-shape.js';

export interface AttributionStats {
  min: number;
  max: number;
  sum: number;
  sumAbs: number;
}

export function computeAttributionStats(attributions: Float32Array): AttributionStats {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumAbs = 0;
  for (const v of attributions) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumAbs += Math.abs(v);
  }
  return { min, max, sum, sumAbs };
}

/** Σ over channels: [h, w, c] → [h, w]. */
export function computeChannelSum(attributions: Float32Array, height: number, width: number, channels: number): Float64Array {
  const out = new Float64Array(height * width);
  for (let p = 0; p < height * width; p += 1) {
    let s = 0;
    for (let k = 0; k < channels; k += 1) s += attributions[p * channels + k] ?? 0;
    out[p] = s;
  }
  return out;
}

/** overlap[g][i]: how much of input cell i lies in output cell g when n cells are pooled into size. */
function computeOverlaps(n: number, size: number): number[][] {
  const scale = n / size;
  return Array.from({ length: size }, (_, g) => {
    const lo = g * scale;
    const hi = (g + 1) * scale;
    const row = new Array<number>(n).fill(0);
    for (let i = Math.floor(lo); i < Math.min(n, Math.ceil(hi)); i += 1) {
      row[i] = Math.max(0, Math.min(hi, i + 1) - Math.max(lo, i));
    }
    return row;
  });
}

/**
 * The attribution map summed over channels and area-pooled to size × size (row-major). Pooling sums the
 * (fractional) pixels that fall in each cell, so the grid's total equals the attributions' total and
 * completeness can be checked from the report alone.
 */
export function computeAttributionGrid(attributions: Float32Array, shape: HwcShape, size = 32): number[] {
  const [height, width, channels] = shape;
  const map = computeChannelSum(attributions, height, width, channels);
  const rows = computeOverlaps(height, size);
  const cols = computeOverlaps(width, size);
  const grid = new Array<number>(size * size).fill(0);
  for (let gy = 0; gy < size; gy += 1) {
    const ry = rows[gy] as number[];
    for (let y = 0; y < height; y += 1) {
      const wy = ry[y] ?? 0;
      if (wy === 0) continue;
      for (let gx = 0; gx < size; gx += 1) {
        const rx = cols[gx] as number[];
        let s = 0;
        for (let x = 0; x < width; x += 1) {
          const wx = rx[x] ?? 0;
          if (wx !== 0) s += wx * (map[y * width + x] ?? 0);
        }
        grid[gy * size + gx] = (grid[gy * size + gx] ?? 0) + wy * s;
      }
    }
  }
  return grid;
}
