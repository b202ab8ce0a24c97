/**
 * Reading a file someone else named: only a regular file, and only up to a size. A FIFO would block the
 * read for ever and /dev/zero would never end; both are refused before a byte is read.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { IgxError, type ErrorCode } from '../errors.js';

export interface ReadLimits {
  /** Refuse larger files: a bound on what one file may cost in memory. */
  maxBytes: number;
  /** The code the refusals carry, e.g. E_IMAGE_READ. */
  code: ErrorCode;
  /** What the file is, for messages: "image file", "model JSON". */
  what: string;
  /** The code when the file does not exist, if not `code`. */
  missingCode?: ErrorCode;
}

/** What a file that is not regular is, for messages. */
function describeKind(s: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isDirectory(): boolean }): string {
  if (s.isFIFO()) return 'a FIFO';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isSocket()) return 'a socket';
  if (s.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/** Reads to the end, refusing past maxBytes: a size stat reported can be wrong (files in /proc say 0). */
async function readAtMost(handle: FileHandle, limits: ReadLimits, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(1 << 20, limits.maxBytes + 1 - total));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > limits.maxBytes) throw new IgxError(limits.code, `cannot read ${limits.what} '${path}': more than the ${limits.maxBytes} bytes igx reads for one`);
  }
}

/** Opens `path` read-only when it is a regular file of at most maxBytes, and passes its handle and size. */
async function withRegularFile<T>(path: string, limits: ReadLimits, use: (handle: FileHandle, size: number) => Promise<T>): Promise<T> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const code = e.code === 'ENOENT' ? (limits.missingCode ?? limits.code) : limits.code;
    throw new IgxError(code, `cannot read ${limits.what} '${path}': ${e.code ?? e.message}`, { cause: err });
  }
  try {
    const s = await handle.stat();
    if (!s.isFile()) throw new IgxError(limits.code, `cannot read ${limits.what} '${path}': it is ${describeKind(s)}, not a regular file`);
    if (s.size > limits.maxBytes) {
      throw new IgxError(limits.code, `cannot read ${limits.what} '${path}': ${s.size} bytes, more than the ${limits.maxBytes} igx reads for one`);
    }
    return await use(handle, s.size);
  } catch (err) {
    if (err instanceof IgxError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new IgxError(limits.code, `cannot read ${limits.what} '${path}': ${e.code ?? e.message}`, { cause: err });
  } finally {
    await handle.close();
  }
}

/**
 * The bytes of `path` when it is a regular file of at most maxBytes. Opened non-blocking, so that a FIFO
 * is seen for what it is instead of waiting for a writer. Errors: IgxError with `limits.code`, one line.
 */
export async function readRegularFile(path: string, limits: ReadLimits): Promise<Buffer> {
  return withRegularFile(path, limits, (handle) => readAtMost(handle, limits, path));
}

/**
 * The first `headBytes` and last `tailBytes` of a regular file (fewer when it is shorter) and its size:
 * enough to tell whether a large output is whole without reading it.
 */
export async function readFileEnds(path: string, limits: ReadLimits, ends: { headBytes: number; tailBytes: number }): Promise<{ head: Buffer; tail: Buffer; size: number }> {
  return withRegularFile(path, limits, async (handle, size) => {
    const read = async (length: number, position: number): Promise<Buffer> => {
      const buf = Buffer.alloc(Math.max(0, length));
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      return buf.subarray(0, bytesRead);
    };
    const tailBytes = Math.min(ends.tailBytes, size);
    return { head: await read(Math.min(ends.headBytes, size), 0), tail: await read(tailBytes, size - tailBytes), size };
  });
}
