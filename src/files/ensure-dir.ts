/**
 * mkdir -p, one level at a time. Node's own recursive mkdir spins for ever where a folder can neither
 * be made nor found (`/proc/igx-out`: ENOENT and EEXIST in turn); here each level is made once, and the
 * first level that cannot be made is the error.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** Makes `path` and any missing parents; an existing folder is fine. Throws the failing level's fs error. */
export async function ensureDir(path: string): Promise<void> {
  const missing: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      if ((await stat(dir)).isDirectory()) break;
      throw Object.assign(new Error(`'${dir}' is not a folder`), { code: 'ENOTDIR' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (err) {
      // Made meanwhile by another process: fine, when it is a folder.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !(await stat(dir)).isDirectory()) throw err;
    }
  }
}
