/**
 * NumPy .npy format version 1.0 for float32 arrays: `np.load(path)` gives an array of dtype '<f4'
 * with `shape`, C (row-major) order. Layout: magic "\x93NUMPY", version 1 0, a little-endian uint16
 * header length, an ASCII Python dict literal padded with spaces and ending in '\n' so that the data
 * starts at a multiple of 64 bytes, then the values as little-endian float32.
 */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Buffer {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`npy shape has a bad dimension ${d}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new RangeError(`npy shape (${shape.join(', ')}) holds ${count} values but data has ${data.length}`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const preamble = 10; // magic (6) + version (2) + header length (2)
  const unpadded = preamble + dict.length + 1; // + '\n'
  const total = Math.ceil(unpadded / 64) * 64;
  const header = dict + ' '.repeat(total - unpadded) + '\n';
  if (header.length > 0xffff) throw new RangeError('npy header too long for format version 1.0');

  const out = Buffer.alloc(total + data.length * 4);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, preamble, 'latin1');
  for (let i = 0; i < data.length; i += 1) out.writeFloatLE(data[i]!, total + 4 * i);
  return out;
}

/**
 * Reads back the `.ig.npy` files igx writes (encodeNpy): NumPy format 1.0/2.0, little-endian float32,
 * C order. Anything else is refused rather than guessed at.
 */
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

/** Parses .npy bytes; throws an Error that says what is wrong (the caller adds the file name). */
/** A float32 .npy header read from the file's first bytes: the shape and where the data begins. */
export function parseNpyHeader(bytes: Uint8Array): { shape: number[]; dataOffset: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error('not a .npy file');
  const major = buf[6];
  if (major !== 1 && major !== 2) throw new Error(`unsupported .npy version ${major}`);
  const headerLength = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLength;
  if (buf.length < start) throw new Error('truncated .npy header');
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr !== '<f4') throw new Error(`expected float32 ('<f4'), found ${descr === undefined ? 'no dtype' : `'${descr}'`}`);
  if (fortran !== 'False') throw new Error('expected C order (fortran_order False)');
  if (shapeText === undefined) throw new Error('no shape in the .npy header');
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!parts.every((p) => /^\d+$/.test(p))) throw new Error(`bad shape (${shapeText})`);
  return { shape: parts.map(Number), dataOffset: start };
}

/** The bytes a float32 .npy of this header must have in all. */
export const npyFileBytes = (h: { shape: readonly number[]; dataOffset: number }): number => h.dataOffset + 4 * h.shape.reduce((a, b) => a * b, 1);

export function decodeNpy(bytes: Uint8Array): NpyArray {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { shape, dataOffset: start } = parseNpyHeader(buf);
  const count = shape.reduce((a, b) => a * b, 1);
  if (buf.length !== npyFileBytes({ shape, dataOffset: start })) {
    throw new Error(`shape (${shape.join(', ')}) needs ${4 * count} data bytes, the file has ${buf.length - start}`);
  }
  const data = new Float32Array(count);
  for (let i = 0; i < count; i += 1) data[i] = buf.readFloatLE(start + 4 * i);
  return { shape, data };
}
