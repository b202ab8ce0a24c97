/**
 * Values flowing through the ONNX → tfjs build: each ONNX tensor's shape in ONNX's axis order, the
 * physical layout of the tfjs tensor that holds it, and its value where it is known at build time
 * (weights, and the shape arithmetic that folds to constants for the model's input size).
 */
import { IgxError } from '../errors.js';

/**
 * A dimension: a size, or 'N', the batch size, left open so that one graph runs any batch, or a
 * multiple of it ('N*8': attention folds the heads into the batch).
 */
export type BatchDim = 'N' | `N*${number}`;
export type Dim = number | BatchDim;

export const isBatchDim = (d: Dim | undefined): d is BatchDim => typeof d === 'string';

/** k in k·N. */
export const batchFactor = (d: BatchDim): number => (d === 'N' ? 1 : Number(d.slice(2)));

export const batchDim = (k: number): BatchDim => (k === 1 ? 'N' : `N*${k}`);

/** A value known at build time, in ONNX axis order. Integer data holds 'N' where it is the batch size. */
export interface ConstValue {
  dtype: 'float32' | 'int32' | 'bool';
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array | Dim[];
}

export interface Value {
  /** The ONNX tensor name. */
  name: string;
  dtype: 'float32' | 'int32' | 'bool';
  /** In ONNX axis order. */
  shape: Dim[];
  /** Physical axis i of `ref` holds ONNX axis perm[i] (NCHW images are held NHWC: [0, 2, 3, 1]). */
  perm: number[];
  /** The tfjs tensor ("node" or "node:1"); undefined for a constant not yet emitted. */
  ref?: string;
  konst?: ConstValue;
}

export const identityPerm = (rank: number): number[] => Array.from({ length: rank }, (_, i) => i);

export const isIdentityPerm = (perm: readonly number[]): boolean => perm.every((p, i) => p === i);

export const NHWC: readonly number[] = [0, 2, 3, 1];

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export const permute = <T>(list: readonly T[], perm: readonly number[]): T[] => perm.map((p) => list[p] as T);

export function invertPerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

/** Whether a dim is not known to be 1 (the batch counts as more than 1). */
export const isNonUnit = (d: Dim): boolean => d !== 1;

export function showShape(shape: readonly Dim[]): string {
  return `[${shape.join(',')}]`;
}

export function elementAt(c: ConstValue, i: number): Dim {
  return (c.data as ArrayLike<Dim>)[i] as Dim;
}

/** The const's elements as numbers; E_UNSUPPORTED_OP where one is the open batch size. */
export function numbersOf(c: ConstValue, what: string): number[] {
  return Array.from(c.data as ArrayLike<Dim>, (d) => {
    if (isBatchDim(d)) throw new IgxError('E_UNSUPPORTED_OP', `${what} depends on the batch size, which igx leaves open`);
    return d;
  });
}

export function hasBatch(c: ConstValue): boolean {
  return Array.isArray(c.data) && c.data.some(isBatchDim);
}

/** A const with data built from plain elements (int32 data may hold 'N'). */
export function makeConst(dtype: ConstValue['dtype'], shape: number[], elems: ArrayLike<Dim>): ConstValue {
  const list = Array.from(elems);
  if (dtype === 'int32') return { dtype, shape, data: list.some(isBatchDim) ? list : Int32Array.from(list as number[]) };
  if (dtype === 'bool') return { dtype, shape, data: Uint8Array.from(list as number[], (v) => (v ? 1 : 0)) };
  return { dtype, shape, data: Float32Array.from(list as number[]) };
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] as number) * (shape[i + 1] as number);
  return s;
}

/** Physical data for `perm`: out.shape[i] = c.shape[perm[i]]. */
export function transposeConst(c: ConstValue, perm: readonly number[]): ConstValue {
  if (isIdentityPerm(perm)) return c;
  const shape = permute(c.shape, perm);
  const inStrides = stridesOf(c.shape);
  const n = sizeOf(shape);
  const src = c.data as ArrayLike<Dim>;
  const out: Dim[] = new Array<Dim>(n);
  const idx = new Array<number>(shape.length).fill(0);
  const stepOf = perm.map((p) => inStrides[p] as number);
  let offset = 0;
  for (let k = 0; k < n; k++) {
    out[k] = src[offset] as Dim;
    for (let a = shape.length - 1; a >= 0; a--) {
      idx[a] = (idx[a] as number) + 1;
      offset += stepOf[a] as number;
      if ((idx[a] as number) < (shape[a] as number)) break;
      offset -= (stepOf[a] as number) * (shape[a] as number);
      idx[a] = 0;
    }
  }
  return makeConst(c.dtype, shape, out);
}

/** Numpy broadcasting of two shapes; undefined when they do not broadcast. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else return undefined;
  }
  return out;
}

/** Elementwise f over two broadcast consts. */
export function broadcastConst(a: ConstValue, b: ConstValue, dtype: ConstValue['dtype'], f: (x: Dim, y: Dim) => Dim): ConstValue {
  const shape = broadcastShapes(a.shape, b.shape) as number[] | undefined;
  if (shape === undefined) throw new IgxError('E_MODEL_INVALID', `shapes ${showShape(a.shape)} and ${showShape(b.shape)} do not broadcast`);
  const n = sizeOf(shape);
  const rank = shape.length;
  const index = (c: ConstValue, k: number): number => {
    let off = 0;
    let rem = k;
    const cs = stridesOf(c.shape);
    for (let ax = rank - 1; ax >= 0; ax--) {
      const dim = shape[ax] as number;
      const pos = rem % dim;
      rem = Math.floor(rem / dim);
      const cax = ax - (rank - c.shape.length);
      if (cax >= 0 && c.shape[cax] !== 1) off += pos * (cs[cax] as number);
    }
    return off;
  };
  const out = new Array<Dim>(n);
  for (let k = 0; k < n; k++) out[k] = f(elementAt(a, index(a, k)), elementAt(b, index(b, k)));
  return makeConst(dtype, shape, out);
}

/** Elements [begin, end) with `step` along `axis`, indices already clamped. */
export function sliceConst(c: ConstValue, axis: number, indices: number[]): ConstValue {
  const shape = [...c.shape];
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  const dim = shape[axis] as number;
  const out: Dim[] = [];
  for (let o = 0; o < outer; o++) {
    for (const i of indices) {
      for (let k = 0; k < inner; k++) out.push(elementAt(c, (o * dim + i) * inner + k));
    }
  }
  shape[axis] = indices.length;
  return makeConst(c.dtype, shape, out);
}

export function concatConst(list: ConstValue[], axis: number): ConstValue {
  const first = list[0] as ConstValue;
  const outer = sizeOf(first.shape.slice(0, axis));
  const out: Dim[] = [];
  for (let o = 0; o < outer; o++) {
    for (const c of list) {
      const chunk = sizeOf(c.shape.slice(axis));
      for (let k = 0; k < chunk; k++) out.push(elementAt(c, o * chunk + k));
    }
  }
  const shape = [...first.shape];
  shape[axis] = list.reduce((n, c) => n + (c.shape[axis] as number), 0);
  return makeConst(first.dtype, shape, out);
}

/** Product of dims; k·N when the batch is among them. */
export function productOf(dims: readonly Dim[], what: string): Dim {
  let n = 1;
  let batches = 0;
  for (const d of dims) {
    if (isBatchDim(d)) {
      batches++;
      n *= batchFactor(d);
    } else n *= d;
  }
  if (batches > 1) throw new IgxError('E_UNSUPPORTED_OP', `${what}: more than one batch dim`);
  return batches === 1 ? batchDim(n) : n;
}
