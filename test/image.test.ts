import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { isIgxError, type ErrorCode } from '../src/errors.js';
import {
  buildBaselinePixels,
  computePreprocessed,
  DEFAULT_BLUR_SIGMA,
  DEFAULT_GAUSSIAN_SIGMA,
  parseBaselineSpec,
  readImage,
  resolvePreprocess,
  type DecodedImage,
  type ReadImageOptions,
} from '../src/image/index.js';
import { createRng } from '../src/numeric/rng.js';
import {
  applyPolarity,
  blendOverlay,
  divergingColor,
  normaliseMap,
  OVERLAY_MAX_ALPHA,
  percentile,
  renderHeatmapPng,
  renderOverlayPng,
  sequentialColor,
  sumChannels,
} from '../src/render/index.js';
import { writeFileAtomic } from '../src/files/atomic-write.js';
import { encodeNpy } from '../src/report/npy.js';
import { fixture } from './support/paths.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'igx-image-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tmp = (name: string): string => join(dir, name);
const hasCode = (code: ErrorCode) => (err: unknown): boolean => {
  assert.ok(isIgxError(err), `expected an IgxError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return true;
};
const mean = (xs: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i += 1) s += xs[i]!;
  return s / xs.length;
};
const meanAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i += 1) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};
/** Pixel (row, col) of an HWC buffer. */
const px = (buf: ArrayLike<number>, width: number, channels: number, row: number, col: number): number[] =>
  Array.from({ length: channels }, (_, c) => buf[(row * width + col) * channels + c]!);
const near = (actual: number[], expected: number[], tol: number, what: string): void => {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= tol, `${what}: got [${actual}], expected [${expected}] ±${tol}`));
};
/** Raw RGB image as a sharp input. */
const rawRgb = (data: Uint8Array, width: number, height: number, channels: 1 | 3 | 4 = 3) =>
  sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } });
/** A width × height RGB image where colourAt(row, col) gives each pixel. */
const synth = (width: number, height: number, colourAt: (row: number, col: number) => number[]): Uint8Array => {
  const out = new Uint8Array(width * height * 3);
  for (let r = 0; r < height; r += 1) for (let c = 0; c < width; c += 1) out.set(colourAt(r, c), (r * width + c) * 3);
  return out;
};
const decodeRaw = async (png: Buffer) => {
  const meta = await sharp(png).metadata();
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { format: meta.format, data, info };
};

describe('readImage: formats', () => {
  const S = 64;
  const opts: ReadImageOptions = { height: S, width: S, channels: 3, resize: 'fill' };
  let base: Buffer; // S×S RGB from a fixture photo: what every format below encodes

  before(async () => {
    base = await sharp(fixture('images', 'cat.jpg')).resize(S, S, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  });

  const cases: { name: string; format: string; maxMeanDiff: number; make: () => Promise<Buffer> }[] = [
    { name: 'png', format: 'png', maxMeanDiff: 0, make: () => rawRgb(base, S, S).png().toBuffer() },
    { name: 'tiff', format: 'tiff', maxMeanDiff: 0, make: () => rawRgb(base, S, S).tiff({ compression: 'lzw' }).toBuffer() },
    { name: '16-bit png', format: 'png', maxMeanDiff: 0, make: () => rawRgb(base, S, S).toColourspace('rgb16').png().toBuffer() },
    {
      name: 'png with alpha',
      format: 'png',
      maxMeanDiff: 0,
      make: async () => {
        const alpha = Buffer.alloc(S * S);
        for (let i = 0; i < alpha.length; i += 1) alpha[i] = 64 + (i % 192); // varying, never 0
        return rawRgb(base, S, S).joinChannel(alpha, { raw: { width: S, height: S, channels: 1 } }).png().toBuffer();
      },
    },
    { name: 'webp (lossy)', format: 'webp', maxMeanDiff: 6, make: () => rawRgb(base, S, S).webp({ quality: 90 }).toBuffer() },
    { name: 'gif (palette)', format: 'gif', maxMeanDiff: 8, make: () => rawRgb(base, S, S).gif().toBuffer() },
    { name: 'avif (lossy)', format: 'heif', maxMeanDiff: 8, make: () => rawRgb(base, S, S).avif({ quality: 80 }).toBuffer() },
    // sRGB → CMYK → sRGB through sharp's built-in CMYK profile is not the identity (ink limits shift
    // the tones by ~10 levels even for a lossless CMYK TIFF); inverted or raw CMYK would be off by ~100.
    { name: 'cmyk jpeg', format: 'jpeg', maxMeanDiff: 14, make: () => rawRgb(base, S, S).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer() },
  ];

  for (const c of cases) {
    test(`${c.name} decodes to the original's pixels`, async () => {
      const bytes = await c.make();
      const file = tmp(`fmt-${c.name.replace(/\W+/g, '_')}`);
      await writeFile(file, bytes);
      const img = await readImage(file, opts);
      assert.equal(img.height, S);
      assert.equal(img.width, S);
      assert.equal(img.channels, 3);
      assert.equal(img.pixels.length, S * S * 3);
      assert.deepEqual(img.source, { width: S, height: S, format: c.format });
      assert.equal(img.sha256, createHash('sha256').update(bytes).digest('hex'));
      const diff = meanAbsDiff(img.pixels, base);
      assert.ok(diff <= c.maxMeanDiff, `mean abs diff ${diff.toFixed(3)} > ${c.maxMeanDiff}`);
      if (c.maxMeanDiff === 0) assert.deepEqual(Array.from(img.pixels), Array.from(base));
    });
  }

  test('16-bit png is read on the 8-bit scale (not clipped, not divided)', async () => {
    const file = tmp('levels16.png');
    // 0, 128, 255 as 16-bit values 0, 32896 (128·257), 65535.
    const b16 = await rawRgb(synth(3, 1, (_r, c) => [[0, 128, 255][c]!, 0, 0]), 3, 1).toColourspace('rgb16').png().toBuffer();
    assert.equal((await sharp(b16).metadata()).depth, 'ushort');
    await writeFile(file, b16);
    const img = await readImage(file, { height: 1, width: 3, channels: 3, resize: 'fill' });
    assert.deepEqual(Array.from(img.pixels), [0, 0, 0, 128, 0, 0, 255, 0, 0]);
  });

  test('animated gif gives its first frame', async () => {
    const red = await rawRgb(synth(16, 16, () => [255, 0, 0]), 16, 16).png().toBuffer();
    const blue = await rawRgb(synth(16, 16, () => [0, 0, 255]), 16, 16).png().toBuffer();
    const gif = await sharp([red, blue], { join: { animated: true } }).gif().toBuffer();
    assert.equal((await sharp(gif).metadata()).pages, 2);
    const file = tmp('anim.gif');
    await writeFile(file, gif);
    const img = await readImage(file, { height: 16, width: 16, channels: 3, resize: 'fill' });
    assert.deepEqual(img.source, { width: 16, height: 16, format: 'gif' });
    for (let i = 0; i < 16 * 16; i += 1) near(px(img.pixels, 16, 3, Math.floor(i / 16), i % 16), [255, 0, 0], 2, `pixel ${i}`);
  });

  test('real fixtures decode (progressive JPEG, PNG) to the exact requested shape', async () => {
    for (const name of ['mountain.jpg', 'doberman.png']) {
      const img = await readImage(fixture('images', name), { height: 224, width: 224, channels: 3, resize: 'cover' });
      assert.equal(img.pixels.length, 224 * 224 * 3);
      const m = mean(img.pixels);
      assert.ok(m > 10 && m < 245, `${name}: mean ${m} looks like a blank decode`);
      assert.ok(img.pixels.every((v) => Number.isInteger(v) && v >= 0 && v <= 255));
    }
  });
});

describe('readImage: orientation, resize, channels', () => {
  test('EXIF orientation 6 is applied (rotated 90° clockwise)', async () => {
    // Stored 60 wide × 40 high, gray with a red block at the stored top-left.
    const stored = synth(60, 40, (r, c) => (r < 12 && c < 12 ? [255, 0, 0] : [128, 128, 128]));
    const file = tmp('orient6.jpg');
    await rawRgb(stored, 60, 40).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(file);
    assert.equal((await sharp(file).metadata()).orientation, 6);
    const img = await readImage(file, { height: 60, width: 40, channels: 3, resize: 'fill' });
    assert.deepEqual(img.source, { width: 40, height: 60, format: 'jpeg' });
    // Rotating clockwise moves the stored top-left to the displayed top-right.
    near(px(img.pixels, 40, 3, 5, 34), [255, 0, 0], 12, 'top-right');
    near(px(img.pixels, 40, 3, 5, 5), [128, 128, 128], 12, 'top-left');
    near(px(img.pixels, 40, 3, 54, 34), [128, 128, 128], 12, 'bottom-right');
  });

  // 200 × 100: red columns 0–49, green 50–149, blue 150–199.
  const RED = [255, 0, 0];
  const GREEN = [0, 255, 0];
  const BLUE = [0, 0, 255];
  const stripes = synth(200, 100, (_r, c) => (c < 50 ? RED : c < 150 ? GREEN : BLUE));
  let stripesFile = '';
  before(async () => {
    stripesFile = tmp('stripes.png');
    await rawRgb(stripes, 200, 100).png().toFile(stripesFile);
  });

  test('cover crops the centre', async () => {
    const img = await readImage(stripesFile, { height: 100, width: 100, channels: 3, resize: 'cover' });
    assert.deepEqual(img.source, { width: 200, height: 100, format: 'png' });
    // Scale 1, centre 100 columns = original 50..149: all green, exactly.
    for (let i = 0; i < 100 * 100; i += 1) assert.deepEqual(px(img.pixels, 100, 3, Math.floor(i / 100), i % 100), GREEN);
  });

  test('contain scales to fit and pads with black', async () => {
    const img = await readImage(stripesFile, { height: 100, width: 100, channels: 3, resize: 'contain' });
    // Scaled to 100 × 50, rows 25..74; rows 0..24 and 75..99 are black padding.
    for (const row of [0, 10, 24, 75, 99]) {
      for (const col of [0, 50, 99]) assert.deepEqual(px(img.pixels, 100, 3, row, col), [0, 0, 0], `padding at ${row},${col}`);
    }
    for (const row of [30, 50, 70]) {
      near(px(img.pixels, 100, 3, row, 10), RED, 2, `left at row ${row}`);
      near(px(img.pixels, 100, 3, row, 50), GREEN, 2, `centre at row ${row}`);
      near(px(img.pixels, 100, 3, row, 90), BLUE, 2, `right at row ${row}`);
    }
  });

  test('fill stretches, ignoring the aspect ratio', async () => {
    const img = await readImage(stripesFile, { height: 100, width: 100, channels: 3, resize: 'fill' });
    // Horizontal scale 0.5: red 0..24, green 25..74, blue 75..99, on every row.
    for (const row of [0, 50, 99]) {
      near(px(img.pixels, 100, 3, row, 10), RED, 2, `left at row ${row}`);
      near(px(img.pixels, 100, 3, row, 50), GREEN, 2, `centre at row ${row}`);
      near(px(img.pixels, 100, 3, row, 90), BLUE, 2, `right at row ${row}`);
    }
  });

  test('RGB → 1 channel uses BT.601 luma rounded as Pillow convert("L")', async () => {
    const file = tmp('four.png');
    await rawRgb(synth(4, 1, (_r, c) => [[255, 0, 0], [0, 255, 0], [0, 0, 255], [100, 150, 200]][c]!), 4, 1).png().toFile(file);
    const img = await readImage(file, { height: 1, width: 4, channels: 1, resize: 'fill' });
    assert.equal(img.channels, 1);
    assert.deepEqual(Array.from(img.pixels), [76, 150, 29, 141]);
  });

  test('1-channel source → 3 channels repeats the gray value', async () => {
    const file = tmp('gray.png');
    await sharp(Buffer.from([0, 77, 200, 255]), { raw: { width: 4, height: 1, channels: 1 } }).toColourspace('b-w').png().toFile(file);
    assert.equal((await sharp(file).metadata()).channels, 1);
    const img = await readImage(file, { height: 1, width: 4, channels: 3, resize: 'fill' });
    assert.deepEqual(Array.from(img.pixels), [0, 0, 0, 77, 77, 77, 200, 200, 200, 255, 255, 255]);
    const gray = await readImage(file, { height: 1, width: 4, channels: 1, resize: 'fill' });
    assert.deepEqual(Array.from(gray.pixels), [0, 77, 200, 255]);
  });
});

describe('readImage: errors', () => {
  test('zero-byte file → E_IMAGE_DECODE', async () => {
    const file = tmp('empty.jpg');
    await writeFile(file, Buffer.alloc(0));
    await assert.rejects(readImage(file, { height: 8, width: 8, channels: 3, resize: 'cover' }), hasCode('E_IMAGE_DECODE'));
  });

  test('truncated JPEG → E_IMAGE_DECODE', async () => {
    const full = await readFile(fixture('images', 'cat.jpg'));
    const file = tmp('truncated.jpg');
    await writeFile(file, full.subarray(0, Math.floor(full.length / 2)));
    await assert.rejects(readImage(file, { height: 8, width: 8, channels: 3, resize: 'cover' }), hasCode('E_IMAGE_DECODE'));
  });

  test('a JPEG whose header claims 2000² over a 16×16 scan → E_IMAGE_DECODE (libjpeg would fill the rest with grey)', async () => {
    const small = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).jpeg({ quality: 50 }).toBuffer();
    const sof = small.indexOf(Buffer.from([0xff, 0xc0]));
    const claim = Buffer.from(small);
    claim.writeUInt16BE(2000, sof + 5);
    claim.writeUInt16BE(2000, sof + 7);
    const file = tmp('claims-2000.jpg');
    await writeFile(file, claim);
    await assert.rejects(readImage(file, { height: 8, width: 8, channels: 3, resize: 'cover' }), (err: unknown) => {
      assert.ok(isIgxError(err) && err.code === 'E_IMAGE_DECODE');
      assert.match(err.message, /claims-2000\.jpg': the image data ends before the image does/);
      return true;
    });
  });

  test('a JPEG with a harmless warning (bytes before a marker) reads, with the same pixels as the clean file', async () => {
    const full = await readFile(fixture('images', 'cat.jpg'));
    const dqt = full.indexOf(Buffer.from([0xff, 0xdb]));
    const file = tmp('extraneous.jpg');
    await writeFile(file, Buffer.concat([full.subarray(0, dqt), Buffer.from([1, 2, 3, 4]), full.subarray(dqt)]));
    const o: ReadImageOptions = { height: 352, width: 352, channels: 3, resize: 'cover' };
    const [warned, clean] = await Promise.all([readImage(file, o), readImage(fixture('images', 'cat.jpg'), o)]);
    assert.deepEqual(warned.pixels, clean.pixels);
  });

  test('text file named .jpg → E_IMAGE_DECODE', async () => {
    const file = tmp('notes.jpg');
    await writeFile(file, 'this is not an image\n');
    await assert.rejects(readImage(file, { height: 8, width: 8, channels: 3, resize: 'cover' }), hasCode('E_IMAGE_DECODE'));
  });

  test('an SVG bomb named .png (240 bytes, 16000², turbulence and blur) → E_IMAGE_DECODE at once, naming the format', async () => {
    const file = tmp('bomb.png');
    await writeFile(
      file,
      '<svg xmlns="http://www.w3.org/2000/svg" width="16000" height="16000"><filter id="f"><feTurbulence baseFrequency="0.9" numOctaves="10"/>' +
        '<feGaussianBlur stdDeviation="200"/></filter><rect width="100%" height="100%" filter="url(#f)"/></svg>',
    );
    await assert.rejects(readImage(file, { height: 8, width: 8, channels: 3, resize: 'cover' }), (err: unknown) => {
      assert.ok(isIgxError(err) && err.code === 'E_IMAGE_DECODE');
      assert.match(err.message, /bomb\.png' is SVG, which igx does not read \(it reads JPEG, PNG, WebP, GIF, TIFF and AVIF\/HEIF\)/);
      return true;
    });
  });

  test('missing file and a folder → E_IMAGE_READ', async () => {
    const o: ReadImageOptions = { height: 8, width: 8, channels: 3, resize: 'cover' };
    await assert.rejects(readImage(tmp('does-not-exist.jpg'), o), hasCode('E_IMAGE_READ'));
    await assert.rejects(readImage(dir, o), hasCode('E_IMAGE_READ'));
  });

  test('more pixels than maxPixels → E_IMAGE_DECODE; at the limit it reads', async () => {
    const file = fixture('images', 'cat.jpg'); // 352 × 352
    const o: ReadImageOptions = { height: 8, width: 8, channels: 3, resize: 'cover' };
    await assert.rejects(readImage(file, { ...o, maxPixels: 352 * 352 - 1 }), hasCode('E_IMAGE_DECODE'));
    const img = await readImage(file, { ...o, maxPixels: 352 * 352 });
    assert.deepEqual(img.source, { width: 352, height: 352, format: 'jpeg' });
  });
});

describe('preprocessing', () => {
  const apply = (p: Parameters<typeof resolvePreprocess>[0], channels: number, values: number[]): number[] =>
    Array.from(computePreprocessed(values, channels, resolvePreprocess(p, channels)));
  const closeAll = (a: number[], e: number[]): void => a.forEach((v, i) => assert.ok(Math.abs(v - e[i]!) < 1e-6, `${a} vs ${e}`));

  test('presets give exact values at 0, 127.5 and 255', () => {
    assert.deepEqual(apply('[-1,1]', 1, [0, 127.5, 255]), [-1, 0, 1]);
    assert.deepEqual(apply('[0,1]', 1, [0, 127.5, 255]), [0, 0.5, 1]);
    assert.deepEqual(apply('raw', 1, [0, 127.5, 255]), [0, 127.5, 255]);
    // ImageNet, per channel, on pixels (0,0,0), (127.5,…), (255,…).
    const m = [123.675, 116.28, 103.53];
    const s = [58.395, 57.12, 57.375];
    const px3 = [0, 0, 0, 127.5, 127.5, 127.5, 255, 255, 255];
    closeAll(apply('imagenet', 3, px3), px3.map((v, i) => (v - m[i % 3]!) / s[i % 3]!));
    assert.deepEqual(resolvePreprocess('imagenet', 3), { mean: m, std: s });
  });

  test('one-channel imagenet uses the channel averages', () => {
    const p = resolvePreprocess('imagenet', 1);
    assert.ok(Math.abs(p.mean[0]! - 114.495) < 1e-9 && Math.abs(p.std[0]! - 57.63) < 1e-9, JSON.stringify(p));
    closeAll(apply('imagenet', 1, [0, 255]), [-114.495 / 57.63, (255 - 114.495) / 57.63]);
  });

  test('custom mean/std broadcast from one value or per channel; wrong length → E_CONFIG', () => {
    assert.deepEqual(resolvePreprocess({ mean: [10], std: [2] }, 3), { mean: [10, 10, 10], std: [2, 2, 2] });
    assert.deepEqual(apply({ mean: [0, 100, 200], std: [1, 2, 4] }, 3, [0, 100, 200]), [0, 0, 0]);
    assert.throws(() => resolvePreprocess({ mean: [1, 2], std: [1] }, 3), hasCode('E_CONFIG'));
    assert.throws(() => resolvePreprocess({ mean: [1, 2, 3], std: [1] }, 1), hasCode('E_CONFIG'));
  });
});

describe('rng', () => {
  test('same seed, same stream; different seed, different stream; ranges and moments', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 100 }, () => a.next());
    assert.deepEqual(sa, Array.from({ length: 100 }, () => b.next()));
    assert.notDeepEqual(sa, Array.from({ length: 100 }, () => c.next()));
    assert.ok(sa.every((v) => v >= 0 && v < 1));
    // A seed differing only above bit 31 gives a different stream too.
    assert.notEqual(createRng(1).next(), createRng(1 + 2 ** 32).next());
    const r = createRng(7);
    const zs = Array.from({ length: 20000 }, () => r.normal());
    const m = mean(zs);
    const v = mean(zs.map((z) => (z - m) ** 2));
    assert.ok(Math.abs(m) < 0.03 && Math.abs(v - 1) < 0.05, `normal mean ${m}, variance ${v}`);
    assert.throws(() => createRng(1.5), RangeError);
  });
});

describe('baselines', () => {
  const opts: ReadImageOptions = { height: 64, width: 64, channels: 3, resize: 'cover' };
  let image: DecodedImage;
  before(async () => {
    image = await readImage(fixture('images', 'cat.jpg'), opts);
  });

  test('parseBaselineSpec: keywords, sigmas, paths and errors', () => {
    assert.deepEqual(parseBaselineSpec('black'), { kind: 'black' });
    assert.deepEqual(parseBaselineSpec('white'), { kind: 'white' });
    assert.deepEqual(parseBaselineSpec('uniform'), { kind: 'uniform' });
    assert.deepEqual(parseBaselineSpec('gaussian'), { kind: 'gaussian', sigma: DEFAULT_GAUSSIAN_SIGMA });
    assert.equal(DEFAULT_GAUSSIAN_SIGMA, 64);
    assert.deepEqual(parseBaselineSpec('gaussian:32.5'), { kind: 'gaussian', sigma: 32.5 });
    assert.deepEqual(parseBaselineSpec('blur'), { kind: 'blur', sigma: DEFAULT_BLUR_SIGMA });
    assert.equal(DEFAULT_BLUR_SIGMA, 10);
    assert.deepEqual(parseBaselineSpec('blur:2.5'), { kind: 'blur', sigma: 2.5 });
    const dog = fixture('images', 'dog.jpg');
    assert.deepEqual(parseBaselineSpec(dog), { kind: 'image', path: dog });
    for (const bad of ['', 'gaussian:', 'gaussian:abc', 'gaussian:-1', 'gaussian:0', 'blur:0.1', 'blur:x', 'Black', tmp('nope.png'), dir]) {
      assert.throws(() => parseBaselineSpec(bad), hasCode('E_BASELINE'), `'${bad}'`);
    }
  });

  test('black and white are exact', async () => {
    const rng = createRng(0);
    const black = await buildBaselinePixels({ kind: 'black' }, image, rng, opts);
    const white = await buildBaselinePixels({ kind: 'white' }, image, rng, opts);
    assert.equal(black.length, 64 * 64 * 3);
    assert.ok(black.every((v) => v === 0));
    assert.equal(white.length, 64 * 64 * 3);
    assert.ok(white.every((v) => v === 255));
  });

  test('uniform: seeded, in [0, 255), mean near 127.5', async () => {
    const a = await buildBaselinePixels({ kind: 'uniform' }, image, createRng(1), opts);
    const b = await buildBaselinePixels({ kind: 'uniform' }, image, createRng(1), opts);
    const c = await buildBaselinePixels({ kind: 'uniform' }, image, createRng(2), opts);
    assert.deepEqual(Buffer.from(a.buffer), Buffer.from(b.buffer));
    assert.notDeepEqual(Buffer.from(a.buffer), Buffer.from(c.buffer));
    assert.ok(a.every((v) => v >= 0 && v < 255));
    assert.ok(Math.abs(mean(a) - 127.5) < 3, `mean ${mean(a)}`);
  });

  test('gaussian: seeded, clipped to 0..255, centred on the image with sigma in pixel units', async () => {
    const spec = { kind: 'gaussian', sigma: 20 } as const;
    const a = await buildBaselinePixels(spec, image, createRng(5), opts);
    const b = await buildBaselinePixels(spec, image, createRng(5), opts);
    const c = await buildBaselinePixels(spec, image, createRng(6), opts);
    assert.deepEqual(Buffer.from(a.buffer), Buffer.from(b.buffer));
    assert.notDeepEqual(Buffer.from(a.buffer), Buffer.from(c.buffer));
    assert.ok(a.every((v) => v >= 0 && v <= 255));
    assert.ok(Math.abs(mean(a) - mean(image.pixels)) < 1.5, `means ${mean(a)} vs ${mean(image.pixels)}`);
    // Where clipping cannot matter (image within 3σ of both ends) the noise has sd ≈ 20.
    const residual: number[] = [];
    image.pixels.forEach((v, i) => {
      if (v >= 60 && v <= 195) residual.push(a[i]! - v);
    });
    assert.ok(residual.length > 1000, `only ${residual.length} mid-range values`);
    const sd = Math.sqrt(mean(residual.map((r) => r * r)));
    assert.ok(Math.abs(sd - 20) < 1.5, `noise sd ${sd}`);
    const wide = await buildBaselinePixels(parseBaselineSpec('gaussian'), image, createRng(5), opts);
    assert.ok(wide.some((v) => v === 0) && wide.some((v) => v === 255), 'sigma 64 clips at both ends');
  });

  test('blur: differs from the image, keeps its mean, and blurs a constant to itself', async () => {
    // 128 px: at 64 px a sigma of 10 reaches the borders everywhere and edge copying moves the mean.
    const big = { ...opts, height: 128, width: 128 };
    const image = await readImage(fixture('images', 'cat.jpg'), big);
    const blurred = await buildBaselinePixels({ kind: 'blur', sigma: 10 }, image, createRng(0), big);
    assert.equal(blurred.length, image.pixels.length);
    assert.ok(meanAbsDiff(blurred, image.pixels) > 5, `mean abs diff ${meanAbsDiff(blurred, image.pixels)}`);
    assert.ok(Math.abs(mean(blurred) - mean(image.pixels)) < 1.5, `means ${mean(blurred)} vs ${mean(image.pixels)}`);
    assert.ok(blurred.every((v) => v >= 0 && v <= 255));
    // Smoother: neighbouring pixels differ much less than in the photo.
    const roughness = (p: Float32Array): number => {
      let s = 0;
      for (let i = 3; i < p.length; i += 1) s += Math.abs(p[i]! - p[i - 3]!);
      return s / p.length;
    };
    assert.ok(roughness(blurred) < roughness(image.pixels) / 3);
    const flat: DecodedImage = { ...image, height: 64, width: 64, channels: 1, pixels: new Float32Array(64 * 64).fill(77) };
    const flatBlur = await buildBaselinePixels({ kind: 'blur', sigma: 4 }, flat, createRng(0), { ...opts, channels: 1 });
    assert.equal(flatBlur.length, 64 * 64);
    assert.ok(flatBlur.every((v) => v === 77));
  });

  test('image: another file read with the same size, channels and resize; unusable → E_BASELINE', async () => {
    const dog = fixture('images', 'dog.jpg');
    const base = await buildBaselinePixels({ kind: 'image', path: dog }, image, createRng(0), opts);
    assert.deepEqual(Array.from(base), Array.from((await readImage(dog, opts)).pixels));
    const notImage = tmp('baseline.txt');
    await writeFile(notImage, 'nope');
    await assert.rejects(buildBaselinePixels({ kind: 'image', path: notImage }, image, createRng(0), opts), hasCode('E_BASELINE'));
    await assert.rejects(
      buildBaselinePixels({ kind: 'image', path: tmp('gone.png') }, image, createRng(0), opts),
      hasCode('E_BASELINE'),
    );
  });
});

describe('heatmap and overlay', () => {
  test('pure pieces: channel sum, polarity, numpy-style percentile', () => {
    assert.deepEqual(Array.from(sumChannels(new Float32Array([1, 2, 3, -1, -1, 0.5]), 1, 2, 3)), [6, -1.5]);
    assert.deepEqual(Array.from(applyPolarity([2, -3, 0], 'positive')), [2, 0, 0]);
    assert.deepEqual(Array.from(applyPolarity([2, -3, 0], 'negative')), [0, 3, 0]);
    assert.deepEqual(Array.from(applyPolarity([2, -3, 0], 'absolute')), [2, 3, 0]);
    assert.deepEqual(Array.from(applyPolarity([2, -3, 0], 'all')), [2, -3, 0]);
    assert.equal(percentile([4, 1, 3, 2], 50), 2.5);
    assert.ok(Math.abs(percentile([1, 2, 3, 4], 99) - 3.97) < 1e-12);
    assert.equal(percentile([5], 99), 5);
    assert.deepEqual(sequentialColor(0), [0, 0, 4]);
    assert.deepEqual(sequentialColor(1), [252, 255, 164]);
    assert.deepEqual(divergingColor(0), [247, 247, 247]);
    assert.ok(divergingColor(-1)[2] > divergingColor(-1)[0], 'negative end is blue');
    assert.ok(divergingColor(1)[0] > divergingColor(1)[2], 'positive end is red');
    assert.throws(() => normaliseMap([1], 'positive', 0), hasCode('E_FLAG'));
  });

  test('a single hot pixel renders as the hottest colour in a PNG of the input size', async () => {
    const h = 8;
    const w = 10;
    const attr = new Float32Array(h * w * 3);
    attr.set([1, 2, 3], (3 * w + 7) * 3);
    const png = await renderHeatmapPng(attr, [h, w, 3], { polarity: 'positive' });
    const { format, data, info } = await decodeRaw(png);
    assert.equal(format, 'png');
    assert.deepEqual([info.width, info.height, info.channels], [w, h, 3]);
    for (let r = 0; r < h; r += 1) {
      for (let c = 0; c < w; c += 1) {
        assert.deepEqual(px(data, w, 3, r, c), r === 3 && c === 7 ? sequentialColor(1) : sequentialColor(0), `${r},${c}`);
      }
    }
  });

  test('polarity picks the sign; all is diverging and symmetric', async () => {
    // 1 × 3, one channel: +5, −3, 0.
    const attr = new Float32Array([5, -3, 0]);
    const show = async (polarity: 'positive' | 'negative' | 'absolute' | 'all') =>
      (await decodeRaw(await renderHeatmapPng(attr, [1, 3, 1], { polarity }))).data;
    assert.deepEqual(Array.from(await show('positive')), [...sequentialColor(1), ...sequentialColor(0), ...sequentialColor(0)]);
    assert.deepEqual(Array.from(await show('negative')), [...sequentialColor(0), ...sequentialColor(1), ...sequentialColor(0)]);
    // absolute: scale = 99th percentile of {3, 5} = 4.98; 5 saturates, 3 → 3/4.98.
    assert.deepEqual(Array.from(await show('absolute')), [...sequentialColor(1), ...sequentialColor(3 / 4.98), ...sequentialColor(0)]);
    assert.deepEqual(Array.from(await show('all')), [...divergingColor(1), ...divergingColor(-3 / 4.98), ...divergingColor(0)]);
  });

  test('clip percentile saturates outliers', async () => {
    const n = 20;
    const attr = new Float32Array(n * n).fill(1);
    attr[0] = 1000;
    const clipped = (await decodeRaw(await renderHeatmapPng(attr, [n, n, 1], { polarity: 'positive', clipPercentile: 99 }))).data;
    for (let i = 0; i < n * n; i += 1) assert.deepEqual(px(clipped, n, 3, Math.floor(i / n), i % n), sequentialColor(1));
    const unclipped = (await decodeRaw(await renderHeatmapPng(attr, [n, n, 1], { polarity: 'positive', clipPercentile: 100 }))).data;
    assert.deepEqual(px(unclipped, n, 3, 0, 0), sequentialColor(1));
    assert.deepEqual(px(unclipped, n, 3, 5, 5), sequentialColor(1 / 1000));
  });

  test('overlay equals the image where attribution is zero and blends where it is not', async () => {
    const image = await readImage(fixture('images', 'tabby_cat_224.jpg'), { height: 16, width: 16, channels: 3, resize: 'cover' });
    const attr = new Float32Array(16 * 16 * 3);
    attr.set([0.5, 0.5, 0.5], (4 * 16 + 9) * 3);
    const { data, info } = await decodeRaw(await renderOverlayPng(image.pixels, attr, [16, 16, 3], { polarity: 'positive' }));
    assert.deepEqual([info.width, info.height, info.channels], [16, 16, 3]);
    const hot = sequentialColor(1);
    for (let r = 0; r < 16; r += 1) {
      for (let c = 0; c < 16; c += 1) {
        const photo = px(image.pixels, 16, 3, r, c);
        const expected = r === 4 && c === 9 ? photo.map((p, k) => Math.round((1 - OVERLAY_MAX_ALPHA) * p + OVERLAY_MAX_ALPHA * hot[k]!)) : photo;
        assert.deepEqual(px(data, 16, 3, r, c), expected, `${r},${c}`);
      }
    }
    // Grayscale image: expanded to RGB; zero attribution leaves it as it was.
    const gray = new Float32Array([0, 100, 200, 255]);
    const g = await decodeRaw(await renderOverlayPng(gray, new Float32Array(4), [2, 2, 1], { polarity: 'all' }));
    assert.deepEqual(Array.from(g.data), [0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]);
    assert.deepEqual(Array.from(blendOverlay([10, 20, 30], [0], 'all')), [10, 20, 30]);
  });
});

describe('npy and atomic write', () => {
  const parseNpy = (buf: Buffer) => {
    assert.deepEqual([...buf.subarray(0, 6)], [0x93, ...Buffer.from('NUMPY')]);
    assert.deepEqual([buf[6], buf[7]], [1, 0]);
    const headerLen = buf.readUInt16LE(8);
    const header = buf.subarray(10, 10 + headerLen).toString('latin1');
    assert.equal((10 + headerLen) % 64, 0, 'data is 64-byte aligned');
    assert.ok(header.endsWith('\n'));
    const dict = /^\{'descr': '([^']+)', 'fortran_order': (True|False), 'shape': \(([^)]*)\), \} *\n$/.exec(header);
    assert.ok(dict, header);
    const shape = dict[3]!.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
    const payload = buf.subarray(10 + headerLen);
    const values = Array.from({ length: payload.length / 4 }, (_, i) => payload.readFloatLE(4 * i));
    return { descr: dict[1], fortran: dict[2], shape, values };
  };

  test('encodeNpy writes a v1.0 <f4 C-order array', () => {
    const data = new Float32Array([1.5, -2, 3.25, 0, 1e-7, 65504]);
    const out = parseNpy(encodeNpy(data, [2, 3]));
    assert.deepEqual(out, { descr: '<f4', fortran: 'False', shape: [2, 3], values: Array.from(data) });
    const oneD = encodeNpy(new Float32Array([7, 8, 9]), [3]);
    assert.ok(oneD.toString('latin1').includes("'shape': (3,)"));
    assert.deepEqual(parseNpy(oneD).values, [7, 8, 9]);
    const image = parseNpy(encodeNpy(new Float32Array(224 * 224 * 3).fill(0.25), [224, 224, 3]));
    assert.deepEqual(image.shape, [224, 224, 3]);
    assert.equal(image.values.length, 224 * 224 * 3);
    assert.throws(() => encodeNpy(new Float32Array(5), [2, 3]), RangeError);
  });

  test('writeFileAtomic replaces the file and leaves no temporary; a missing folder → E_WRITE', async () => {
    const sub = await mkdtemp(join(dir, 'atomic-'));
    const target = join(sub, 'out.png');
    await writeFileAtomic(target, Buffer.from('first'));
    await writeFileAtomic(target, Buffer.from('second'));
    assert.equal(await readFile(target, 'utf8'), 'second');
    assert.deepEqual(await readdir(sub), ['out.png']);
    await assert.rejects(writeFileAtomic(join(sub, 'no', 'such', 'dir.png'), 'x'), hasCode('E_WRITE'));
    assert.deepEqual(await readdir(sub), ['out.png']);
  });
});
