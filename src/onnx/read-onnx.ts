/**
 * Reading an ONNX file: the ModelProto, its opset, and every initializer's value, from the file itself
 * or from external data files beside it (path-contained and size-checked, as model.json weights are).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { IgxError } from '../errors.js';
import { decodeOnnxModel, ONNX_DTYPE, ONNX_DTYPE_NAMES, type OnnxGraphMsg, type OnnxModelMsg, type OnnxTensorMsg } from './onnx-proto.js';

/** A tensor as igx computes with it: int64 narrowed to int32 (saturating), double and float16 widened or narrowed to float32. */
export interface OnnxTensorValue {
  dtype: 'float32' | 'int32' | 'bool';
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

export interface OnnxFile {
  /** The .onnx file, absolute. */
  path: string;
  /** Its folder, absolute: external data must lie inside it. */
  dir: string;
  model: OnnxModelMsg;
  graph: OnnxGraphMsg;
  /** The default-domain ("" or "ai.onnx") opset version. */
  opset: number;
  initializers: Map<string, OnnxTensorValue>;
  /** sha256 of the .onnx bytes followed by its external data files' bytes, in the order first named. */
  sha256: string;
}

const ONNX_EXT = '.onnx';

/**
 * `--model PATH` → the .onnx file it names: PATH itself when it ends in .onnx, or the one .onnx file in
 * folder PATH. undefined when PATH is neither (another format); E_MODEL_NOT_FOUND for a folder holding
 * several .onnx files.
 */
export async function resolveOnnxPath(given: string): Promise<string | undefined> {
  const path = resolve(given);
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    return undefined;
  }
  if (!isDir) return path.toLowerCase().endsWith(ONNX_EXT) ? path : undefined;
  const all = await readdir(path);
  const names = all.filter((n) => n.toLowerCase().endsWith(ONNX_EXT)).sort();
  // A folder with a model.json is a TensorFlow.js model, whatever else it holds.
  if (names.length === 0 || all.includes('model.json')) return undefined;
  if (names.length > 1) {
    throw new IgxError('E_MODEL_NOT_FOUND', `--model ${given}: the folder holds ${names.length} .onnx files (${names.join(', ')}); pass the one to use`);
  }
  return join(path, names[0] as string);
}

function toInt(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  if (v !== null && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return 0;
}

/** Saturates to int32: int64 sentinels such as INT64_MAX ("to the end" in Slice) keep their meaning. */
export function clampInt32(n: number): number {
  if (n > 2147483647) return 2147483647;
  if (n < -2147483648) return -2147483648;
  return Math.trunc(n);
}

function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const ELEMENT_BYTES: Record<number, number> = {
  [ONNX_DTYPE.FLOAT]: 4,
  [ONNX_DTYPE.UINT8]: 1,
  [ONNX_DTYPE.INT8]: 1,
  [ONNX_DTYPE.INT32]: 4,
  [ONNX_DTYPE.INT64]: 8,
  [ONNX_DTYPE.BOOL]: 1,
  [ONNX_DTYPE.FLOAT16]: 2,
  [ONNX_DTYPE.DOUBLE]: 8,
};

/** Where a tensor is decoded, for messages, and how external data is fetched. */
export interface TensorSource {
  file: string;
  /** What holds the tensor: "initializer 'w'", "Constant node 'c'". */
  what: string;
  /** Reads `length` bytes (or to the end) at `offset` of an external file named relative to the model folder. */
  readExternal?: (location: string, offset: number, length: number | undefined) => Uint8Array;
}

/** Decodes a TensorProto into an OnnxTensorValue; E_MODEL_INVALID when its bytes disagree with its shape. */
export function decodeTensor(t: OnnxTensorMsg, src: TensorSource): OnnxTensorValue {
  const shape = t.dims.map(toInt);
  const count = shape.reduce((a, b) => a * b, 1);
  const type = t.dataType;
  const bytesPer = ELEMENT_BYTES[type];
  const where = `${src.file}: ${src.what}`;
  if (bytesPer === undefined) {
    throw new IgxError('E_UNSUPPORTED_OP', `${where} has data type ${ONNX_DTYPE_NAMES[type] ?? type}; igx reads FLOAT, DOUBLE, FLOAT16, INT64, INT32, INT8, UINT8 and BOOL`);
  }
  let raw: Uint8Array | undefined;
  if (t.dataLocation === 1) {
    const entries = new Map(t.externalData.map((e) => [e.key, e.value]));
    const location = entries.get('location');
    if (location === undefined || src.readExternal === undefined) throw new IgxError('E_MODEL_INVALID', `${where} is stored externally but names no location`);
    const length = entries.has('length') ? Number(entries.get('length')) : undefined;
    raw = src.readExternal(location, Number(entries.get('offset') ?? 0), length);
  } else if (t.rawData.length > 0) {
    raw = t.rawData;
  }
  const fail = (got: string): never => {
    throw new IgxError('E_MODEL_INVALID', `${where} has shape [${shape.join(',')}] of ${ONNX_DTYPE_NAMES[type]}, which needs ${count * bytesPer} bytes (${count} values), but holds ${got}`);
  };
  if (raw !== undefined) {
    if (raw.length !== count * bytesPer) fail(`${raw.length} bytes`);
    // A copy of exactly these bytes (a Buffer's slice() is a view of the whole file): typed views need alignment.
    const buf = new Uint8Array(raw).buffer;
    const view = new DataView(buf);
    switch (type) {
      case ONNX_DTYPE.FLOAT:
        return { dtype: 'float32', shape, data: new Float32Array(buf) };
      case ONNX_DTYPE.DOUBLE:
        return { dtype: 'float32', shape, data: Float32Array.from(new Float64Array(buf)) };
      case ONNX_DTYPE.FLOAT16:
        return { dtype: 'float32', shape, data: Float32Array.from({ length: count }, (_, i) => float16ToFloat32(view.getUint16(i * 2, true))) };
      case ONNX_DTYPE.INT64:
        return { dtype: 'int32', shape, data: Int32Array.from({ length: count }, (_, i) => clampInt32(Number(view.getBigInt64(i * 8, true)))) };
      case ONNX_DTYPE.INT32:
        return { dtype: 'int32', shape, data: new Int32Array(buf) };
      case ONNX_DTYPE.INT8:
        return { dtype: 'int32', shape, data: Int32Array.from(new Int8Array(buf)) };
      case ONNX_DTYPE.UINT8:
        return { dtype: 'int32', shape, data: Int32Array.from(new Uint8Array(buf)) };
      default:
        return { dtype: 'bool', shape, data: Uint8Array.from(new Uint8Array(buf), (b) => (b ? 1 : 0)) };
    }
  }
  const typed: { list: ArrayLike<unknown>; field: string } =
    type === ONNX_DTYPE.FLOAT
      ? { list: t.floatData, field: 'float_data' }
      : type === ONNX_DTYPE.DOUBLE
        ? { list: t.doubleData, field: 'double_data' }
        : type === ONNX_DTYPE.INT64
          ? { list: t.int64Data, field: 'int64_data' }
          : { list: t.int32Data, field: 'int32_data' }; // INT32, INT8, UINT8, BOOL, FLOAT16 (bits)
  if (typed.list.length !== count) fail(`${typed.list.length} values in ${typed.field}`);
  const values = Array.from(typed.list, toInt);
  if (type === ONNX_DTYPE.FLOAT || type === ONNX_DTYPE.DOUBLE) return { dtype: 'float32', shape, data: Float32Array.from(values) };
  if (type === ONNX_DTYPE.FLOAT16) return { dtype: 'float32', shape, data: Float32Array.from(values, float16ToFloat32) };
  if (type === ONNX_DTYPE.BOOL) return { dtype: 'bool', shape, data: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
  return { dtype: 'int32', shape, data: Int32Array.from(values, clampInt32) };
}

/** `location` resolved inside `dir`; E_MODEL_PATH when it is absolute or leaves the folder. */
export function resolveExternalPath(dir: string, location: string, file: string): string {
  const full = resolve(dir, location);
  const rel = relative(dir, full);
  if (isAbsolute(location) || rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new IgxError('E_MODEL_PATH', `${file}: external data location '${location}' is outside the model folder ${dir}`);
  }
  return full;
}

function defaultOpset(model: OnnxModelMsg): number | undefined {
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  return entry === undefined ? undefined : toInt(entry.version);
}

/**
 * Reads and decodes the .onnx file at `path` (absolute): E_MODEL_NOT_FOUND, E_MODEL_INVALID (not an
 * ONNX model, truncated, no graph, initializer bytes that disagree with their shape), E_MODEL_PATH
 * (external data outside the model's folder).
 */
export async function readOnnx(path: string): Promise<OnnxFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new IgxError('E_MODEL_NOT_FOUND', `--model ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  let model: OnnxModelMsg;
  try {
    model = decodeOnnxModel(bytes);
  } catch (err) {
    throw new IgxError('E_MODEL_INVALID', `${path}: not a readable ONNX model (truncated or damaged protobuf: ${(err as Error).message})`, { cause: err });
  }
  const graph = model.graph;
  if (graph == null || graph.node.length === 0) throw new IgxError('E_MODEL_INVALID', `${path}: the ONNX model has no graph (or an empty one)`);
  const opset = defaultOpset(model);
  if (opset === undefined) throw new IgxError('E_MODEL_INVALID', `${path}: the ONNX model imports no default-domain opset`);
  const dir = dirname(path);
  const hash = createHash('sha256').update(bytes);
  const external = new Map<string, Buffer>();
  const readExternal = (location: string, offset: number, length: number | undefined): Uint8Array => {
    const full = resolveExternalPath(dir, location, path);
    const data = external.get(full);
    if (data === undefined) throw new Error(`external file ${full} was not preloaded`);
    if (offset < 0 || offset > data.length || (length !== undefined && offset + length > data.length)) {
      throw new IgxError('E_MODEL_INVALID', `${path}: external data '${location}' has ${data.length} bytes; the model reads ${length ?? 'the rest'} at offset ${offset}`);
    }
    return data.subarray(offset, length === undefined ? undefined : offset + length);
  };
  // External files first (in the order named), so that decoding stays synchronous.
  for (const t of graph.initializer) {
    if (t.dataLocation !== 1) continue;
    const location = t.externalData.find((e) => e.key === 'location')?.value;
    if (location === undefined) continue;
    const full = resolveExternalPath(dir, location, path);
    if (external.has(full)) continue;
    try {
      // A link inside the folder that leads out of it escapes as much as '..' does.
      resolveExternalPath(await realpath(dir), relative(await realpath(dir), await realpath(full)), path);
      const data = await readFile(full);
      external.set(full, data);
      hash.update(data);
    } catch (err) {
      if (err instanceof IgxError) throw err;
      throw new IgxError('E_MODEL_INVALID', `${path}: external data file '${location}' cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
    }
  }
  const initializers = new Map<string, OnnxTensorValue>();
  for (const t of graph.initializer) {
    initializers.set(t.name, decodeTensor(t, { file: path, what: `initializer '${t.name}'`, readExternal }));
  }
  return { path, dir, model, graph, opset, initializers, sha256: hash.digest('hex') };
}
