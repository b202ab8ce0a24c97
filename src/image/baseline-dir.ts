import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { IgxError } from '../errors.js';
import { createRng } from '../numeric/rng.js';

/** File endings sharp decodes; other files in a baseline folder are skipped. */
export const BASELINE_IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

/**
 * Expected gradients (Erion et al. 2021) as igx offers it, `--baseline-dir DIR --baseline-samples K`:
 * K distinct image files of DIR (not its sub-folders) drawn with the seeded RNG, each then used as an
 * image baseline (averaging IG over them estimates the expectation over the folder's distribution).
 * Files are listed in code-point order before the draw, so the same folder and seed give the same
 * files on every machine. E_BASELINE when the folder cannot be read or holds fewer than K images.
 */
export async function pickBaselineFiles(dir: string, k: number, seed: number): Promise<string[]> {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a whole number ≥ 1, got ${k}`);
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries
      .filter((e) => e.isFile() && BASELINE_IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (err) {
    throw new IgxError('E_BASELINE', `--baseline-dir ${dir}: cannot read the folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  if (names.length < k) {
    throw new IgxError('E_BASELINE', `--baseline-dir ${dir}: ${k} baseline(s) asked for, but the folder holds ${names.length} image file(s)`);
  }
  // Partial Fisher–Yates: the first k of a seeded shuffle.
  const rng = createRng(seed);
  const pool = [...names];
  for (let i = 0; i < k; i += 1) {
    const j = i + Math.floor(rng.next() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j] as string, pool[i] as string];
  }
  return pool.slice(0, k).map((name) => join(dir, name));
}
