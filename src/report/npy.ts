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
