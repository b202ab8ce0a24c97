/**
 * Turns the command line's inputs (files, folders, globs, mixed) into a stream of images to explain.
 * Folders are walked one at a time with their entries sorted, so the order is the same on every machine
 * (shards depend on it) and memory holds one folder's names, never the whole tree.
 */
import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import sharp from 'sharp';

/** Extensions igx treats as images without looking inside: a broken one becomes a failed row, not a skip. */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif']);

export type DiscoveredInput =
  /** An image to explain (or to fail on, if it turns out unreadable). */
  | { kind: 'image'; path: string; relPath: string }
  /** A file that is not an image; counted, not explained. */
  | { kind: 'skipped'; path: string; relPath: string; reason: string }
  /** Something that could not be walked: a symlink loop, an unreadable folder, a missing input. */
  | { kind: 'error'; path: string; relPath: string; code: 'E_INPUT_LOOP' | 'E_IMAGE_READ'; message: string };

const toPosix = (p: string): string => p.split(sep).join('/');
const hasGlobChars = (s: string): boolean => picomatch.scan(s).isGlob;

/** The folder an input lives under: the file's folder, the folder itself, or a glob's static base. */
async function computeInputBase(arg: string): Promise<string> {
  if (hasGlobChars(arg)) {
    try {
      await stat(arg);
      // A real file whose name looks like a glob: take it as a path.
    } catch {
      return resolve(picomatch.scan(arg).base || '.');
    }
  }
  try {
    return (await stat(arg)).isDirectory() ? resolve(arg) : dirname(resolve(arg));
  } catch {
    return dirname(resolve(arg));
  }
}

/**
 * The deepest folder holding every input: outputs mirror the inputs' paths below it, so a/cat.jpg and
 * b/cat.jpg get different outputs, and a single photo.jpg gives OUT/photo.ig.png.
 */
export async function computeRunRoot(args: string[]): Promise<string> {
  const bases = await Promise.all(args.map(computeInputBase));
  const isInside = (dir: string, p: string): boolean => {
    const rel = relative(dir, p);
    return !rel.startsWith('..') && !isAbsolute(rel);
  };
  let root = bases[0] ?? resolve('.');
  for (const b of bases.slice(1)) {
    while (!isInside(root, b) && root !== dirname(root)) root = dirname(root);
  }
  return root;
}

/** Looks inside a file with an unknown extension: sharp reads only the header. */
async function isImageByContent(path: string): Promise<boolean> {
  try {
    const meta = await sharp(path, { failOn: 'none' }).metadata();
    return Boolean(meta.format && meta.width && meta.height);
  } catch {
    return false;
  }
}

/** What stays the same while one command-line input is walked, folder by folder. */
interface FolderWalk {
  /** The run root: relPath is relative to it. */
  root: string;
  /** The folder the input names (a glob's static base): `matches` sees paths relative to it. */
  base: string;
  /** The real paths of the folders being walked above this one, to catch symlink loops. */
  ancestors: Set<string>;
  /** A glob's test; undefined takes every file. */
  matches: ((relToBase: string) => boolean) | undefined;
  /** False when only counting: a file of unknown extension is not opened (it yields one input either way). */
  sniffs: boolean;
}

async function* walkFolder(folder: string, walk: FolderWalk): AsyncGenerator<DiscoveredInput> {
  const { root, base, ancestors, matches } = walk;
  let real: string;
  let entries: Dirent[];
  try {
    real = await realpath(folder);
    entries = await readdir(folder, { withFileTypes: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const isLoop = e.code === 'ELOOP';
    yield {
      kind: 'error',
      path: folder,
      relPath: toPosix(relative(root, folder)),
      code: isLoop ? 'E_INPUT_LOOP' : 'E_IMAGE_READ',
      message: isLoop ? `symlink loop at folder '${folder}'` : `cannot read folder '${folder}': ${e.code ?? e.message}`,
    };
    return;
  }
  if (ancestors.has(real)) {
    yield {
      kind: 'error',
      path: folder,
      relPath: toPosix(relative(root, folder)),
      code: 'E_INPUT_LOOP',
      message: `symlink loop: '${folder}' leads back to '${real}', which is already being walked`,
    };
    return;
  }
  ancestors.add(real);
  try {
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(folder, entry.name);
      const relPath = toPosix(relative(root, path));
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const s = await stat(path);
          isDir = s.isDirectory();
          isFile = s.isFile();
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          yield e.code === 'ELOOP'
            ? { kind: 'error', path, relPath, code: 'E_INPUT_LOOP', message: `symlink loop at '${path}'` }
            : { kind: 'error', path, relPath, code: 'E_IMAGE_READ', message: `broken symlink '${path}': ${e.code ?? e.message}` };
          continue;
        }
      }
      if (isDir) {
        yield* walkFolder(path, walk);
      } else if (isFile) {
        if (matches && !matches(toPosix(relative(base, path)))) continue;
        const ext = entry.name.slice(entry.name.lastIndexOf('.')).toLowerCase();
        if (entry.name.includes('.') && IMAGE_EXTENSIONS.has(ext)) yield { kind: 'image', path, relPath };
        else if (!walk.sniffs || (await isImageByContent(path))) yield { kind: 'image', path, relPath };
        else yield { kind: 'skipped', path, relPath, reason: 'not an image' };
      } else if (!matches || matches(toPosix(relative(base, path)))) {
        // A FIFO, socket or device: never opened (a FIFO would block), but counted.
        yield { kind: 'skipped', path, relPath, reason: 'not a regular file' };
      }
    }
  } finally {
    ancestors.delete(real);
  }
}

/**
 * Every input, in command-line order; folders recursively. A file named on the command line is always
 * an image to try (a broken one fails loudly); files found in folders are images by extension or content.
 */
export async function* discoverInputs(args: string[], root: string, options: { sniffs?: boolean } = {}): AsyncGenerator<DiscoveredInput> {
  const sniffs = options.sniffs ?? true;
  for (const arg of args) {
    let info: Awaited<ReturnType<typeof stat>> | undefined;
    try {
      info = await stat(arg);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (hasGlobChars(arg) && e.code === 'ENOENT') {
        const scan = picomatch.scan(arg);
        const base = resolve(scan.base || '.');
        const isMatch = picomatch(scan.glob, { dot: false });
        yield* walkFolder(base, { root, base, ancestors: new Set(), matches: (rel) => isMatch(rel), sniffs });
        continue;
      }
      const relPath = toPosix(relative(root, resolve(arg)));
      yield e.code === 'ELOOP'
        ? { kind: 'error', path: arg, relPath, code: 'E_INPUT_LOOP', message: `symlink loop at '${arg}'` }
        : // A missing file is the image's failure, reported like any unreadable image.
          { kind: 'image', path: arg, relPath };
      continue;
    }
    if (info.isDirectory()) yield* walkFolder(resolve(arg), { root, base: resolve(arg), ancestors: new Set(), matches: undefined, sniffs });
    else yield { kind: 'image', path: arg, relPath: toPosix(relative(root, resolve(arg))) };
  }
}

/**
 * How many inputs discoverInputs will yield that `keep` accepts: the same walk without opening any file,
 * so a progress line can show the total while the images are explained.
 */
export async function countInputs(args: string[], root: string, keep: (relPath: string) => boolean): Promise<number> {
  let count = 0;
  for await (const input of discoverInputs(args, root, { sniffs: false })) if (keep(input.relPath)) count += 1;
  return count;
}
