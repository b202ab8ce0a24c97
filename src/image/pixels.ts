/** Pure pixel-buffer helpers (no sharp): channel conversion and 8-bit quantisation. */

/**
 * RGB (HWC, 0..255) to one luma channel with ITU-R BT.601 weights, rounded the way Pillow's
 * `convert('L')` does (fixed point, 16 fractional bits) — so a grayscale model sees what it saw in
 * training when its pipeline was PIL/Keras `color_mode='grayscale'`. A gray pixel (r = g = b) maps to
 * itself exactly.
 */
export function rgbToGray(rgb: ArrayLike<number>): Float32Array {
  if (rgb.length % 3 !== 0) {
    throw new RangeError(`RGB buffer length ${rgb.length} is not a multiple of 3`);
  }
  const n = rgb.length / 3;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 1) {
    const r = clampByte(rgb[3 * i]!);
    const g = clampByte(rgb[3 * i + 1]!);
    const b = clampByte(rgb[3 * i + 2]!);
    out[i] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
  }
  return out;
}

/** One channel to three equal ones (HW → HWC). */
export function grayToRgb(gray: ArrayLike<number>): Float32Array {
  const out = new Float32Array(gray.length * 3);
  for (let i = 0; i < gray.length; i += 1) {
    const v = gray[i]!;
    out[3 * i] = v;
    out[3 * i + 1] = v;
    out[3 * i + 2] = v;
  }
  return out;
}

/** Round and clamp to an integer in 0..255 (NaN becomes 0). */
export function clampByte(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 255) return 255;
  return Math.round(v);
}

/** Float pixels (0..255) to bytes, rounded and clamped. */
export function toBytes(pixels: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i += 1) out[i] = clampByte(pixels[i]!);
  return out;
}

/** Clamp every value to [lo, hi] in place; returns the same array. */
export function clipInPlace(values: Float32Array, lo: number, hi: number): Float32Array {
  for (let i = 0; i < values.length; i += 1) {
    const v = values[i]!;
    values[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return values;
}
