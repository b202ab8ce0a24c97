/**
 * Snappy raw-format decompression (github.com/google/snappy, format_description.txt): TensorFlow's table
 * writer compresses index blocks with it whenever that saves at least 1/8.
 */

/** Decompresses one raw Snappy buffer; throws Error with a short reason on malformed input. */
export function snappyUncompress(input: Uint8Array): Uint8Array {
  let pos = 0;
  const byte = (): number => {
    if (pos >= input.length) throw new Error('snappy data ends early');
    return input[pos++] as number;
  };
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (shift > 28) throw new Error('snappy length varint too long');
    const b = byte();
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  const out = new Uint8Array(length);
  let o = 0;
  while (pos < input.length) {
    const tag = byte();
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        len = 0;
        for (let i = 0; i < extra; i++) len += byte() * 2 ** (8 * i);
      }
      len += 1;
      if (pos + len > input.length || o + len > length) throw new Error('snappy literal runs past its buffer');
      out.set(input.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      len = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | byte();
    } else if (kind === 2) {
      len = 1 + (tag >>> 2);
      offset = byte() | (byte() << 8);
    } else {
      len = 1 + (tag >>> 2);
      offset = (byte() | (byte() << 8) | (byte() << 16) | (byte() << 24)) >>> 0;
    }
    if (offset === 0 || offset > o || o + len > length) throw new Error('snappy copy out of range');
    // Copies may overlap their own output (runs), so go byte by byte.
    for (let i = 0; i < len; i++, o++) out[o] = out[o - offset] as number;
  }
  if (o !== length) throw new Error(`snappy data decodes to ${o} bytes, its header says ${length}`);
  return out;
}
