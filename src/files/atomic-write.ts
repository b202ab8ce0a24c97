import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IgxError } from '../errors.js';

/** `.<name>.<pid>.<12 hex>.tmp` beside `path`: hidden, unique, and telling which process wrote it. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

const TEMP_NAME = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/** The pid in a name tempPathFor made; undefined for any other name. */
export function parseTempName(name: string): { pid: number } | undefined {
  const m = TEMP_NAME.exec(name);
  return m ? { pid: Number(m[1]) } : undefined;
}

/**
 * Write `bytes` to `path` so that readers see either the old file or the complete new one: write a
 * hidden temporary file in the same folder (so the rename stays on one file system), flush it to
 * disk, then rename it over `path`. The folder must exist. On failure the temporary file is removed
 * and E_WRITE names `path`.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(path);
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
