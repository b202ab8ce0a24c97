/**
 * A reader for the LevelDB table format that TensorFlow writes as a checkpoint's `.index` file
 * (tensorflow/core/lib/io/table*): data blocks of prefix-compressed key/value entries with restart
 * points, an index block pointing at them, and a 48-byte footer. Every block's masked CRC-32C is checked;
 * blocks may be Snappy-compressed.
 */
import { IgxError } from '../errors.js';
import { crc32cExtend, unmaskCrc } from './crc32c.js';
import { snappyUncompress } from './snappy.js';

export interface TableEntry {
  key: string;
  value: Uint8Array;
}

const FOOTER_SIZE = 48;
const BLOCK_TRAILER_SIZE = 5;
const MAGIC = [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb];
const utf8 = new TextDecoder('utf-8');

class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    private readonly end: number,
    private readonly fail: (why: string) => never,
  ) {}

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('a varint runs past its block');
      const b = this.bytes[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) this.fail('a varint is too large');
        return result;
      }
      scale *= 128;
    }
    return this.fail('a varint is longer than 10 bytes');
  }
}

function readU32(bytes: Uint8Array, pos: number): number {
  return ((bytes[pos] as number) | ((bytes[pos + 1] as number) << 8) | ((bytes[pos + 2] as number) << 16) | ((bytes[pos + 3] as number) << 24)) >>> 0;
}

interface BlockHandle {
  offset: number;
  size: number;
}

/** Parses a whole table held in memory; `file` names it in errors. */
export function readTable(bytes: Uint8Array, file: string): TableEntry[] {
  const fail = (why: string): never => {
    throw new IgxError('E_MODEL_INVALID', `${file}: not a valid checkpoint index (LevelDB table): ${why}`);
  };
  if (bytes.length < FOOTER_SIZE) fail(`${bytes.length} bytes, shorter than the ${FOOTER_SIZE}-byte footer`);
  const footerStart = bytes.length - FOOTER_SIZE;
  for (let i = 0; i < 8; i++) {
    if (bytes[footerStart + 40 + i] !== MAGIC[i]) fail('the footer lacks the table magic number (truncated or not a table)');
  }
  const footer = new Cursor(bytes, footerStart, footerStart + 40, fail);
  const handle = (): BlockHandle => ({ offset: footer.varint(), size: footer.varint() });
  handle(); // metaindex: filter blocks, which a full scan does not need
  const index = handle();

  const entries: TableEntry[] = [];
  for (const indexEntry of readBlock(bytes, index, { what: 'index block', file, fail })) {
    const c = new Cursor(indexEntry.value, 0, indexEntry.value.length, fail);
    const dataHandle = { offset: c.varint(), size: c.varint() };
    for (const entry of readBlock(bytes, dataHandle, { what: `data block at byte ${dataHandle.offset}`, file, fail })) {
      entries.push({ key: utf8.decode(entry.key), value: entry.value });
    }
  }
  return entries;
}

/** What `readBlock` reads, for its messages: the block (`what`) and the table `file`, and how it fails. */
interface BlockContext {
  what: string;
  file: string;
  fail: (why: string) => never;
}

function readBlock(bytes: Uint8Array, handle: BlockHandle, { what, file, fail }: BlockContext): { key: Uint8Array; value: Uint8Array }[] {
  const { offset } = handle;
  let { size } = handle;
  if (offset + size + BLOCK_TRAILER_SIZE > bytes.length - FOOTER_SIZE) {
    fail(`${what} [${offset}, ${offset + size}) runs past the end of the file`);
  }
  const raw = bytes.subarray(offset, offset + size);
  const type = bytes[offset + size] as number;
  const stored = unmaskCrc(readU32(bytes, offset + size + 1));
  const actual = crc32cExtend(crc32cExtend(0, raw), bytes.subarray(offset + size, offset + size + 1));
  if (stored !== actual) {
    throw new IgxError(
      'E_MODEL_CHECKSUM',
      `${file}: ${what} fails its CRC32C check (stored ${stored.toString(16)}, computed ${actual.toString(16)}); the checkpoint index is corrupt`,
    );
  }
  let contents: Uint8Array;
  if (type === 0) contents = raw;
  else if (type === 1) {
    try {
      contents = snappyUncompress(raw);
    } catch (err) {
      return fail(`${what} does not decompress (${(err as Error).message})`);
    }
  } else return fail(`${what} has unknown compression type ${type}`);
  size = contents.length;
  if (size < 4) fail(`${what} is ${size} bytes, too short for its restart count`);
  const numRestarts = readU32(contents, size - 4);
  const restartsStart = size - 4 - 4 * numRestarts;
  if (numRestarts < 1 || restartsStart < 0) fail(`${what} has an impossible restart count ${numRestarts}`);

  const out: { key: Uint8Array; value: Uint8Array }[] = [];
  const c = new Cursor(contents, 0, restartsStart, fail);
  let lastKey = new Uint8Array(0);
  while (c.pos < restartsStart) {
    const shared = c.varint();
    const nonShared = c.varint();
    const valueLength = c.varint();
    if (shared > lastKey.length) fail(`${what}: an entry shares ${shared} key bytes with a ${lastKey.length}-byte previous key`);
    if (c.pos + nonShared + valueLength > restartsStart) fail(`${what}: an entry runs past the block's entries`);
    const key = new Uint8Array(shared + nonShared);
    key.set(lastKey.subarray(0, shared), 0);
    key.set(contents.subarray(c.pos, c.pos + nonShared), shared);
    c.pos += nonShared;
    out.push({ key, value: contents.subarray(c.pos, c.pos + valueLength) });
    c.pos += valueLength;
    lastKey = key;
  }
  return out;
}
