/**
 * Tensor values as igx carries them from TensorFlow's protos and checkpoints to a TensorFlow.js graph
 * model: the four dtypes tfjs stores (wider and narrower TF types are converted the way
 * tensorflowjs_converter does: float64/half/bfloat16 → float32, (u)int8/16/32/64 → int32).
 */
import { IgxError } from '../errors.js';

export type TfjsDtype = 'float32' | 'int32' | 'bool' | 'string';

export interface TensorValue {
  dtype: TfjsDtype;
  /** Known dims only (a value always has a full shape). */
  shape: number[];
  /** float32: Float32Array; int32: Int32Array; bool: Uint8Array of 0/1; string: one byte array per element. */
  data: Float32Array | Int32Array | Uint8Array | Uint8Array[];
}

/** tensorflow.DataType numbers igx handles. */
export const DT = {
  INVALID: 0,
  FLOAT: 1,
  DOUBLE: 2,
  INT32: 3,
  UINT8: 4,
  INT16: 5,
  INT8: 6,
  STRING: 7,
  COMPLEX64: 8,
  INT64: 9,
  BOOL: 10,
  BFLOAT16: 14,
  UINT16: 17,
  COMPLEX128: 18,
  HALF: 19,
  RESOURCE: 20,
  VARIANT: 21,
  UINT32: 22,
  UINT64: 23,
} as const;

const DT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(DT).map(([k, v]) => [v, `DT_${k}`]));

/** "DT_FLOAT" for 1; ref types (n + 100) as their base name with _REF. */
export function dtypeName(dt: number): string {
  if (dt > 100) return `${dtypeName(dt - 100)}_REF`;
  return DT_NAMES[dt] ?? `DataType(${dt})`;
}

/** The dtype tfjs uses for a TF dtype, or undefined when tfjs has none. Ref types count as their base. */
export function tfjsDtypeOf(dt: number): TfjsDtype | undefined {
  const base = dt > 100 ? dt - 100 : dt;
  switch (base) {
    case DT.FLOAT:
    case DT.DOUBLE:
    case DT.HALF:
    case DT.BFLOAT16:
      return 'float32';
    case DT.INT32:
    case DT.INT64:
    case DT.INT8:
    case DT.INT16:
    case DT.UINT8:
    case DT.UINT16:
    case DT.UINT32:
    case DT.UINT64:
      return 'int32';
    case DT.BOOL:
      return 'bool';
    case DT.STRING:
      return 'string';
    default:
      return undefined;
  }
}

/** A protobufjs int64 (number or Long) as a JS number. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return Number(v);
  if (v !== null && typeof v === 'object' && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return 0;
}

/** Saturates to int32: int64 sentinels such as INT64_MAX ("to the end") keep their meaning. */
function clampInt32(n: number): number {
  if (n > 2147483647) return 2147483647;
  if (n < -2147483648) return -2147483648;
  return Math.trunc(n);
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** IEEE half → number. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function bfloat16ToFloat(b: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, (b & 0xffff) << 16, true);
  return view.getFloat32(0, true);
}

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

const BYTES_PER_ELEMENT: Record<number, number> = {
  [DT.FLOAT]: 4,
  [DT.DOUBLE]: 8,
  [DT.INT32]: 4,
  [DT.UINT8]: 1,
  [DT.INT16]: 2,
  [DT.INT8]: 1,
  [DT.INT64]: 8,
  [DT.BOOL]: 1,
  [DT.BFLOAT16]: 2,
  [DT.UINT16]: 2,
  [DT.HALF]: 2,
  [DT.UINT32]: 4,
  [DT.UINT64]: 8,
};

/** Bytes per element of a fixed-size dtype's little-endian encoding, or undefined (string, resource, …). */
export function bytesPerElement(dt: number): number | undefined {
  return BYTES_PER_ELEMENT[dt > 100 ? dt - 100 : dt];
}

function unsupported(dt: number, where: string): never {
  throw new IgxError('E_MODEL_INVALID', `${where}: dtype ${dtypeName(dt)} has no TensorFlow.js equivalent; igx reads float, integer, bool and string tensors`);
}

/**
 * Decodes a fixed-size dtype's little-endian bytes (TensorProto.tensor_content, checkpoint data) into a
 * tfjs value. `where` names the tensor in errors.
 */
export function decodeTensorBytes(dt: number, shape: number[], bytes: Uint8Array, where: string): TensorValue {
  const base = dt > 100 ? dt - 100 : dt;
  const size = bytesPerElement(base);
  if (size === undefined) return unsupported(dt, where);
  const n = elementCount(shape);
  if (bytes.length !== n * size) {
    throw new IgxError(
      'E_MODEL_INVALID',
      `${where}: ${bytes.length} bytes of ${dtypeName(dt)} data, but shape [${shape.join(',')}] needs ${n * size}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if ((base === DT.FLOAT || base === DT.INT32) && LITTLE_ENDIAN_HOST) {
    // Same layout as the typed array: one aligned copy instead of an element loop. (Not bytes.slice():
    // on a Node Buffer that is a view into the whole protobuf.)
    const copy = new Uint8Array(bytes);
    const data = base === DT.FLOAT ? new Float32Array(copy.buffer, 0, n) : new Int32Array(copy.buffer, 0, n);
    return { dtype: base === DT.FLOAT ? 'float32' : 'int32', shape, data };
  }
  switch (base) {
    case DT.FLOAT: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return { dtype: 'float32', shape, data: out };
    }
    case DT.DOUBLE: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return { dtype: 'float32', shape, data: out };
    }
    case DT.HALF:
    case DT.BFLOAT16: {
      const out = new Float32Array(n);
      const conv = base === DT.HALF ? halfToFloat : bfloat16ToFloat;
      for (let i = 0; i < n; i++) out[i] = conv(view.getUint16(i * 2, true));
      return { dtype: 'float32', shape, data: out };
    }
    case DT.BOOL: {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = bytes[i] ? 1 : 0;
      return { dtype: 'bool', shape, data: out };
    }
    default: {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        let v: number;
        switch (base) {
          case DT.INT32:
            v = view.getInt32(i * 4, true);
            break;
          case DT.UINT8:
            v = view.getUint8(i);
            break;
          case DT.INT8:
            v = view.getInt8(i);
            break;
          case DT.INT16:
            v = view.getInt16(i * 2, true);
            break;
          case DT.UINT16:
            v = view.getUint16(i * 2, true);
            break;
          case DT.UINT32:
            v = view.getUint32(i * 4, true);
            break;
          case DT.INT64:
            v = Number(view.getBigInt64(i * 8, true));
            break;
          default:
            v = Number(view.getBigUint64(i * 8, true));
        }
        out[i] = clampInt32(v);
      }
      return { dtype: 'int32', shape, data: out };
    }
  }
}

/** The shape in a TensorShapeProto: dims (-1 where unknown), or undefined for unknown rank. */
export function readShape(proto: TensorShapeProtoLike | null | undefined): number[] | undefined {
  if (proto == null) return [];
  if (proto.unknownRank) return undefined;
  return (proto.dim ?? []).map((d) => toNumber(d.size));
}

export interface TensorShapeProtoLike {
  dim?: { size?: unknown; name?: string }[] | null;
  unknownRank?: boolean | null;
}

export interface TensorProtoLike {
  dtype?: number | null;
  tensorShape?: TensorShapeProtoLike | null;
  tensorContent?: Uint8Array | null;
  halfVal?: number[] | null;
  floatVal?: number[] | null;
  doubleVal?: number[] | null;
  intVal?: number[] | null;
  stringVal?: Uint8Array[] | null;
  int64Val?: unknown[] | null;
  boolVal?: boolean[] | null;
  uint32Val?: number[] | null;
  uint64Val?: unknown[] | null;
}

/**
 * The largest constant igx expands (2²⁶ values, 256 MiB as float32; 2²⁰ strings): a Const's repeated
 * field repeats its last value over the whole shape, so a few bytes of graph could otherwise ask for
 * gigabytes (an int [2e4,2e4] took 4.7 GB; a string [3e8] ended V8 with a fatal heap error).
 */
export const MAX_CONST_VALUES = 2 ** 26;
const MAX_CONST_STRINGS = 2 ** 20;

/** A TensorProto (a Const node's value) as a tfjs value; repeated-field tensors repeat their last value. */
export function tensorFromProto(proto: TensorProtoLike, where: string): TensorValue {
  const dt = proto.dtype ?? DT.INVALID;
  const shape = readShape(proto.tensorShape);
  if (shape === undefined || shape.some((d) => d < 0)) {
    throw new IgxError('E_MODEL_INVALID', `${where}: a constant tensor without a full shape`);
  }
  const n = elementCount(shape);
  const base = dt > 100 ? dt - 100 : dt;
  const limit = base === DT.STRING ? MAX_CONST_STRINGS : MAX_CONST_VALUES;
  if (n > limit) {
    throw new IgxError('E_MODEL_INVALID', `${where}: a constant of shape [${shape.join(',')}] (${n} values), over igx's limit of ${limit}`);
  }
  if (base === DT.STRING) {
    const vals = proto.stringVal ?? [];
    const data = Array.from({ length: n }, (_, i) => vals[Math.min(i, vals.length - 1)] ?? new Uint8Array(0));
    return { dtype: 'string', shape, data };
  }
  const content = proto.tensorContent;
  if (content != null && content.length > 0) return decodeTensorBytes(dt, shape, content, where);

  const fill = <T>(vals: readonly T[] | null | undefined, conv: (v: T) => number, out: Float32Array | Int32Array | Uint8Array): void => {
    const list = vals ?? [];
    if (list.length > n) {
      throw new IgxError('E_MODEL_INVALID', `${where}: ${list.length} values for shape [${shape.join(',')}]`);
    }
    for (let i = 0; i < n; i++) {
      const v = list.length === 0 ? undefined : list[Math.min(i, list.length - 1)];
      out[i] = v === undefined ? 0 : conv(v);
    }
  };
  switch (base) {
    case DT.FLOAT:
    case DT.DOUBLE:
    case DT.HALF:
    case DT.BFLOAT16: {
      const out = new Float32Array(n);
      if (base === DT.FLOAT) fill(proto.floatVal, Number, out);
      else if (base === DT.DOUBLE) fill(proto.doubleVal, Number, out);
      else fill(proto.halfVal, base === DT.HALF ? halfToFloat : bfloat16ToFloat, out);
      return { dtype: 'float32', shape, data: out };
    }
    case DT.BOOL: {
      const out = new Uint8Array(n);
      fill(proto.boolVal, (b) => (b ? 1 : 0), out);
      return { dtype: 'bool', shape, data: out };
    }
    case DT.INT32:
    case DT.INT16:
    case DT.INT8:
    case DT.UINT8:
    case DT.UINT16: {
      const out = new Int32Array(n);
      fill(proto.intVal, Number, out);
      return { dtype: 'int32', shape, data: out };
    }
    case DT.INT64: {
      const out = new Int32Array(n);
      fill(proto.int64Val, (v) => clampInt32(toNumber(v)), out);
      return { dtype: 'int32', shape, data: out };
    }
    case DT.UINT32: {
      const out = new Int32Array(n);
      fill(proto.uint32Val, (v) => clampInt32(Number(v)), out);
      return { dtype: 'int32', shape, data: out };
    }
    case DT.UINT64: {
      const out = new Int32Array(n);
      fill(proto.uint64Val, (v) => clampInt32(toNumber(v)), out);
      return { dtype: 'int32', shape, data: out };
    }
    default:
      return unsupported(dt, where);
  }
}

/** The element at `i` as a number (bool as 0/1); strings are not numbers. */
export function numberAt(value: TensorValue, i: number): number | undefined {
  if (value.dtype === 'string') return undefined;
  return (value.data as Float32Array | Int32Array | Uint8Array)[i];
}
