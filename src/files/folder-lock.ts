import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { IgxError } from '../errors.js';
import { tempPathFor } from './atomic-write.js';

/** What a lock file holds: who writes the folder, so a second run can name it and a dead one can be told apart. */
interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

export interface FolderLock {
  path: string;
  release(): Promise<void>;
}

/**
 * Takes `<dir>/.<name>.lock` for this process, so that two runs writing one manifest into one folder
 * cannot mix their files. The lock file appears with its content at once (written aside, then
 * hard-linked: link fails if the lock exists), so a reader never sees it half-written. A lock left by
 * a process of this host that no longer lives (SIGKILL, a power cut) is taken over.
 */
export async function lockFolder(folder: { dir: string; name: string }): Promise<FolderLock> {
  const path = join(folder.dir, `.${folder.name}.lock`);
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const aside = tempPathFor(join(folder.dir, folder.name));
  await writeFile(aside, JSON.stringify(me));
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await createFrom(aside, path, me);
        return { path, release: () => rm(path, { force: true }) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
        const owner = await readOwner(path);
        if (owner !== undefined && !isGone(owner)) throw lockedError(folder.dir, path, owner);
        await rm(path, { force: true });
      }
    }
  } finally {
    await rm(aside, { force: true });
  }
}

/** link() where the file system has hard links; else an exclusive create, written at once. */
async function createFrom(aside: string, path: string, me: LockOwner): Promise<void> {
  try {
    await link(aside, path);
  } catch (err) {
    if (!['EPERM', 'ENOTSUP', 'ENOSYS', 'EXDEV'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    await writeFile(path, JSON.stringify(me), { flag: 'wx' });
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? (owner as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the owner has surely ended: only a process of this host can be asked. */
function isGone(owner: LockOwner): boolean {
  return owner.host === hostname() && isProcessGone(owner.pid);
}

/** Whether no process of this host has `pid` (one of another user still counts as alive). */
export function isProcessGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function lockedError(dir: string, path: string, owner: LockOwner): IgxError {
  const who = `pid ${owner.pid}${owner.host === hostname() ? '' : ` on ${owner.host}`}, started ${owner.startedAt}`;
  return new IgxError(
    'E_OUT_LOCKED',
    `--out ${dir}: another igx run (${who}) is writing there; wait for it or choose another --out (if no run is alive, remove ${basename(path)})`,
  );
}
