import { statSync } from 'node:fs';
import { IgxError, isIgxError } from '../errors.js';
import { clipInPlace } from './pixels.js';
import { blurPixels, readImage, type DecodedImage, type ReadImageOptions } from './read-image.js';
import type { Rng } from '../numeric/rng.js';

export { createRng, type Rng } from '../numeric/rng.js';

/** A baseline x′ for Integrated Gradients, in pixel space (0..255, before preprocessing). */
export type BaselineSpec =
  | { kind: 'black' }
  | { kind: 'white' }
  | { kind: 'uniform' }
  | { kind: 'gaussian'; sigma: number }
  | { kind: 'blur'; sigma: number }
  | { kind: 'image'; path: string };

/**
 * Default noise for `gaussian`, in pixel units: a quarter of the 0..255 range. Strong enough to
 * drown fine texture (most edges in photos are a few tens of levels), yet the image stays
 * recognisable in its large structure and, at ±1σ, most values are not clipped at 0 or 255, so the
 * baseline's mean stays close to the image's.
 */
export const DEFAULT_GAUSSIAN_SIGMA = 64;
/** Default blur for `blur`, in pixels: removes detail finer than roughly a tenth of a 224 px input. */
export const DEFAULT_BLUR_SIGMA = 10;
/** sharp's accepted blur range. */
const BLUR_SIGMA_MIN = 0.3;
const BLUR_SIGMA_MAX = 1000;

const KINDS_HELP = 'black, white, uniform, gaussian[:SIGMA], blur[:SIGMA] or an image file path';

/**
 * Parse the `--baseline` flag: `black | white | uniform | gaussian[:SIGMA] | blur[:SIGMA] | PATH`.
 * Keywords are matched exactly (lower case) and win over a file of the same name — write `./black`
 * for such a file. Anything else is taken as a path and must name an existing file.
 * Bad text, a bad sigma or a missing file → E_BASELINE.
 */
export function parseBaselineSpec(text: string): BaselineSpec {
  const t = text.trim();
  if (t === '') throw new IgxError('E_BASELINE', `baseline is empty; give ${KINDS_HELP}`);
  if (t === 'black' || t === 'white' || t === 'uniform') return { kind: t };
  const m = /^(gaussian|blur)(?::(.*))?$/.exec(t);
  if (m) {
    const kind = m[1] as 'gaussian' | 'blur';
    if (m[2] === undefined) {
      return { kind, sigma: kind === 'gaussian' ? DEFAULT_GAUSSIAN_SIGMA : DEFAULT_BLUR_SIGMA };
    }
    const raw = m[2].trim();
    const sigma = raw === '' ? NaN : Number(raw);
    if (kind === 'gaussian' && !(Number.isFinite(sigma) && sigma > 0)) {
      throw new IgxError('E_BASELINE', `baseline '${t}': gaussian sigma must be a positive number of pixel levels`);
    }
    if (kind === 'blur' && !(Number.isFinite(sigma) && sigma >= BLUR_SIGMA_MIN && sigma <= BLUR_SIGMA_MAX)) {
      throw new IgxError(
        'E_BASELINE',
        `baseline '${t}': blur sigma must be a number of pixels from ${BLUR_SIGMA_MIN} to ${BLUR_SIGMA_MAX}`,
      );
    }
    return { kind, sigma };
  }
  let isFile = false;
  try {
    isFile = statSync(t).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) {
    throw new IgxError('E_BASELINE', `baseline '${t}' is not one of ${KINDS_HELP}, and no file exists at that path`);
  }
  return { kind: 'image', path: t };
}

/** All values `value` (black = 0, white = 255). */
export function constantBaseline(length: number, value: number): Float32Array {
  return new Float32Array(length).fill(value);
}

/** Independent U[0, 255) per value. */
export function uniformBaseline(length: number, rng: Rng): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i += 1) out[i] = rng.next() * 255;
  return out;
}

/** clip(x + N(0, sigma²), 0, 255) per value. */
export function gaussianBaseline(pixels: ArrayLike<number>, sigma: number, rng: Rng): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i += 1) out[i] = pixels[i]! + sigma * rng.normal();
  return clipInPlace(out, 0, 255);
}

/**
 * The baseline for `image` in pixel space, HWC, same size and channels. `rng` is used only by the
 * random kinds; `readOpts` only by `image` (the other file is read with the same size, channels and
 * resize mode). A baseline image that cannot be read or decoded → E_BASELINE naming it.
 */
export async function buildBaselinePixels(
  spec: BaselineSpec,
  image: DecodedImage,
  rng: Rng,
  readOpts: ReadImageOptions,
): Promise<Float32Array> {
  const n = image.pixels.length;
  switch (spec.kind) {
    case 'black':
      return constantBaseline(n, 0);
    case 'white':
      return constantBaseline(n, 255);
    case 'uniform':
      return uniformBaseline(n, rng);
    case 'gaussian':
      return gaussianBaseline(image.pixels, spec.sigma, rng);
    case 'blur':
      return clipInPlace(await blurPixels(image.pixels, [image.height, image.width, image.channels], spec.sigma), 0, 255);
    case 'image': {
      try {
        const other = await readImage(spec.path, {
          ...readOpts,
          height: image.height,
          width: image.width,
          channels: image.channels,
        });
        return other.pixels;
      } catch (err) {
        if (isIgxError(err) && (err.code === 'E_IMAGE_READ' || err.code === 'E_IMAGE_DECODE')) {
          throw new IgxError('E_BASELINE', `baseline image unusable: ${err.message}`, { cause: err });
        }
        throw err;
      }
    }
  }
}
