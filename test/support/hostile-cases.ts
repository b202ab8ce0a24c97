/**
 * Hostile inputs for the CLI (issue 16): each generator plants its files under a root folder and returns
 * the igx command lines to run on them, with what a correct igx does — exit 1 or 2 with one line per
 * failure, each ending in an `[E_…]` code, or exit 0 where the input is legitimately fine. Everything is
 * seeded, so a failing case is the same file on every run.
 */
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { createRng, type Rng } from '../../src/numeric/rng.js';
import { makeHugePngHeader } from './make-inputs.js';
import { fixture } from './paths.js';

export const GROUPS = ['images', 'models', 'config', 'flags'] as const;
export type Group = (typeof GROUPS)[number];

export interface HostileCase {
  group: Group;
  /** Unique, short: the subtest's name and the case's folder. */
  name: string;
  /** igx's arguments (after `node bin/igx.js`). */
  args: string[];
  cwd?: string;
  /** The --out folder the case writes to (checked for temp files and half outputs), if any. */
  out?: string;
  /** The exit codes a correct igx may give. 0 only with `fineWhy`. */
  exits: number[];
  /** Why exit 0 is right for this input (printed with the case). */
  fineWhy?: string;
  /**
   * A batch: the inputs (paths relative to the run root), each counted as a case. Each must get a
   * manifest row, ok or failed (a failed one: exactly one stderr line naming it, with its code).
   * Without it the run is one case and a refusal is exactly one line.
   */
  batchFiles?: string[];
  /** Codes a refusal may carry; any `E_` code when unset. */
  codes?: string[];
  /** Kill and fail after this long (default 60 s). */
  timeoutMs?: number;
  /** A known bug: the case still asserts the correct behaviour, marked todo. */
  todo?: string;
}

/** The small fast model for image cases: age_64 is 64×64×3, one output. */
export const AGE_MODEL = ['--model', fixture('models', 'age_64'), '--preprocess', '[0,1]'];
/** -q: only errors reach stderr, so every line there must be an error line with its code. */
const FAST = ['--steps', '4', '--workers', '1', '-q'];
const IMAGE_EXTENSIONS = ['jpg', 'png', 'gif', 'webp', 'tiff', 'avif', 'jpeg', 'tif'] as const;

const seededInt = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng.next() * (hi - lo));
const randomBytes = (rng: Rng, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rng.next() * 256)));

function flipBit(bytes: Buffer, offset: number, bit: number): Buffer {
  const out = Buffer.from(bytes);
  out[offset] = (out[offset] as number) ^ (1 << bit);
  return out;
}

/** An animated GIF of `frames` 1×1 frames on a 64×64 screen: thousands of frames in a few kB. */
export function makeManyFrameGif(frames: number): Buffer {
  const header = Buffer.from('GIF89a', 'ascii');
  const screen = Buffer.from([64, 0, 64, 0, 0xf0, 0, 0]); // 64×64, global table of 2 colours
  const palette = Buffer.from([0, 0, 0, 255, 255, 255]);
  const loop = Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0', 'ascii'), 3, 1, 0, 0, 0]);
  // Graphic control (delay 0) + a 1×1 image at (0,0): LZW min code size 2, codes clear, 0, end.
  const frame = Buffer.from([0x21, 0xf9, 4, 0, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0]);
  return Buffer.concat([header, screen, palette, loop, ...Array.from({ length: frames }, () => frame), Buffer.from([0x3b])]);
}

/** A baseline JPEG whose SOF0 claims width × height, followed by a few bytes of scan data. */
export async function makeJpegClaiming(width: number, height: number): Promise<Buffer> {
  const small = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).jpeg({ quality: 50 }).toBuffer();
  const sof = small.indexOf(Buffer.from([0xff, 0xc0]));
  if (sof < 0) throw new Error('no SOF0 marker in the generated JPEG');
  const out = Buffer.from(small);
  out.writeUInt16BE(height, sof + 5);
  out.writeUInt16BE(width, sof + 7);
  return out;
}

/** Magic numbers, so that some random files get past format sniffing into the decoders. */
const MAGICS: Buffer[] = [
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  Buffer.from('GIF89a', 'ascii'),
  Buffer.concat([Buffer.from('RIFF', 'ascii'), Buffer.from([0x40, 0, 0, 0]), Buffer.from('WEBPVP8 ', 'ascii')]),
  Buffer.from([0x49, 0x49, 0x2a, 0x00]),
  Buffer.from([0, 0, 0, 0x1c, 0x66, 0x74, 0x79, 0x70, 0x61, 0x76, 0x69, 0x66]),
];

// --- images -------------------------------------------------------------------------------------

export async function makeImageCases(root: string): Promise<HostileCase[]> {
  const dir = join(root, 'images');
  mkdirSync(dir, { recursive: true });
  const out = (name: string): string => join(root, 'out', name);
  const one = (name: string, file: string, extra: Partial<HostileCase> & { exits: number[] }, flags: string[] = []): HostileCase => ({
    group: 'images',
    name,
    args: ['explain', file, '--out', out(name), ...AGE_MODEL, ...FAST, ...flags],
    out: out(name),
    ...extra,
  });
  const cases: HostileCase[] = [];

  // Decompression bombs. 16000² RGB is 768 MB decoded, under sharp's default pixel limit (16383²).
  const bomb = join(dir, 'bomb-16000.png');
  await sharp({ create: { width: 16000, height: 16000, channels: 3, background: 'black' } }).png({ compressionLevel: 9 }).toFile(bomb);
  cases.push(one('png 16000² under --max-pixels 4M', bomb, { exits: [1], codes: ['E_IMAGE_DECODE'], timeoutMs: 15_000 }, ['--max-pixels', '4000000']));
  cases.push(one('png 16000² at the default --max-pixels', bomb, { exits: [0], fineWhy: 'a real 256 Mpx image within the default limit: decoded and explained within the memory bound' }));
  const bombs = join(dir, 'bombs');
  mkdirSync(bombs);
  for (const n of ['a', 'b', 'c']) copyFileSync(bomb, join(bombs, `${n}.png`));
  cases.push({
    group: 'images',
    name: 'three 16000² pngs on 2 workers',
    args: ['explain', bombs, '--out', out('bombs'), ...AGE_MODEL, '--steps', '4', '--workers', '2', '-q'],
    out: out('bombs'),
    exits: [0],
    fineWhy: 'real images within the default limit; one after another they must not add up past the memory bound',
    batchFiles: ['a.png', 'b.png', 'c.png'],
    todo:
      'peak RSS 1.7–2.6 GB: read-image.ts decodes each image to a full-size Buffer (768 MB here) that only a GC frees, and no GC runs ' +
      'before the next decode allocates its own, so two coexist (even with --workers 1); needs decode+resize in one libvips pipeline',
  });
  const hugeHeader = join(dir, 'header-100000.png');
  writeFileSync(hugeHeader, makeHugePngHeader(100_000, 100_000));
  cases.push(one('png header claiming 100000²', hugeHeader, { exits: [1], codes: ['E_IMAGE_DECODE'], timeoutMs: 15_000 }));
  const jpegClaim = join(dir, 'claims-16000.jpg');
  writeFileSync(jpegClaim, await makeJpegClaiming(16_000, 16_000));
  cases.push(
    // libjpeg fills a scan cut short with grey and only warns; igx refuses it as truncated.
    one('jpeg header claiming 16000², 700 bytes of data', jpegClaim, { exits: [1], codes: ['E_IMAGE_DECODE'] }),
  );
  cases.push(one('jpeg header claiming 16000², --max-pixels 1M', jpegClaim, { exits: [1], codes: ['E_IMAGE_DECODE'], timeoutMs: 15_000 }, ['--max-pixels', '1000000']));
  const gif = join(dir, 'frames-20000.gif');
  writeFileSync(gif, makeManyFrameGif(20_000));
  cases.push(one('animated gif, 20000 frames', gif, { exits: [0], fineWhy: 'a valid GIF: igx decodes the first frame only' }));
  const tiffPages = 300;
  const strip = await sharp({ create: { width: 64, height: 64 * tiffPages, channels: 3, background: '#336699' } }).raw().toBuffer();
  const tiff = join(dir, 'pages-300.tiff');
  await sharp(strip, { raw: { width: 64, height: 64 * tiffPages, channels: 3, pageHeight: 64 } }).tiff().toFile(tiff);
  cases.push(one('multi-page tiff, 300 pages', tiff, { exits: [0], fineWhy: 'a valid TIFF: igx decodes the first page only' }));
  const svg = join(dir, 'drawing.svg');
  writeFileSync(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>');
  cases.push(one('svg', svg, { exits: [1], codes: ['E_IMAGE_DECODE'] }));
  const svgBomb = join(dir, 'filter-bomb.png');
  writeFileSync(
    svgBomb,
    '<svg xmlns="http://www.w3.org/2000/svg" width="30000" height="30000"><filter id="f"><feTurbulence baseFrequency="0.9" numOctaves="100"/><feGaussianBlur stdDeviation="900"/></filter><rect width="30000" height="30000" filter="url(#f)"/></svg>',
  );
  cases.push(one('svg filter bomb named .png', svgBomb, { exits: [1], codes: ['E_IMAGE_DECODE'], timeoutMs: 15_000 }));
  const empty = join(dir, 'empty.jpg');
  writeFileSync(empty, '');
  cases.push(one('zero-byte .jpg', empty, { exits: [1], codes: ['E_IMAGE_DECODE'] }));
  cases.push(one('/dev/zero as the image', '/dev/zero', { exits: [1], codes: ['E_IMAGE_READ'], timeoutMs: 15_000 }));
  cases.push(one('/dev/urandom as the image', '/dev/urandom', { exits: [1], codes: ['E_IMAGE_READ'], timeoutMs: 15_000 }));
  const fifoDir = join(dir, 'fifo');
  mkdirSync(fifoDir);
  execFileSync('mkfifo', [join(fifoDir, 'x.jpg')]);
  copyFileSync(fixture('images', 'cat.jpg'), join(fifoDir, 'cat.jpg'));
  cases.push({
    group: 'images',
    name: 'fifo x.jpg in a folder',
    args: ['explain', fifoDir, '--out', out('fifo'), ...AGE_MODEL, ...FAST],
    out: out('fifo'),
    exits: [0],
    fineWhy: 'the FIFO is skipped (not a regular file) without opening it; cat.jpg is explained',
    timeoutMs: 30_000,
  });
  cases.push(one('fifo given as the image path', join(fifoDir, 'x.jpg'), { exits: [1], codes: ['E_IMAGE_READ'], timeoutMs: 15_000 }));

  // Seeded random files with image extensions, some starting with a real magic number.
  const rng = createRng(16);
  const randomDir = join(dir, 'random');
  mkdirSync(randomDir);
  const randomFiles: string[] = [];
  for (let i = 0; i < 24; i += 1) {
    const ext = IMAGE_EXTENSIONS[i % IMAGE_EXTENSIONS.length] as string;
    const size = seededInt(rng, 1, 65_536);
    const magic = i % 2 === 0 ? (MAGICS[(i / 2) % MAGICS.length] as Buffer) : Buffer.alloc(0);
    const name = `random-${String(i).padStart(2, '0')}.${ext}`;
    writeFileSync(join(randomDir, name), Buffer.concat([magic, randomBytes(rng, size)]));
    randomFiles.push(name);
  }
  cases.push({
    group: 'images',
    name: 'random bytes with image extensions',
    args: ['explain', randomDir, '--out', out('random'), ...AGE_MODEL, ...FAST],
    out: out('random'),
    exits: [1],
    batchFiles: randomFiles,
    codes: ['E_IMAGE_DECODE'],
  });

  // Truncations of every fixture photo: a few bytes, and at two seeded fractions of its length.
  const truncDir = join(dir, 'truncated');
  mkdirSync(truncDir);
  const truncFiles: string[] = [];
  for (const photo of readdirSync(fixture('images')).sort()) {
    const bytes = readFileSync(fixture('images', photo));
    const stem = photo.replace(/\.[^.]+$/, '');
    const ext = photo.slice(stem.length);
    for (const [tag, length] of [
      ['10b', 10],
      ['head', seededInt(rng, 11, Math.floor(bytes.length / 2))],
      ['tail', seededInt(rng, Math.floor(bytes.length / 2), bytes.length - 2)],
    ] as const) {
      const name = `${stem}-${tag}${ext}`;
      writeFileSync(join(truncDir, name), bytes.subarray(0, length));
      truncFiles.push(name);
    }
  }
  cases.push({
    group: 'images',
    name: 'truncated fixture photos',
    args: ['explain', truncDir, '--out', out('truncated'), ...AGE_MODEL, ...FAST],
    out: out('truncated'),
    exits: [1],
    batchFiles: truncFiles,
    codes: ['E_IMAGE_DECODE'],
  });
  return cases;
}

// --- models -------------------------------------------------------------------------------------

const CAT = fixture('images', 'cat.jpg');

/** A copy of the age_64 graph model with a rewritten model.json (and whatever `plant` adds). */
function ageCopy(dir: string, edit?: (json: { weightsManifest: { paths: string[] }[] }) => void): string {
  mkdirSync(dir, { recursive: true });
  const json = JSON.parse(readFileSync(fixture('models', 'age_64', 'model.json'), 'utf8'));
  edit?.(json);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  copyFileSync(fixture('models', 'age_64', 'age.bin'), join(dir, 'age.bin'));
  return dir;
}

export function makeGraphModelCases(root: string): HostileCase[] {
  const dir = join(root, 'graph-models');
  const cases: HostileCase[] = [];
  const model = (name: string, modelPath: string, codes: string[], flags: string[] = []): HostileCase => ({
    group: 'models',
    name,
    args: ['explain', CAT, '--model', modelPath, '--out', join(root, 'out', name), '--preprocess', '[0,1]', ...FAST, ...flags],
    out: join(root, 'out', name),
    exits: [2],
    codes,
    timeoutMs: 30_000,
  });
  const outside = join(dir, 'outside.bin');
  mkdirSync(dir, { recursive: true });
  copyFileSync(fixture('models', 'age_64', 'age.bin'), outside);
  const rel = ageCopy(join(dir, 'rel'), (j) => (j.weightsManifest[0]!.paths = ['../outside.bin']));
  cases.push(model('weights path ../ outside the folder', rel, ['E_MODEL_PATH']));
  const abs = ageCopy(join(dir, 'abs'), (j) => (j.weightsManifest[0]!.paths = [outside]));
  cases.push(model('weights path absolute', abs, ['E_MODEL_PATH']));
  const link = ageCopy(join(dir, 'link'), (j) => (j.weightsManifest[0]!.paths = ['linked.bin']));
  symlinkSync(outside, join(link, 'linked.bin'));
  cases.push(model('weights path a symlink out of the folder', link, ['E_MODEL_PATH']));
  const proc = ageCopy(join(dir, 'proc'), (j) => (j.weightsManifest[0]!.paths = ['../../../../../../../../proc/self/environ']));
  cases.push(model('weights path ../ to /proc/self/environ', proc, ['E_MODEL_PATH']));
  const short = ageCopy(join(dir, 'short'));
  truncateSync(join(short, 'age.bin'), 161_240 - 4);
  cases.push(model('weight shard 4 bytes short', short, ['E_MODEL_INVALID']));
  const long = ageCopy(join(dir, 'long'));
  writeFileSync(join(long, 'age.bin'), Buffer.concat([readFileSync(join(long, 'age.bin')), Buffer.alloc(4)]));
  cases.push(model('weight shard 4 bytes long', long, ['E_MODEL_INVALID']));
  const devzero = ageCopy(join(dir, 'devzero'));
  rmSync(join(devzero, 'age.bin'));
  symlinkSync('/dev/zero', join(devzero, 'age.bin'));
  cases.push(model('weight shard a link to /dev/zero', devzero, ['E_MODEL_PATH', 'E_MODEL_INVALID']));
  const huge = join(dir, 'huge');
  mkdirSync(huge);
  writeFileSync(join(huge, 'model.json'), '{"format": "graph-model", "modelTopology": {"node": [');
  truncateSync(join(huge, 'model.json'), 300 * 1024 ** 2); // sparse: 300 MiB that cost no disk
  cases.push(model('model.json of 300 MiB (sparse)', huge, ['E_MODEL_INVALID']));
  const depth = 100_000;
  const nestedTop = join(dir, 'nested-top');
  mkdirSync(nestedTop);
  writeFileSync(join(nestedTop, 'model.json'), '['.repeat(depth) + ']'.repeat(depth));
  cases.push(model('model.json of 100k nested arrays', nestedTop, ['E_MODEL_INVALID']));
  const nestedInner = join(dir, 'nested-inner');
  mkdirSync(nestedInner);
  writeFileSync(join(nestedInner, 'model.json'), `{"format":"graph-model","modelTopology":{"node":[{"name":"x","op":"Placeholder","attr":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}]},"weightsManifest":[]}`);
  cases.push(model('model.json with a 100k-deep attr', nestedInner, ['E_MODEL_INVALID']));
  const nestedLayers = join(dir, 'nested-layers');
  mkdirSync(nestedLayers);
  writeFileSync(join(nestedLayers, 'model.json'), `{"format":"layers-model","modelTopology":{"class_name":"Sequential","config":{"layers":${'['.repeat(depth)}${']'.repeat(depth)}}},"weightsManifest":[]}`);
  cases.push(model('layers model.json with 100k-deep layers', nestedLayers, ['E_MODEL_INVALID']));
  const fifoModel = join(dir, 'fifo-json');
  mkdirSync(fifoModel);
  execFileSync('mkfifo', [join(fifoModel, 'model.json')]);
  cases.push(model('model.json is a FIFO', fifoModel, ['E_MODEL_INVALID', 'E_MODEL_NOT_FOUND']));
  cases.push(model('--model /dev/zero', '/dev/zero', ['E_MODEL_INVALID', 'E_MODEL_NOT_FOUND']));
  return cases;
}

/** ~150 mutations of the TF1 LeNet SavedModel (32×32×1): truncations, bit flips, broken variables. */
export function makeSavedModelCases(root: string): HostileCase[] {
  const source = fixture('savedmodels', 'lenet_tf1');
  const dir = join(root, 'savedmodels');
  const rng = createRng(1616);
  const cases: HostileCase[] = [];
  const pb = readFileSync(join(source, 'saved_model.pb'));
  const dataName = 'variables/variables.data-00000-of-00001';
  const data = readFileSync(join(source, dataName));
  const index = readFileSync(join(source, 'variables', 'variables.index'));
  let n = 0;
  const mutant = (what: string, mutate: (folder: string) => void): void => {
    n += 1;
    const name = `savedmodel ${String(n).padStart(3, '0')} ${what}`;
    const folder = join(dir, String(n));
    cpSync(source, folder, { recursive: true });
    mutate(folder);
    cases.push({
      group: 'models',
      name,
      args: ['explain', CAT, '--model', folder, '--out', join(root, 'out', `sm-${n}`), ...FAST],
      out: join(root, 'out', `sm-${n}`),
      exits: [0, 2],
      fineWhy: 'a mutation the reader cannot see (a flipped bit in a name or a weight) may leave a valid model',
      timeoutMs: 60_000,
    });
  };
  const write = (file: string, bytes: Buffer) => (folder: string) => writeFileSync(join(folder, file), bytes);
  for (let i = 0; i < 30; i += 1) {
    const at = i === 0 ? 0 : seededInt(rng, 1, pb.length);
    mutant(`saved_model.pb cut at ${at}`, write('saved_model.pb', pb.subarray(0, at)));
  }
  for (let i = 0; i < 40; i += 1) {
    const at = seededInt(rng, 0, pb.length);
    const bit = seededInt(rng, 0, 8);
    mutant(`saved_model.pb bit ${bit} of byte ${at} flipped`, write('saved_model.pb', flipBit(pb, at, bit)));
  }
  for (let i = 0; i < 10; i += 1) {
    const at = seededInt(rng, 0, pb.length - 8);
    const bytes = Buffer.from(pb);
    randomBytes(rng, 8).copy(bytes, at);
    mutant(`saved_model.pb 8 random bytes at ${at}`, write('saved_model.pb', bytes));
  }
  for (let i = 0; i < 10; i += 1) {
    const at = seededInt(rng, 0, data.length);
    mutant(`variables.data cut at ${at}`, write(dataName, data.subarray(0, at)));
  }
  for (let i = 0; i < 20; i += 1) {
    const at = seededInt(rng, 0, data.length);
    const bit = seededInt(rng, 0, 8);
    mutant(`variables.data bit ${bit} of byte ${at} flipped`, write(dataName, flipBit(data, at, bit)));
  }
  mutant('variables.index empty', write('variables/variables.index', Buffer.alloc(0)));
  for (let i = 0; i < 10; i += 1) {
    const at = seededInt(rng, 1, index.length);
    mutant(`variables.index cut at ${at}`, write('variables/variables.index', index.subarray(0, at)));
  }
  for (let i = 0; i < 20; i += 1) {
    const at = seededInt(rng, 0, index.length);
    const bit = seededInt(rng, 0, 8);
    mutant(`variables.index bit ${bit} of byte ${at} flipped`, write('variables/variables.index', flipBit(index, at, bit)));
  }
  mutant('variables.data replaced by random bytes', write(dataName, randomBytes(rng, data.length)));
  mutant('variables.data missing', (f) => unlinkSync(join(f, dataName)));
  mutant('variables.index missing', (f) => unlinkSync(join(f, 'variables', 'variables.index')));
  mutant('variables.data a FIFO', (f) => {
    unlinkSync(join(f, dataName));
    execFileSync('mkfifo', [join(f, dataName)]);
  });
  mutant('variables.index a link to /dev/zero', (f) => {
    unlinkSync(join(f, 'variables', 'variables.index'));
    symlinkSync('/dev/zero', join(f, 'variables', 'variables.index'));
  });
  mutant('saved_model.pb a FIFO', (f) => {
    unlinkSync(join(f, 'saved_model.pb'));
    execFileSync('mkfifo', [join(f, 'saved_model.pb')]);
  });
  mutant('saved_model.pb of 300 MiB (sparse)', (f) => truncateSync(join(f, 'saved_model.pb'), 300 * 1024 ** 2));
  mutant('saved_model.pb replaced by random bytes', write('saved_model.pb', randomBytes(rng, pb.length)));
  mutant('variables folder is a file', (f) => {
    rmSync(join(f, 'variables'), { recursive: true });
    writeFileSync(join(f, 'variables'), 'not a folder');
  });
  mutant('variables.index a folder', (f) => {
    unlinkSync(join(f, 'variables', 'variables.index'));
    mkdirSync(join(f, 'variables', 'variables.index'));
  });
  return cases;
}

/** 30 mutations of the small ONNX fixtures: truncations and bit flips in the graph and I/O. */
export function makeOnnxCases(root: string): HostileCase[] {
  const dir = join(root, 'onnx');
  const rng = createRng(1617);
  const cases: HostileCase[] = [];
  let n = 0;
  for (const model of ['densenet_mini', 'ch_ppocr_cls']) {
    const source = fixture('onnx', model);
    const bytes = readFileSync(join(source, 'model.onnx'));
    const sidecar = join(source, 'igx.json');
    const mutant = (what: string, mutated: Buffer): void => {
      n += 1;
      const folder = join(dir, String(n));
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'model.onnx'), mutated);
      try {
        copyFileSync(sidecar, join(folder, 'igx.json'));
      } catch {
        // densenet_mini has no igx.json
      }
      cases.push({
        group: 'models',
        name: `onnx ${String(n).padStart(2, '0')} ${model} ${what}`,
        args: ['explain', CAT, '--model', folder, '--out', join(root, 'out', `onnx-${n}`), '--preprocess', 'imagenet', ...FAST],
        out: join(root, 'out', `onnx-${n}`),
        exits: [0, 2],
        fineWhy: 'a flipped bit in a weight or a name may leave a valid model',
      });
    };
    for (let i = 0; i < 5; i += 1) {
      const at = seededInt(rng, 0, bytes.length);
      mutant(`cut at ${at}`, bytes.subarray(0, at));
    }
    // torch.onnx writes the nodes first and the graph's inputs and outputs last (field order), the
    // initializers between: flips at both ends hit structure rather than weights.
    for (let i = 0; i < 5; i += 1) {
      const at = seededInt(rng, 0, Math.min(8192, bytes.length));
      const bit = seededInt(rng, 0, 8);
      mutant(`bit ${bit} of byte ${at} flipped`, flipBit(bytes, at, bit));
    }
    for (let i = 0; i < 2; i += 1) {
      const at = seededInt(rng, bytes.length - 512, bytes.length);
      const bit = seededInt(rng, 0, 8);
      mutant(`bit ${bit} of byte ${at} flipped`, flipBit(bytes, at, bit));
    }
    mutant('64 random bytes in the graph', Buffer.concat([bytes.subarray(0, 200), randomBytes(rng, 64), bytes.subarray(264)]));
  }
  const unsupported = readFileSync(fixture('onnx', 'unsupported_ops', 'model.onnx'));
  for (let i = 0; i < 4; i += 1) {
    const at = seededInt(rng, 0, unsupported.length);
    const bit = seededInt(rng, 0, 8);
    n += 1;
    const file = join(dir, `unsupported-${n}.onnx`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, i === 0 ? unsupported : flipBit(unsupported, at, bit));
    cases.push({
      group: 'models',
      name: `onnx ${String(n).padStart(2, '0')} unsupported_ops ${i === 0 ? 'as is' : `bit ${bit} of byte ${at} flipped`}`,
      args: ['explain', CAT, '--model', file, '--out', join(root, 'out', `onnx-${n}`), ...FAST],
      out: join(root, 'out', `onnx-${n}`),
      exits: [2],
    });
  }
  return cases;
}

// --- config -------------------------------------------------------------------------------------

export function makeConfigCases(root: string): HostileCase[] {
  const dir = join(root, 'config');
  mkdirSync(dir, { recursive: true });
  const cases: HostileCase[] = [];
  let n = 0;
  /** The text as ./igx.config.json in a fresh working folder, or given with --config. */
  const config = (name: string, text: string | ((file: string) => void), how: 'cwd' | 'flag' = 'cwd', codes = ['E_CONFIG']): void => {
    n += 1;
    const cwd = join(dir, String(n));
    mkdirSync(cwd);
    const file = join(cwd, how === 'cwd' ? 'igx.config.json' : 'settings.json');
    if (typeof text === 'string') writeFileSync(file, text);
    else text(file);
    cases.push({
      group: 'config',
      name,
      args: ['explain', CAT, '--out', join(cwd, 'out'), ...AGE_MODEL, ...FAST, ...(how === 'flag' ? ['--config', file] : [])],
      cwd,
      out: join(cwd, 'out'),
      exits: [2],
      codes,
      timeoutMs: 20_000,
    });
  };
  config('steps: true', '{"steps": true}');
  config('steps: "many"', '{"steps": "many"}');
  config('steps: 1e9', '{"steps": 1e9}');
  config('steps: -3.5', '{"steps": -3.5}');
  config('baseline: 7', '{"baseline": 7}');
  config('mean: nested lists', '{"mean": [[1, 2], [3]]}');
  config('out: an object', '{"out": {"path": "x"}}');
  config('workers: null', '{"workers": null}');
  config('top level an array', '[{"steps": 4}]');
  config('top level a string', '"steps"');
  config('unknown key', '{"stepz": 4}', 'flag');
  config('__proto__ key', '{"__proto__": {"steps": 1, "polluted": true}}');
  config('constructor.prototype keys', '{"constructor": {"prototype": {"polluted": true}}}', 'flag');
  config('__proto__ key nested in baseline', '{"baseline": {"__proto__": ["black"]}}');
  config('100000 baselines', JSON.stringify({ baseline: Array.from({ length: 100_000 }, () => 'black') }));
  config('257 baselines', JSON.stringify({ baseline: Array.from({ length: 257 }, () => 'black') }), 'flag');
  config('100000 mean values', JSON.stringify({ mean: Array.from({ length: 100_000 }, (_, i) => i) }));
  config('100000 tags', JSON.stringify({ tags: Array.from({ length: 100_000 }, (_, i) => `t${i}`), steps: 'x' }));
  config('invalid JSON: cut short', '{"steps": 4,');
  config('invalid JSON: NaN', '{"steps": NaN}', 'flag');
  config('invalid JSON: comments', '// settings\n{"steps": 4}');
  config('empty file', '');
  config('100k nested arrays', '['.repeat(100_000) + ']'.repeat(100_000));
  config('100k nested objects under a key', `{"baseline": ${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`, 'flag');
  config('300 MiB config (sparse)', (file) => {
    writeFileSync(file, '{"baseline": ["');
    truncateSync(file, 300 * 1024 ** 2);
  }, 'flag');
  config('--config is a FIFO', (file) => execFileSync('mkfifo', [file]), 'flag');
  config('--config is a folder', (file) => mkdirSync(file), 'flag');
  // Paths with no file behind them: no folder is made for these.
  for (const [name, path] of [
    ['--config /dev/zero', '/dev/zero'],
    ['--config /dev/urandom', '/dev/urandom'],
    ['--config missing', join(dir, 'nope.json')],
  ] as const) {
    cases.push({
      group: 'config',
      name,
      args: ['explain', CAT, '--out', join(dir, `out-${basename(path)}`), ...AGE_MODEL, ...FAST, '--config', path],
      out: join(dir, `out-${basename(path)}`),
      exits: [2],
      codes: ['E_CONFIG'],
      timeoutMs: 20_000,
    });
  }
  // The model's igx.json sidecar is config too.
  for (const [name, text] of [
    ['sidecar igx.json unknown key', '{"preprocess": "[0,1]", "stepz": 3}'],
    ['sidecar igx.json wrong type', '{"preprocess": 7}'],
    ['sidecar igx.json __proto__', '{"__proto__": {"preprocess": "[0,1]"}}'],
    ['sidecar igx.json 100k labels', JSON.stringify({ labels: Array.from({ length: 100_000 }, (_, i) => `l${i}`) })],
    ['sidecar igx.json 100k nested', `{"labels": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
  ] as const) {
    n += 1;
    const folder = ageCopy(join(dir, String(n)));
    writeFileSync(join(folder, 'igx.json'), text);
    cases.push({
      group: 'config',
      name,
      args: ['explain', CAT, '--model', folder, '--out', join(folder, 'out'), ...FAST],
      out: join(folder, 'out'),
      // 100k labels for a one-output model are refused as a mismatch, not as a size.
      exits: [2],
      codes: ['E_CONFIG', 'E_MODEL_INVALID'],
      timeoutMs: 20_000,
    });
  }
  return cases;
}

// --- flags --------------------------------------------------------------------------------------

export function makeFlagCases(root: string): HostileCase[] {
  const dir = join(root, 'flags');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const cases: HostileCase[] = [];
  const flag = (name: string, flags: string[], exits = [2], codes = ['E_FLAG'], out = join(dir, `out-${cases.length}`)): void => {
    cases.push({
      group: 'flags',
      name,
      args: ['explain', CAT, ...AGE_MODEL, '--workers', '1', '-q', '--out', out, ...flags],
      out,
      exits,
      codes,
      timeoutMs: 20_000,
    });
  };
  flag('--steps 1e9', ['--steps', '1e9']);
  flag('--steps 1000000000', ['--steps', '1000000000']);
  flag('--steps -1', ['--steps', '-1']);
  flag('--steps 0x10', ['--steps', '0x10']);
  flag('--steps ""', ['--steps', '']);
  flag('--batch-size 0', ['--steps', '4', '--batch-size', '0']);
  flag('--batch-size 999999', ['--steps', '4', '--batch-size', '999999']);
  flag('--max-memory 1', ['--steps', '4', '--max-memory', '1']);
  flag('--max-memory 1e99GB', ['--steps', '4', '--max-memory', '1e99GB']);
  flag('--workers 0', ['--steps', '4', '--workers', '0']);
  flag('--workers 100000', ['--steps', '4', '--workers', '100000']);
  flag('--max-pixels 0', ['--steps', '4', '--max-pixels', '0']);
  flag('--tolerance NaN', ['--tolerance', 'NaN']);
  flag('--seed -5', ['--steps', '4', '--seed', '-5']);
  flag('--baseline-samples 1e6', ['--steps', '4', '--baseline-samples', '1000000']);
  flag('--smooth 1e9', ['--steps', '4', '--smooth', '1000000000']);
  flag('unknown flag --frobnicate', ['--steps', '4', '--frobnicate']);
  flag('unknown flag --steps=4=4', ['--steps=4=4']);
  flag('--out /proc/igx-out', ['--steps', '4'], [1, 2], ['E_WRITE', 'E_FLAG'], '/proc/igx-out');
  flag('--out is a regular file', ['--steps', '4'], [1, 2], ['E_WRITE', 'E_FLAG'], file);
  flag('--out /dev/null', ['--steps', '4'], [1, 2], ['E_WRITE', 'E_FLAG'], '/dev/null');
  return cases;
}
