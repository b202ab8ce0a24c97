/**
 * TensorFlow's checkpoint format (TensorBundle, tensorflow/core/util/tensor_bundle): `PREFIX.index` is a
 * LevelDB table whose "" key holds a BundleHeaderProto and whose other keys hold BundleEntryProtos; the
 * tensor bytes lie in `PREFIX.data-NNNNN-of-NNNNN` shards, each tensor with its masked CRC-32C.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { IgxError } from '../errors.js';
import { readRegularFile } from '../files/read-regular-file.js';
import { crc32cExtend, unmaskCrc } from './crc32c.js';
import { readTable } from './leveldb-table.js';
import { protoType } from './proto.js';
import { DT, bytesPerElement, decodeTensorBytes, dtypeName, elementCount, readShape, toNumber, type TensorShapeProtoLike, type TensorValue } from './tensor-value.js';

export interface BundleEntry {
  key: string;
  /** tensorflow.DataType */
  dtype: number;
  shape: number[];
  shardId: number;
  offset: number;
  size: number;
  /** Masked, as stored. */
  crc32c: number;
  /** A partitioned variable, stored as slices under other keys (not supported). */
  sliced: boolean;
}

interface BundleEntryMessage {
  dtype?: number;
  shape?: TensorShapeProtoLike;
  shardId?: number;
  offset?: unknown;
  size?: unknown;
  crc32c?: number;
  slices?: unknown[];
}

/** The largest variables index igx reads (256 MiB): it holds one small entry per variable. */
const MAX_INDEX_BYTES = 2 ** 28;

function pad5(n: number): string {
  return String(n).padStart(5, '0');
}

export class TensorBundle {
  private constructor(
    /** The path prefix: `.../variables/variables`. */
    readonly prefix: string,
    readonly numShards: number,
    private readonly entries: Map<string, BundleEntry>,
  ) {}

  get indexPath(): string {
    return `${this.prefix}.index`;
  }

  shardPath(shardId: number): string {
    return `${this.prefix}.data-${pad5(shardId)}-of-${pad5(this.numShards)}`;
  }

  /** Reads and checks `PREFIX.index`. Errors: E_MODEL_INVALID (missing, malformed), E_MODEL_CHECKSUM. */
  static async open(prefix: string): Promise<TensorBundle> {
    const indexPath = `${prefix}.index`;
    // A regular file within a bound: an index linked to /dev/zero was read until the process passed 3 GB.
    const bytes = await readRegularFile(indexPath, { maxBytes: MAX_INDEX_BYTES, code: 'E_MODEL_INVALID', what: 'variables index' });
    const table = readTable(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), indexPath);
    const Header = protoType('BundleHeaderProto');
    const Entry = protoType('BundleEntryProto');
    let numShards: number | undefined;
    const entries = new Map<string, BundleEntry>();
    for (const { key, value } of table) {
      if (key === '') {
        let header: { numShards?: number; endianness?: number };
        try {
          header = Header.decode(value) as unknown as typeof header;
        } catch (err) {
          throw new IgxError('E_MODEL_INVALID', `${indexPath}: the bundle header does not parse (${(err as Error).message})`, { cause: err });
        }
        if (header.endianness === 1) {
          throw new IgxError('E_MODEL_INVALID', `${indexPath}: the checkpoint was written big-endian; igx reads little-endian checkpoints`);
        }
        numShards = header.numShards ?? 0;
        continue;
      }
      let m: BundleEntryMessage;
      try {
        m = Entry.decode(value) as unknown as BundleEntryMessage;
      } catch (err) {
        throw new IgxError('E_MODEL_INVALID', `${indexPath}: the entry for '${key}' does not parse (${(err as Error).message})`, { cause: err });
      }
      entries.set(key, {
        key,
        dtype: m.dtype ?? 0,
        shape: readShape(m.shape) ?? [],
        shardId: m.shardId ?? 0,
        offset: toNumber(m.offset),
        size: toNumber(m.size),
        crc32c: (m.crc32c ?? 0) >>> 0,
        sliced: (m.slices?.length ?? 0) > 0,
      });
    }
    if (numShards === undefined || numShards < 1) {
      throw new IgxError('E_MODEL_INVALID', `${indexPath}: the variables index has no bundle header (the "" entry) with a shard count`);
    }
    return new TensorBundle(prefix, numShards, entries);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  entry(key: string): BundleEntry | undefined {
    return this.entries.get(key);
  }

  /**
   * Reads tensors (checking each CRC) with one open per shard. Errors: E_MODEL_INVALID (unknown key,
   * missing or short shard, unsupported dtype or partitioned variable), E_MODEL_CHECKSUM.
   */
  async readMany(keys: readonly string[]): Promise<Map<string, TensorValue>> {
    const byShard = new Map<number, BundleEntry[]>();
    for (const key of keys) {
      const e = this.entries.get(key);
      if (e === undefined) throw new IgxError('E_MODEL_INVALID', `${this.indexPath}: the checkpoint has no tensor '${key}'`);
      if (e.sliced) {
        throw new IgxError('E_MODEL_INVALID', `${this.indexPath}: '${key}' is a partitioned variable (stored in slices), which igx does not read`);
      }
      if (e.shardId < 0 || e.shardId >= this.numShards) {
        throw new IgxError('E_MODEL_INVALID', `${this.indexPath}: '${key}' names shard ${e.shardId}, but the bundle has ${this.numShards}`);
      }
      const list = byShard.get(e.shardId) ?? [];
      list.push(e);
      byShard.set(e.shardId, list);
    }
    const out = new Map<string, TensorValue>();
    for (const [shardId, list] of byShard) {
      const path = this.shardPath(shardId);
      let fh;
      try {
        // Non-blocking, so a FIFO shard is refused below instead of waiting for a writer for ever.
        fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new IgxError(
          'E_MODEL_INVALID',
          `${path}: variables shard ${shardId} of ${this.numShards} ${code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? (err as Error).message})`}`,
          { cause: err },
        );
      }
      try {
        const stats = await fh.stat();
        if (!stats.isFile()) throw new IgxError('E_MODEL_INVALID', `${path}: variables shard ${shardId} of ${this.numShards} is not a regular file`);
        const fileSize = stats.size;
        for (const e of list) {
          if (e.offset + e.size > fileSize) {
            throw new IgxError(
              'E_MODEL_INVALID',
              `${path}: '${e.key}' lies at bytes [${e.offset}, ${e.offset + e.size}) but the shard has ${fileSize} bytes (truncated)`,
            );
          }
          const bytes = new Uint8Array(e.size);
          if (e.size > 0) await fh.read(bytes, 0, e.size, e.offset);
          out.set(e.key, decodeEntry(e, bytes, path));
        }
      } finally {
        await fh.close();
      }
    }
    return out;
  }

  async read(key: string): Promise<TensorValue> {
    return (await this.readMany([key])).get(key) as TensorValue;
  }
}

function checksumError(e: BundleEntry, path: string, actual: number): IgxError {
  return new IgxError(
    'E_MODEL_CHECKSUM',
    `${path}: '${e.key}' fails its CRC32C check (stored ${unmaskCrc(e.crc32c).toString(16)}, computed ${actual.toString(16)}); the variables shard is corrupt`,
  );
}

function decodeEntry(e: BundleEntry, bytes: Uint8Array, path: string): TensorValue {
  const where = `${path}: '${e.key}'`;
  if (e.dtype === DT.STRING) return decodeStrings(e, bytes, path);
  if (bytesPerElement(e.dtype) === undefined) {
    throw new IgxError('E_MODEL_INVALID', `${where}: dtype ${dtypeName(e.dtype)} cannot be read into TensorFlow.js`);
  }
  const actual = crc32cExtend(0, bytes);
  if (actual !== unmaskCrc(e.crc32c)) throw checksumError(e, path, actual);
  return decodeTensorBytes(e.dtype, e.shape, bytes, where);
}

/**
 * String tensors: varint64 lengths, a masked CRC-32C of the lengths (each as uint32 little-endian), then
 * the bytes. The entry's CRC covers the lengths (as uint32), that 4-byte checksum and the bytes.
 */
function decodeStrings(e: BundleEntry, bytes: Uint8Array, path: string): TensorValue {
  const n = elementCount(e.shape);
  const fail = (why: string): never => {
    throw new IgxError('E_MODEL_INVALID', `${path}: string tensor '${e.key}': ${why}`);
  };
  let pos = 0;
  const lengths: number[] = [];
  let crc = 0;
  const u32 = new Uint8Array(4);
  const u32view = new DataView(u32.buffer);
  for (let i = 0; i < n; i++) {
    let len = 0;
    let scale = 1;
    for (;;) {
      if (pos >= bytes.length) fail('its lengths run past its bytes');
      const b = bytes[pos++] as number;
      len += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) break;
      scale *= 128;
      if (scale > 2 ** 56) fail('a length varint is too long');
    }
    lengths.push(len);
    if (len > 0xffffffff) fail('a string longer than 4 GiB');
    u32view.setUint32(0, len, true);
    crc = crc32cExtend(crc, u32);
  }
  if (pos + 4 > bytes.length) fail('its length checksum is missing');
  const lengthCrc = bytes.subarray(pos, pos + 4);
  crc = crc32cExtend(crc, lengthCrc);
  pos += 4;
  const data: Uint8Array[] = [];
  for (const len of lengths) {
    if (pos + len > bytes.length) fail('its strings run past its bytes');
    const s = bytes.subarray(pos, pos + len);
    crc = crc32cExtend(crc, s);
    data.push(s);
    pos += len;
  }
  if (crc !== unmaskCrc(e.crc32c)) throw checksumError(e, path, crc);
  return { dtype: 'string', shape: e.shape, data };
}
