import type { HwcShape } from '../numeric/hwc-shape.js';

/** A map of `mapSize` [h, w] scaled up to `shape` [height, width, channels] by nearest neighbour, each value split evenly over the channels. */
export function computeUpsampledMap(map: ArrayLike<number>, mapSize: readonly [height: number, width: number], shape: HwcShape): Float32Array {
  const [h, w] = mapSize;
  const [height, width, channels] = shape;
  const out = new Float32Array(height * width * channels);
  for (let y = 0; y < height; y += 1) {
    const sy = Math.min(h - 1, Math.floor((y * h) / height));
    for (let x = 0; x < width; x += 1) {
      const v = (map[sy * w + Math.min(w - 1, Math.floor((x * w) / width))] as number) / channels;
      for (let k = 0; k < channels; k += 1) out[(y * width + x) * channels + k] = v;
    }
  }
  return out;
}
