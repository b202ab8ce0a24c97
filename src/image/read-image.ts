import { createHash } from 'node:crypto';
import { readRegularFile } from '../files/read-regular-file.js';
import sharp, { type OutputInfo } from 'sharp';
import type { ResizeMode } from './preprocess.js';
import { IgxError } from '../errors.js';
import { grayToRgb, rgbToGray, toBytes } from './pixels.js';
import type { HwcShape } from '../numeric/hwc-shape.js';

export interface ReadImageOptions {
  /** Model input height and width. */
  height: number;
  width: number;
  /** The model's channel count. */
  channels: 1 | 3;
  /** How the source is fitted to height × width (default for the CLI: 'cover'). */
  resize: ResizeMode;
  /**
   * Refuse (E_IMAGE_DECODE) sources with more pixels than this (width × height after decoding).
   * Unset: sharp's default limit of 268,402,689 (0x3FFF²).
   */
  maxPixels?: number;
}

export interface DecodedImage {
  /** HWC, 8-bit sRGB values 0..255 as floats, exactly height × width × channels of them. */
  pixels: Float32Array;
  height: number;
  width: number;
  channels: 1 | 3;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
  /** The file as decoded: size after EXIF orientation, and sharp's format name (AVIF is 'heif'). */
  source: { width: number; height: number; format: string };
}

/**
 * The raster formats igx decodes, by sharp's names (AVIF is 'heif'). Not SVG: rendering one is a
 * program (filters, text, links), and 240 bytes of it kept libvips busy for 11 minutes at 7 GB.
 */
const DECODED_FORMATS: readonly string[] = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif'];
const DECODED_FORMATS_TEXT = 'JPEG, PNG, WebP, GIF, TIFF and AVIF/HEIF';

/** sharp's own default for limitInputPixels. */
const SHARP_DEFAULT_PIXEL_LIMIT = 0x3fff * 0x3fff;

/**
 * Read an image file and prepare it as the model sees it, in pixel space (preprocessing comes later).
 *
 * Decodes anything sharp reads (JPEG, PNG, WebP, GIF — first frame only, TIFF — first page, AVIF);
 * applies the EXIF orientation; drops any alpha channel (the stored colour is kept, not composited
 * over a background); converts to 8-bit sRGB (16-bit sources scaled, CMYK and embedded ICC profiles
 * converted); resizes (see {@link resizeRgb}); then converts to the model's channel count
 * (RGB → gray with Pillow's BT.601 luma, gray → RGB by repetition).
 *
 * Errors: E_IMAGE_READ when the file cannot be read; E_IMAGE_DECODE when it is empty, not an
 * image, truncated or corrupt, or larger than `maxPixels`.
 */
/** The largest image file igx reads (1 GiB): --max-pixels bounds the decoded size, this the bytes. */
export const MAX_IMAGE_FILE_BYTES = 2 ** 30;

export async function readImage(path: string, opts: ReadImageOptions): Promise<DecodedImage> {
  checkReadOptions(opts);
  const bytes = await readRegularFile(path, { maxBytes: MAX_IMAGE_FILE_BYTES, code: 'E_IMAGE_READ', what: 'image file' });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const decoded = await decodeToRgb(bytes, path, opts.maxPixels);
  const resized = await resizeRgb(decoded.rgb, decoded.height, decoded.width, opts);
  const rgb = Float32Array.from(resized);
  const pixels = opts.channels === 3 ? rgb : rgbToGray(rgb);
  return {
    pixels,
    height: opts.height,
    width: opts.width,
    channels: opts.channels,
    sha256,
    source: { width: decoded.width, height: decoded.height, format: decoded.format },
  };
}

function checkReadOptions(opts: ReadImageOptions): void {
  for (const key of ['height', 'width'] as const) {
    const v = opts[key];
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`image ${key} must be a positive integer, got ${v}`);
  }
  if (opts.channels !== 1 && opts.channels !== 3) {
    throw new RangeError(`image channels must be 1 or 3, got ${String(opts.channels)}`);
  }
  if (!['cover', 'contain', 'fill'].includes(opts.resize)) {
    throw new RangeError(`resize mode must be cover, contain or fill, got ${String(opts.resize)}`);
  }
  if (opts.maxPixels !== undefined && !(Number.isInteger(opts.maxPixels) && opts.maxPixels > 0)) {
    throw new RangeError(`maxPixels must be a positive integer, got ${opts.maxPixels}`);
  }
}

interface RgbImage {
  /** HWC, 3 channels, 8-bit sRGB. */
  rgb: Buffer;
  height: number;
  width: number;
  format: string;
}

/**
 * Decode file bytes to full-resolution, upright, alpha-free, 8-bit sRGB. `name` is only for messages.
 * Decoding at full size first, then resizing from raw pixels, keeps the resize independent of the
 * source format (no JPEG shrink-on-load, no alpha premultiplication in the resampling).
 */
export async function decodeToRgb(bytes: Buffer, name: string, maxPixels?: number): Promise<RgbImage> {
  if (bytes.length === 0) {
    throw new IgxError('E_IMAGE_DECODE', `cannot decode image '${name}': the file is empty (0 bytes)`);
  }
  const limit = maxPixels ?? SHARP_DEFAULT_PIXEL_LIMIT;
  let format: string;
  try {
    // The header alone, with no limit, so an oversized image gets a message with its size.
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    format = meta.format;
    if (!DECODED_FORMATS.includes(format)) {
      throw new IgxError('E_IMAGE_DECODE', `image '${name}' is ${format.toUpperCase()}, which igx does not read (it reads ${DECODED_FORMATS_TEXT})`);
    }
    const w = meta.autoOrient?.width ?? meta.width;
    const h = meta.autoOrient?.height ?? meta.height;
    if (w * h > limit) {
      throw new IgxError(
        'E_IMAGE_DECODE',
        `image '${name}' is ${w}×${h} = ${w * h} pixels, over the limit of ${limit} pixels`,
      );
    }
  } catch (err) {
    throw decodeError(err, name);
  }
  try {
    const { data, info } = await decodeStrictly(bytes, limit);
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`decoded to ${info.channels} channels, expected 3`);
    }
    return { rgb: data, width: info.width, height: info.height, format };
  } catch (err) {
    throw decodeError(err, name);
  }
}

/**
 * A decode that is stopped after this long (E_IMAGE_DECODE): a 16000² PNG decodes in about 10 s on one
 * core, so only a file built to keep libvips busy gets near it.
 */
export const DECODE_TIMEOUT_SECONDS = 60;

/** libjpeg's warning for a scan cut short, which it fills with grey: a truncated file, not a photo. */
const TRUNCATED_SCAN = /premature end of data segment/i;

/**
 * Decode at full size. The first pass stops on any warning. A scan cut short is refused; any other warning
 * (extraneous bytes before a marker, common in real photos) gets a second pass that stops only on errors.
 */
async function decodeStrictly(bytes: Buffer, limitInputPixels: number): Promise<{ data: Buffer; info: OutputInfo }> {
  const decode = (failOn: 'warning' | 'error'): Promise<{ data: Buffer; info: OutputInfo }> =>
    sharp(bytes, { failOn, limitInputPixels, autoOrient: true, page: 0, pages: 1 })
      .timeout({ seconds: DECODE_TIMEOUT_SECONDS })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  try {
    return await decode('warning');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (TRUNCATED_SCAN.test(reason)) throw new Error('the image data ends before the image does (a truncated or corrupt scan)', { cause: err });
    if (/timeout/i.test(reason)) throw new Error(`decoding took over ${DECODE_TIMEOUT_SECONDS} s`, { cause: err });
    return decode('error');
  }
}

function decodeError(err: unknown, name: string): IgxError {
  if (err instanceof IgxError) return err;
  const reason = err instanceof Error ? err.message.trim() : String(err);
  return new IgxError('E_IMAGE_DECODE', `cannot decode image '${name}': ${reason}`, { cause: err });
}

/**
 * Fit a raw RGB image to the model input:
 * - `cover` (default): scale so the image covers height × width, then crop the centre.
 * - `contain`: scale so the whole image fits, then pad the borders with black (0, 0, 0) — black is
 *   also the default baseline, so padding adds no signal along the IG path.
 * - `fill`: stretch to height × width, ignoring the aspect ratio.
 * Resampling is sharp's default Lanczos-3. Returns HWC RGB bytes.
 */
export async function resizeRgb(
  rgb: Buffer,
  height: number,
  width: number,
  target: { height: number; width: number; resize: ResizeMode },
): Promise<Buffer> {
  if (height === target.height && width === target.width) return rgb;
  const { data, info } = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .resize(target.width, target.height, {
      fit: target.resize,
      position: 'centre',
      background: { r: 0, g: 0, b: 0, alpha: 1 },
    })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.width !== target.width || info.height !== target.height || info.channels !== 3) {
    throw new Error(`resize gave ${info.width}×${info.height}×${info.channels}, expected ${target.width}×${target.height}×3`);
  }
  return data;
}

/**
 * Gaussian blur of HWC pixels of `shape` (1 or 3 channels, 0..255) with sharp; standard deviation
 * `sigmaPx` pixels (sharp accepts 0.3..1000). The mask is cut where it falls below 1% of its peak (sharp's
 * default cut, 20%, truncates a Gaussian at ±1.8σ). Pixels are quantised to 8 bits on the way in
 * and out; edges are extended by copying.
 */
export async function blurPixels(pixels: ArrayLike<number>, shape: HwcShape<1 | 3>, sigmaPx: number): Promise<Float32Array> {
  const [height, width, channels] = shape;
  if (pixels.length !== height * width * channels) {
    throw new RangeError(`pixel buffer has ${pixels.length} values, expected ${height}×${width}×${channels}`);
  }
  const { data, info } = await sharp(Buffer.from(toBytes(pixels).buffer), { raw: { width, height, channels } })
    .blur({ sigma: sigmaPx, minAmplitude: 0.01, precision: 'float' })
    .toColourspace(channels === 1 ? 'b-w' : 'srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== channels || data.length !== pixels.length) {
    throw new Error(`blur gave ${info.channels} channels, expected ${channels}`);
  }
  return Float32Array.from(data);
}

/** Expand HWC pixels with 1 or 3 channels to RGB bytes (for rendering). */
export function pixelsToRgbBytes(pixels: ArrayLike<number>, channels: number): Uint8Array {
  if (channels === 3) return toBytes(pixels);
  if (channels === 1) return toBytes(grayToRgb(pixels));
  throw new RangeError(`cannot show ${channels}-channel pixels as RGB`);
}
