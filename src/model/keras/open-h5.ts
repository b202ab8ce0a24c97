/**
 * A small read-only view of an HDF5 file in memory, over jsfive.
 *
 * Why jsfive 0.4 and not h5wasm 0.10 (both tried on Keras 2 .h5 and Keras 3 model.weights.h5 files):
 * both read the same values, attributes and strings, and neither crashed nor hung on 160 truncated or
 * byte-flipped files. jsfive is pure JavaScript (a 200 KB bundle; 3.4 MB installed with pako, against
 * 15 MB of WebAssembly), loads in 8 ms against 150 ms, reads from an ArrayBuffer where h5wasm copies the
 * file into its emscripten file system first, and fails with a thrown value where h5wasm also prints
 * HDF5's error stack to stderr, which would break igx's one-line errors.
 */
import { Dataset, File, Group } from 'jsfive';
import { IgxError } from '../../errors.js';

export interface H5Dataset {
  path: string;
  shape: number[];
  /** The values as float32; E_MODEL_INVALID for a type that is not a float. */
  readFloat32(): Float32Array;
}

export interface H5File {
  /** Child names of the group at `path`, or undefined when there is no such group. */
  keys(path: string): string[] | undefined;
  /** An attribute of the group or dataset at `path` ('' is the root). */
  attr(path: string, name: string): unknown;
  /** The dataset at `path`, or undefined. */
  dataset(path: string): H5Dataset | undefined;
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** jsfive throws strings as well as Errors: every failure becomes one E_MODEL_INVALID line. */
function guard<T>(file: string, what: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof IgxError) throw err;
    throw new IgxError('E_MODEL_INVALID', `${file}: ${what}: not a readable HDF5 file (${describe(err).slice(0, 200)})`, { cause: err });
  }
}

const FLOAT_TYPES = new Set(['<f4', '>f4', '<f8', '>f8']);

function toDataset(file: string, d: Dataset): H5Dataset {
  return {
    path: d.name,
    shape: [...d.shape],
    readFloat32: () =>
      guard(file, `reading ${d.name}`, () => {
        if (typeof d.dtype !== 'string' || !FLOAT_TYPES.has(d.dtype)) {
          throw new IgxError('E_MODEL_INVALID', `${file}: weight ${d.name} has type ${JSON.stringify(d.dtype)}; igx reads float32 and float64 weights`);
        }
        const values = d.value as ArrayLike<number>;
        const count = d.shape.reduce((a, b) => a * b, 1);
        if (values.length !== count) throw new Error(`holds ${values.length} values for shape [${d.shape.join(',')}]`);
        return Float32Array.from(values);
      }),
  };
}

/**
 * The end-of-file address the superblock records (HDF5 spec, "Disk Format: Level 0A"), so a truncated
 * file is named as such rather than failing later on a missing group. Undefined when it cannot tell.
 */
function readSuperblockEnd(bytes: Uint8Array): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 48) return undefined;
  const version = bytes[8];
  const offsetSize = version === 0 || version === 1 ? bytes[13] : bytes[9];
  if (offsetSize !== 8) return undefined;
  const at = version === 0 ? 24 + 16 : version === 1 ? 28 + 16 : 12 + 16;
  return Number(view.getBigUint64(at, true));
}

/** Opens HDF5 bytes (E_MODEL_INVALID when they are not HDF5 or are damaged). */
export function openH5(bytes: Uint8Array, file: string): H5File {
  const end = readSuperblockEnd(bytes);
  if (end !== undefined && end > bytes.byteLength) {
    throw new IgxError('E_MODEL_INVALID', `${file}: truncated HDF5 file: it holds ${bytes.byteLength} bytes, its superblock says ${end}`);
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const root = guard(file, 'opening', () => new File(buffer, file));
  const get = (path: string): Group | Dataset | null => {
    if (path === '' || path === '/') return root;
    try {
      return root.get(path);
    } catch {
      return null; // jsfive throws "x not found in group"
    }
  };
  return {
    keys: (path) =>
      guard(file, `listing ${path || '/'}`, () => {
        const g = get(path);
        return g instanceof Group ? g.keys : undefined;
      }),
    attr: (path, name) =>
      guard(file, `reading attribute ${name} of ${path || '/'}`, () => {
        const o = get(path);
        return o === null ? undefined : o.attrs[name];
      }),
    dataset: (path) =>
      guard(file, `reading ${path}`, () => {
        const d = get(path);
        return d instanceof Dataset ? toDataset(file, d) : undefined;
      }),
  };
}

/** An HDF5 string attribute (variable-length, fixed-length NUL-padded, or bytes) as a JS string. */
export function readH5String(value: unknown): string | undefined {
  if (typeof value === 'string') return value.replace(/\0+$/, '');
  if (value instanceof Uint8Array) return new TextDecoder().decode(value).replace(/\0+$/, '');
  if (Array.isArray(value) && value.length === 1) return readH5String(value[0]);
  return undefined;
}

/** An HDF5 string-array attribute (Keras' weight_names, layer_names): [] for an empty float array. */
export function readH5StringList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [readH5String(value) as string];
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    return Array.from(value as ArrayLike<unknown>).flatMap((v) => {
      const s = readH5String(v);
      return s === undefined ? [] : [s];
    });
  }
  return [];
}
