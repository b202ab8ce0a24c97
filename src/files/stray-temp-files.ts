import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTempName } from './atomic-write.js';
import { isProcessGone } from './folder-lock.js';

/**
 * Removes, under `dir`, the temporary files (tempPathFor's names) of processes that no longer live: what
 * a run killed mid-write (SIGKILL, a power cut) left. Those of live processes (a shard writing the same
 * folder) stay. Symlinks are not followed. Returns how many were removed.
 */
export async function removeStrayTempFiles(dir: string): Promise<number> {
  let removed = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      removed += await removeStrayTempFiles(path);
      continue;
    }
    const temp = e.isFile() ? parseTempName(e.name) : undefined;
    if (temp !== undefined && temp.pid !== process.pid && isProcessGone(temp.pid)) {
      await rm(path, { force: true });
      removed += 1;
    }
  }
  return removed;
}
