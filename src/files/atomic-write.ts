import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IgxError } from '../errors.js';

/**
 * Write `bytes` to `path` so that readers see either the old file or the complete new one: write a
 * hidden temporary file in the same folder (so the rename stays on one file system), flush it to
 * disk, then rename it over `path`. The folder must exist. On failure the temporary file is removed
 * and E_WRITE names `path`.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    throw new IgxError('E_WRITE', `cannot write '${path}': ${reason}`, { cause: err });
  }
}
