import { readFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { readFileEnds } from '../files/read-regular-file.js';
import { npyFileBytes, parseNpyHeader } from '../report/npy.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A PNG ends with an empty IEND chunk: length 0, type, CRC. */
const PNG_END = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

/**
 * --resume: nothing to do for an image whose report is for the same bytes and the same outcome config
 * and whose every output file is whole. igx writes each file whole (renamed into place), so a short or
 * missing one was damaged or removed after the run: the image is done again rather than trusted.
 */
export async function isAlreadyDone(reportPath: string, expected: { sha256: string; configHash: string }): Promise<boolean> {
  try {
    const report = JSON.parse(await readFile(reportPath, 'utf8')) as {
      image?: { sha256?: string };
      configHash?: string;
      outputs?: Record<string, string | null>;
    };
    if (report.image?.sha256 !== expected.sha256 || report.configHash !== expected.configHash) return false;
    const files = Object.values(report.outputs ?? {}).filter((f): f is string => typeof f === 'string');
    if (files.length === 0) return false;
    for (const name of files) {
      if (!(await isWholeOutput(join(dirname(reportPath), name)))) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** A PNG from signature to IEND, a .npy whose size its header accounts for, anything else non-empty. */
async function isWholeOutput(path: string): Promise<boolean> {
  // The head and the tail suffice: a .npy header is well under 64 KiB.
  const { head, tail, size } = await readFileEnds(path, { maxBytes: Number.MAX_SAFE_INTEGER, what: 'output', code: 'E_WRITE' }, { headBytes: 1 << 16, tailBytes: PNG_END.length });
  switch (extname(path)) {
    case '.png':
      return size > PNG_SIGNATURE.length + PNG_END.length && PNG_SIGNATURE.equals(head.subarray(0, 8)) && PNG_END.equals(tail);
    case '.npy':
      return size === npyFileBytes(parseNpyHeader(head));
    default:
      return size > 0;
  }
}
