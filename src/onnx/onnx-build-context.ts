/**
 * The state of one ONNX → tfjs graph build and the primitives every op emission uses: emitting nodes
 * and constants, moving a value into the physical layout an op needs (one Reshape or Transpose, or
 * none), layout-aware Reshape, and broadcasting binary ops.
 */
import { IgxError } from '../errors.js';
import { shapeJson } from '../savedmodel/attr-to-json.js';
import type { GraphJsonNode } from '../savedmodel/build-context.js';
import {
  identityPerm,
  isIdentityPerm,
  isNonUnit,
  makeConst,
  permute,
  productOf,
  showShape,
  transposeConst,
  broadcastShapes,
  type ConstValue,
  type Dim,
  type Value,
  hasBatch,
  elementAt,
  isBatchDim,
  batchFactor,
} from './onnx-value.js';

export const TF_DTYPE: Record<ConstValue['dtype'], string> = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL' };

export const attrInts = (list: readonly number[]): Record<string, unknown> => ({ list: { i: list.map(String) } });
export const attrString = (s: string): Record<string, unknown> => ({ s: Buffer.from(s).toString('base64') });
export const attrType = (dtype: ConstValue['dtype']): Record<string, unknown> => ({ type: TF_DTYPE[dtype] });

/** A weight of the built graph: a Const node's value. */
export interface BuiltConst {
  dtype: ConstValue['dtype'];
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

export class OnnxBuildContext {
  readonly nodes: GraphJsonNode[] = [];
  readonly consts = new Map<string, BuiltConst>();
  readonly values = new Map<string, Value>();
  readonly opCounts = new Map<string, number>();
  private readonly names = new Set<string>();
  private readonly layoutCache = new Map<string, string>();
  private batchRef: string | undefined;
  /** The Placeholder, set once the input is made. */
  inputRef = '';
  /** The batch size the export was traced at, where its input states one (a literal in its Reshapes). */
  tracedBatch: number | undefined;

  constructor(
    readonly file: string,
    readonly opset: number,
  ) {}

  /** A node name not used yet, from an ONNX name ("/features/0/Conv" stays readable). */
  unique(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./-]/g, '_').replace(/^[/.]+/, '') || 'node';
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  emit(op: string, input: string[], attr: Record<string, unknown>, hint: string): string {
    const name = this.unique(hint);
    this.nodes.push({ name, op, input, attr });
    this.opCounts.set(op, (this.opCounts.get(op) ?? 0) + 1);
    return name;
  }

  /** A Const node holding `c`; int data that holds the batch size is assembled at run time from the input's shape. */
  constRef(c: ConstValue, hint: string): string {
    if (hasBatch(c)) return this.batchVectorRef(c, hint);
    const name = this.unique(hint);
    const data = Array.isArray(c.data) ? makeConst(c.dtype, c.shape, c.data).data : c.data;
    this.consts.set(name, { dtype: c.dtype, shape: [...c.shape], data: data as BuiltConst['data'] });
    const type = TF_DTYPE[c.dtype];
    this.nodes.push({ name, op: 'Const', input: [], attr: { value: { tensor: { dtype: type, tensorShape: shapeJson(c.shape) } }, dtype: { type } } });
    this.opCounts.set('Const', (this.opCounts.get('Const') ?? 0) + 1);
    return name;
  }

  intsRef(list: readonly number[], hint: string): string {
    return this.constRef(makeConst('int32', [list.length], list), hint);
  }

  scalarRef(x: number, hint: string, dtype: ConstValue['dtype'] = 'float32'): string {
    return this.constRef(makeConst(dtype, [], [x]), hint);
  }

  /** The batch size as a [1] int32 tensor, from the input's shape at run time. */
  private batchSizeRef(): string {
    if (this.batchRef === undefined) {
      const shape = this.emit('Shape', [this.inputRef], { out_type: { type: 'DT_INT32' } }, 'batch_size/shape');
      this.batchRef = this.emit(
        'StridedSlice',
        [shape, this.intsRef([0], 'batch_size/begin'), this.intsRef([1], 'batch_size/end'), this.intsRef([1], 'batch_size/strides')],
        { Index: { type: 'DT_INT32' }, T: { type: 'DT_INT32' } },
        'batch_size',
      );
    }
    return this.batchRef;
  }

  /** A 1-D int vector some of whose elements are the batch size: ConcatV2 of its known runs and the batch. */
  private batchVectorRef(c: ConstValue, hint: string): string {
    if (c.shape.length !== 1) throw new IgxError('E_UNSUPPORTED_OP', `${this.file}: a ${c.shape.length}-D tensor of shape values that depends on the batch size`);
    const parts: string[] = [];
    let run: number[] = [];
    const flush = (): void => {
      if (run.length > 0) parts.push(this.intsRef(run, `${hint}/part`));
      run = [];
    };
    for (let i = 0; i < (c.shape[0] as number); i++) {
      const d = elementAt(c, i);
      if (isBatchDim(d)) {
        flush();
        const k = batchFactor(d);
        parts.push(k === 1 ? this.batchSizeRef() : this.emit('Mul', [this.batchSizeRef(), this.intsRef([k], `${hint}/factor`)], { T: { type: 'DT_INT32' } }, `${hint}/batch_times_${k}`));
      } else run.push(d);
    }
    flush();
    if (parts.length === 1) return parts[0] as string;
    return this.emit('ConcatV2', [...parts, this.scalarRef(0, `${hint}/axis`, 'int32')], { N: { i: String(parts.length) }, T: { type: 'DT_INT32' } }, hint);
  }

  /**
   * A shape for Reshape: the batch as -1 when it is the only open dim, else assembled at run time (always,
   * with `isExact`, for ops that take no -1: BroadcastTo, Fill).
   */
  shapeRef(shape: readonly Dim[], hint: string, isExact = false): string {
    const open = shape.filter(isBatchDim).length;
    if (open === 0 || (open === 1 && !isExact)) return this.intsRef(shape.map((d) => (isBatchDim(d) ? -1 : d)), hint);
    return this.constRef(makeConst('int32', [shape.length], shape), hint);
  }

  value(name: string, node: string): Value {
    const v = this.values.get(name);
    if (v === undefined) throw new IgxError('E_MODEL_INVALID', `${this.file}: node '${node}' reads '${name}', which no node, input or initializer produces before it`);
    return v;
  }

  /** The tfjs tensor holding `v` in physical layout `perm`: v itself, or one Reshape or Transpose of it (cached). */
  refIn(v: Value, perm: readonly number[]): string {
    if (v.shape.length !== perm.length) throw new Error(`layout of rank ${perm.length} for a value of rank ${v.shape.length}`);
    if (v.konst !== undefined && v.ref === undefined) {
      const key = `const:${v.name}|${perm.join(',')}`;
      const cached = this.layoutCache.get(key);
      if (cached !== undefined) return cached;
      const ref = this.constRef(transposeConst(v.konst, perm), v.name);
      this.layoutCache.set(key, ref);
      return ref;
    }
    const ref = v.ref as string;
    if (v.perm.every((p, i) => p === perm[i])) return ref;
    const key = `${ref}|${perm.join(',')}`;
    const cached = this.layoutCache.get(key);
    if (cached !== undefined) return cached;
    const nonUnit = (order: readonly number[]): number[] => order.filter((a) => isNonUnit(v.shape[a] as Dim));
    const from = nonUnit(v.perm);
    const to = nonUnit(perm);
    let out: string;
    if (from.every((a, i) => a === to[i])) {
      // Only size-1 axes move: the memory order is the same, a Reshape suffices.
      out = this.emit('Reshape', [ref, this.shapeRef(permute(v.shape, perm), `${ref}/layout_shape`)], {}, `${ref}/layout`);
    } else {
      const t = perm.map((a) => v.perm.indexOf(a));
      out = this.emit('Transpose', [ref, this.intsRef(t, `${ref}/perm`)], {}, `${ref}/transpose`);
    }
    this.layoutCache.set(key, out);
    return out;
  }

  /** `v` in ONNX axis order. */
  native(v: Value): string {
    return this.refIn(v, identityPerm(v.shape.length));
  }

  /**
   * Reshape in whatever layout avoids moving data: when each group of input axes that merges or splits
   * is contiguous and in order in memory, the reshape works on the physical tensor and the output keeps
   * a matching layout (a channel split of an NHWC tensor stays channels-last); otherwise the input is
   * first transposed so that it is.
   */
  reshape(v: Value, outShape: Dim[], hint: string): Value {
    const inShape = v.shape;
    const base: Value = { name: hint, dtype: v.dtype, shape: outShape, perm: identityPerm(outShape.length) };
    if (v.konst !== undefined && v.ref === undefined) {
      return { ...base, konst: { ...v.konst, shape: outShape as number[] } };
    }
    const inAxes = identityPerm(inShape.length).filter((a) => isNonUnit(inShape[a] as Dim));
    const outAxes = identityPerm(outShape.length).filter((a) => isNonUnit(outShape[a] as Dim));
    const groups = groupAxes(inAxes.map((a) => inShape[a] as Dim), outAxes.map((a) => outShape[a] as Dim));
    if (groups === undefined) {
      // The batch merges with other dims (attention's heads): reshape in ONNX order, the batch dim as -1.
      if (outShape.filter(isBatchDim).length > 1) throw new IgxError('E_UNSUPPORTED_OP', `${this.file}: reshape of ${showShape(inShape)} into ${showShape(outShape)} (node '${hint}')`);
      const ref = this.emit('Reshape', [this.native(v), this.shapeRef(outShape, `${hint}/shape`)], {}, hint);
      return { ...base, ref };
    }
    const physNonUnit = v.perm.filter((a) => isNonUnit(inShape[a] as Dim));
    // Groups in the order their first axis lies in memory, axes inside a group in ONNX order.
    const inGroups = groups.map((g) => g.in.map((k) => inAxes[k] as number));
    const outGroups = groups.map((g) => g.out.map((k) => outAxes[k] as number));
    const order = identityPerm(groups.length).sort(
      (x, y) => Math.min(...(inGroups[x] as number[]).map((a) => physNonUnit.indexOf(a))) - Math.min(...(inGroups[y] as number[]).map((a) => physNonUnit.indexOf(a))),
    );
    const wantIn = order.flatMap((g) => inGroups[g] as number[]);
    const units = v.perm.filter((a) => !isNonUnit(inShape[a] as Dim));
    const isInOrder = wantIn.every((a, i) => a === physNonUnit[i]);
    const src = isInOrder ? (v.ref as string) : this.refIn(v, [...wantIn, ...units]);
    const outNonUnit = order.flatMap((g) => outGroups[g] as number[]);
    const perm = placeUnitAxes(outNonUnit, outShape);
    const physOut = permute(outShape, perm);
    const ref = this.emit('Reshape', [src, this.shapeRef(physOut, `${hint}/shape`)], {}, hint);
    return { ...base, perm, ref };
  }

  /** An elementwise tfjs op on two broadcast values, computed in the layout of the operand that has one. */
  binary(op: string, a: Value, b: Value, hint: string): Value {
    const shape = broadcastShapes(a.shape, b.shape);
    if (shape === undefined) {
      throw new IgxError('E_MODEL_INVALID', `${this.file}: node '${hint}': shapes ${showShape(a.shape)} and ${showShape(b.shape)} do not broadcast`);
    }
    const rank = shape.length;
    const live = [a, b].filter((v) => v.ref !== undefined && v.shape.length === rank);
    const perm = (live.find((v) => !isIdentityPerm(v.perm)) ?? live[0])?.perm ?? identityPerm(rank);
    const ref = this.emit(op, [this.broadcastRef(a, rank, perm), this.broadcastRef(b, rank, perm)], {}, hint);
    return { name: hint, dtype: a.dtype, shape, perm: [...perm], ref };
  }

  /** `v` raised to `rank` by leading 1s, in layout `perm`. */
  broadcastRef(v: Value, rank: number, perm: readonly number[]): string {
    const lead = rank - v.shape.length;
    if (lead === 0) return this.refIn(v, perm);
    const shape: Dim[] = [...new Array<Dim>(lead).fill(1), ...v.shape];
    if (v.konst !== undefined && v.ref === undefined) {
      return this.refIn({ ...v, name: `${v.name}/r${rank}`, shape, perm: identityPerm(rank), konst: { ...v.konst, shape: shape as number[] } }, perm);
    }
    if (v.shape.every((d) => !isNonUnit(d)) || v.shape.length === 0) {
      return this.emit('Reshape', [this.native(v), this.shapeRef(permute(shape, perm), `${v.ref}/rank_shape`)], {}, `${v.ref}/rank${rank}`);
    }
    const raised = this.reshape(v, shape, `${v.ref}/rank${rank}`);
    return this.refIn(raised, perm);
  }

  /** A value computed at run time, registered under its ONNX name. */
  define(name: string, v: Omit<Value, 'name'>): Value {
    const value = { ...v, name };
    this.values.set(name, value);
    return value;
  }

  /** For messages. */
  product(dims: readonly Dim[], what: string): Dim {
    return productOf(dims, `${this.file}: ${what}`);
  }
}

/**
 * Pairs runs of input dims with runs of output dims of equal product (a reshape's merges and splits),
 * as indices into the two lists; undefined when the batch dim would merge with another.
 */
export function groupAxes(inDims: Dim[], outDims: Dim[]): { in: number[]; out: number[] }[] | undefined {
  const groups: { in: number[]; out: number[] }[] = [];
  let i = 0;
  let j = 0;
  while (i < inDims.length || j < outDims.length) {
    if (i >= inDims.length || j >= outDims.length) return undefined;
    const g = { in: [i], out: [j] };
    const di = inDims[i++] as Dim;
    const dj = outDims[j++] as Dim;
    if (isBatchDim(di) || isBatchDim(dj)) {
      if (di !== dj) return undefined;
      groups.push(g);
      continue;
    }
    let pi = di;
    let pj = dj;
    while (pi !== pj) {
      if (pi < pj) {
        const d = inDims[i];
        if (d === undefined || isBatchDim(d)) return undefined;
        g.in.push(i++);
        pi *= d;
      } else {
        const d = outDims[j];
        if (d === undefined || isBatchDim(d)) return undefined;
        g.out.push(j++);
        pj *= d;
      }
    }
    groups.push(g);
  }
  return groups;
}

/**
 * A full layout from the physical order of the non-unit axes: each size-1 axis goes right after its
 * ONNX predecessor, so a layout that is ONNX order for the non-unit axes stays the identity.
 */
export function placeUnitAxes(nonUnit: number[], shape: readonly Dim[]): number[] {
  const perm = [...nonUnit];
  for (let a = 0; a < shape.length; a++) {
    if (isNonUnit(shape[a] as Dim)) continue;
    const at = a === 0 ? -1 : perm.indexOf(a - 1);
    perm.splice(at + 1, 0, a);
  }
  return perm;
}
