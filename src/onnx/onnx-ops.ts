/**
 * The ONNX ops igx supports: one table, op type → the tfjs nodes it emits. Images are held NHWC
 * (physical layout [0, 2, 3, 1] of the ONNX NCHW tensor); each op maps its ONNX axes through its
 * input's layout, so the graph transposes only where data must really move (a Flatten of a feature
 * map into features, a channel shuffle). Ops whose inputs are all known at build time (shape arithmetic:
 * Shape → Gather → Concat → Reshape) fold to constants for the model's input size.
 */
import type { OnnxBuildContext } from './onnx-build-context.js';
import { attrInts, attrString, attrType } from './onnx-build-context.js';
import type { OnnxNode } from './onnx-node.js';
import { ONNX_DTYPE } from './onnx-proto.js';
import {
  broadcastConst,
  broadcastShapes,
  concatConst,
  elementAt,
  identityPerm,
  invertPerm,
  isIdentityPerm,
  makeConst,
  NHWC,
  numbersOf,
  permute,
  sizeOf,
  sliceConst,
  transposeConst,
  isBatchDim,
  batchDim,
  batchFactor,
  type BatchDim,
  type ConstValue,
  type Dim,
  type Value,
} from './onnx-value.js';

export type OpOutput = Omit<Value, 'name'>;
export type OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => OpOutput[];

const FLOAT_MAX = 3.4028234663852886e38;

const isConst = (v: Value | undefined): v is Value & { konst: ConstValue } => v !== undefined && v.konst !== undefined && v.ref === undefined;

const constOut = (c: ConstValue): OpOutput => ({ dtype: c.dtype, shape: [...c.shape], perm: identityPerm(c.shape.length), konst: c });

const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** A value's tensor in its own layout (a constant in ONNX order). */
function live(ctx: OnnxBuildContext, v: Value): { ref: string; perm: number[] } {
  if (v.ref !== undefined) return { ref: v.ref, perm: v.perm };
  return { ref: ctx.refIn(v, identityPerm(v.shape.length)), perm: identityPerm(v.shape.length) };
}

function constInput(n: OnnxNode, i: number, what: string): ConstValue {
  const v = n.input(i);
  if (!isConst(v)) n.fail(`${what} (input ${i}) is computed at run time; igx needs it constant for the model's input size`);
  return v.konst;
}

function staticDim(n: OnnxNode, d: Dim | undefined, what: string): number {
  if (typeof d !== 'number') n.fail(`${what} is the open batch size`);
  return d;
}

function unary(tfOp: string, attr: (n: OnnxNode) => Record<string, unknown> = () => ({})): OpEmitter {
  return (ctx: OnnxBuildContext, n: OnnxNode) => {
    const x = n.input(0);
    const { ref, perm } = live(ctx, x);
    return [{ dtype: x.dtype, shape: x.shape, perm, ref: ctx.emit(tfOp, [ref], attr(n), n.name) }];
  };
}

const passThrough: OpEmitter = (_ctx: OnnxBuildContext, n: OnnxNode) => {
  const { name: _name, ...rest } = n.input(0);
  return [rest];
};

function foldScalar(op: string, x: Dim, y: Dim, isInt: boolean): Dim {
  if (isBatchDim(x) || isBatchDim(y)) {
    // A batch size is ≥ 1: torch's expand(n, -1, -1) compares the shape with -1.
    if (op === 'Equal') {
      if (isBatchDim(x) && isBatchDim(y)) return x === y ? 1 : 0;
      if ((isBatchDim(x) ? y : x) as number <= 0) return 0;
    }
    if (op === 'Mul' && !(isBatchDim(x) && isBatchDim(y))) {
      const [d, k] = (isBatchDim(x) ? [x, y] : [y, x]) as [BatchDim, number];
      return batchDim(batchFactor(d) * k);
    }
    if (op === 'Div' && isBatchDim(x) && !isBatchDim(y) && batchFactor(x) % y === 0) return batchDim(batchFactor(x) / y);
    if ((op === 'Add' || op === 'Sub') && isBatchDim(x) && y === 0) return x;
    throw new Error(`${op} of the open batch size`);
  }
  switch (op) {
    case 'Add':
      return x + y;
    case 'Sub':
      return x - y;
    case 'Mul':
      return isInt ? Math.imul(x, y) : Math.fround(x * y);
    case 'Div':
      return isInt ? Math.trunc(x / y) : Math.fround(x / y);
    case 'Pow':
      return Math.fround(x ** y);
    default:
      return x === y ? 1 : 0; // Equal
  }
}

function binary(tfOp: string, onnxOp: string): OpEmitter {
  return (ctx: OnnxBuildContext, n: OnnxNode) => {
    const a = n.input(0);
    const b = n.input(1);
    if (isConst(a) && isConst(b)) {
      try {
        const dtype = onnxOp === 'Equal' ? 'bool' : a.dtype;
        return [constOut(broadcastConst(a.konst, b.konst, dtype, (x, y) => foldScalar(onnxOp, x, y, a.dtype === 'int32')))];
      } catch (err) {
        n.fail((err as Error).message);
      }
    }
    const out = ctx.binary(tfOp, a, b, n.name);
    return [{ ...out, dtype: onnxOp === 'Equal' ? 'bool' : out.dtype }];
  };
}

/** Begin and end pads of a conv or pool's two spatial dims, and the output size, as ONNX and PyTorch define them. */
/** A 2-D window: the input's height and width, and the kernel, strides and dilations over them. */
interface SpatialWindow {
  inHW: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
}

function spatialPads(n: OnnxNode, window: SpatialWindow, isCeil: boolean) {
  const { inHW, kernel, strides, dilations } = window;
  const autoPad = n.string('auto_pad', 'NOTSET');
  const pads = n.ints('pads', [0, 0, 0, 0]);
  const begin: number[] = [];
  const end: number[] = [];
  const out: number[] = [];
  for (let i = 0; i < 2; i++) {
    const size = inHW[i] as number;
    const s = strides[i] as number;
    const eff = ((kernel[i] as number) - 1) * (dilations[i] as number) + 1;
    let b = pads[i] as number;
    let e = pads[i + 2] as number;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const total = Math.max((Math.ceil(size / s) - 1) * s + eff - size, 0);
      b = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      e = total - b;
    } else if (autoPad === 'VALID') {
      b = 0;
      e = 0;
    }
    const span = size + b + e - eff;
    let o = (isCeil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    // PyTorch (and ONNX since opset 19): the last window must start inside the input or its begin pad.
    if (isCeil && (o - 1) * s >= size + b) o--;
    begin.push(b);
    end.push(e);
    out.push(o);
  }
  // Windows past the end pad (ceil_mode) read extra padding that averages never count.
  const extra = out.map((o, i) => Math.max(0, (o - 1) * (strides[i] as number) + ((kernel[i] as number) - 1) * (dilations[i] as number) + 1 - ((inHW[i] as number) + (begin[i] as number) + (end[i] as number))));
  return { begin, end, out, extra, eff: kernel.map((k, i) => (k - 1) * (dilations[i] as number) + 1) };
}

/** TF 'SAME' or 'VALID' where it means exactly these pads, else an explicit PadV2 and 'VALID'. */
function applyPads(ctx: OnnxBuildContext, n: OnnxNode, ref: string, padding: { pads: ReturnType<typeof spatialPads>; window: SpatialWindow; padValue: number }) {
  const { pads: p, padValue } = padding;
  const { inHW, strides } = padding.window;
  const ends = p.end.map((e, i) => e + (p.extra[i] as number));
  if (p.begin.every((b) => b === 0) && ends.every((e) => e === 0)) return { ref, padding: 'VALID' };
  // TF's SAME pads (out − 1)·s + k_eff − in in all, the smaller half first.
  const isSame = p.extra.every((x) => x === 0) &&
    p.begin.every((b, i) => {
      const size = inHW[i] as number;
      const s = strides[i] as number;
      const total = Math.max((Math.ceil(size / s) - 1) * s + (p.eff[i] as number) - size, 0);
      return b === Math.floor(total / 2) && p.end[i] === total - b && p.out[i] === Math.ceil(size / s);
    });
  if (isSame) return { ref, padding: 'SAME' };
  const paddings = makeConst('int32', [4, 2], [0, 0, p.begin[0] as number, ends[0] as number, p.begin[1] as number, ends[1] as number, 0, 0]);
  const padded = ctx.emit('PadV2', [ref, ctx.constRef(paddings, `${n.name}/paddings`), ctx.scalarRef(padValue, `${n.name}/pad_value`)], { T: attrType('float32') }, `${n.name}/pad`);
  return { ref: padded, padding: 'VALID' };
}

function imageInput(n: OnnxNode): { x: Value; inHW: number[] } {
  const x = n.input(0);
  if (x.shape.length !== 4) n.fail(`igx supports 2-D ${n.op} only (input of rank 4), not rank ${x.shape.length}`);
  return { x, inHW: [staticDim(n, x.shape[2], 'height'), staticDim(n, x.shape[3], 'width')] };
}

const conv: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const { x, inHW } = imageInput(n);
  const w = constInput(n, 1, 'the weight');
  if (w.shape.length !== 4) n.fail(`a weight of rank ${w.shape.length}; igx supports 2-D convolutions`);
  const [outC, inPerGroup, kh, kw] = w.shape as [number, number, number, number];
  const group = n.int('group', 1);
  const inC = staticDim(n, x.shape[1], 'channels');
  if (inPerGroup * group !== inC) n.fail(`weight [${w.shape.join(',')}] with group ${group} does not fit ${inC} input channels`, 'E_MODEL_INVALID');
  const strides = n.ints('strides', [1, 1]);
  const dilations = n.ints('dilations', [1, 1]);
  const window = { inHW, kernel: [kh, kw], strides, dilations };
  const p = spatialPads(n, window, false);
  const { ref, padding } = applyPads(ctx, n, ctx.refIn(x, NHWC), { pads: p, window, padValue: 0 });
  const attr = {
    strides: attrInts([1, strides[0] as number, strides[1] as number, 1]),
    padding: attrString(padding),
    data_format: attrString('NHWC'),
    dilations: attrInts([1, dilations[0] as number, dilations[1] as number, 1]),
    T: attrType('float32'),
  };
  // The node that completes the ONNX node carries its name (what --layer and inspect show).
  const bias = n.inputs[2];
  const convName = bias === undefined ? n.name : `${n.name}/conv`;
  let y: string;
  if (group === 1) {
    y = ctx.emit('Conv2D', [ref, ctx.constRef(transposeConst(w, [2, 3, 1, 0]), `${n.name}/filter`)], attr, convName);
  } else if (inPerGroup === 1 && group === inC) {
    // Depthwise: output channel c·m + j reads input channel c; TF's filter is [kh, kw, c, m].
    const m = outC / inC;
    const filter = transposeConst({ ...w, shape: [inC, m, kh, kw] }, [2, 3, 0, 1]);
    y = ctx.emit('DepthwiseConv2dNative', [ref, ctx.constRef(filter, `${n.name}/filter`)], attr, convName);
  } else {
    // Grouped (RegNet, ResNeXt): one convolution per group on its slice of the channels.
    const parts = ctx.emit('Split', [ctx.scalarRef(3, `${n.name}/split_axis`, 'int32'), ref], { num_split: { i: String(group) }, T: attrType('float32') }, `${n.name}/split`);
    const outPerGroup = outC / group;
    const filterAll = transposeConst(w, [2, 3, 1, 0]); // [kh, kw, inPerGroup, outC]
    const convs: string[] = [];
    for (let g = 0; g < group; g++) {
      const cols: number[] = Array.from({ length: outPerGroup }, (_, j) => g * outPerGroup + j);
      const filter = sliceConst(filterAll, 3, cols);
      convs.push(ctx.emit('Conv2D', [`${parts}:${g}`, ctx.constRef(filter, `${n.name}/filter_${g}`)], attr, `${n.name}/group_${g}`));
    }
    y = ctx.emit('ConcatV2', [...convs, ctx.scalarRef(3, `${n.name}/concat_axis`, 'int32')], { N: { i: String(group) }, T: attrType('float32') }, convName);
  }
  if (bias !== undefined) {
    if (!isConst(bias)) n.fail('a bias computed at run time');
    y = ctx.emit('BiasAdd', [y, ctx.constRef(bias.konst, `${n.name}/bias`)], { data_format: attrString('NHWC'), T: attrType('float32') }, n.name);
  }
  return [{ dtype: 'float32', shape: [x.shape[0] as Dim, outC, p.out[0] as number, p.out[1] as number], perm: [...NHWC], ref: y }];
};

function pool(kind: 'max' | 'avg'): OpEmitter {
  return (ctx: OnnxBuildContext, n: OnnxNode) => {
    const { x, inHW } = imageInput(n);
    const kernel = n.ints('kernel_shape', []);
    if (kernel.length !== 2) n.fail(`kernel_shape [${kernel.join(',')}]; igx supports 2-D pooling`);
    const strides = n.ints('strides', [1, 1]);
    const dilations = n.ints('dilations', [1, 1]);
    if (dilations.some((d) => d !== 1)) n.fail('dilated pooling');
    const window = { inHW, kernel, strides, dilations };
    const p = spatialPads(n, window, n.int('ceil_mode', 0) === 1);
    const isCountingPads = n.int('count_include_pad', 0) === 1;
    const hasPads = [...p.begin, ...p.end, ...p.extra].some((v) => v !== 0);
    const x0 = ctx.refIn(x, NHWC);
    // Average pools that see padding: pad with zeros, pool, and rescale each output by k²/count, the count
    // of the window's cells that PyTorch divides by (pads only with count_include_pad, never the ceil_mode extra).
    const isRescaled = kind === 'avg' && hasPads;
    const { ref, padding } = isRescaled
      ? applyPads(ctx, n, x0, { pads: { ...p, out: p.out.map(() => -1) }, window, padValue: 0 })
      : applyPads(ctx, n, x0, { pads: p, window, padValue: kind === 'max' ? -FLOAT_MAX : 0 });
    const attr = {
      ksize: attrInts([1, kernel[0] as number, kernel[1] as number, 1]),
      strides: attrInts([1, strides[0] as number, strides[1] as number, 1]),
      padding: attrString(padding),
      data_format: attrString('NHWC'),
      T: attrType('float32'),
    };
    let y = ctx.emit(kind === 'max' ? 'MaxPool' : 'AvgPool', [ref], attr, isRescaled ? `${n.name}/pool` : n.name);
    if (isRescaled) {
      const [oh, ow] = p.out as [number, number];
      const scale: number[] = [];
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const count = [i, j].map((o, ax) => {
            const start = o * (strides[ax] as number) - (p.begin[ax] as number);
            const stop = Math.min(start + (kernel[ax] as number), (inHW[ax] as number) + (p.end[ax] as number));
            return isCountingPads ? stop - start : Math.min(stop, inHW[ax] as number) - Math.max(start, 0);
          });
          scale.push(((kernel[0] as number) * (kernel[1] as number)) / ((count[0] as number) * (count[1] as number)));
        }
      }
      y = ctx.emit('Mul', [y, ctx.constRef(makeConst('float32', [1, oh, ow, 1], scale), `${n.name}/count_scale`)], { T: attrType('float32') }, n.name);
    }
    // MaxPool's Indices output is not computed: the graph builder refuses a model that reads it.
    return [{ dtype: 'float32', shape: [x.shape[0] as Dim, x.shape[1] as Dim, p.out[0] as number, p.out[1] as number], perm: [...NHWC], ref: y }];
  };
}

function globalPool(tfOp: 'Mean' | 'Max'): OpEmitter {
  return (ctx: OnnxBuildContext, n: OnnxNode) => {
    const { x } = imageInput(n);
    const ref = ctx.emit(tfOp, [ctx.refIn(x, NHWC), ctx.intsRef([1, 2], `${n.name}/axes`)], { keep_dims: { b: true }, T: attrType('float32') }, n.name);
    return [{ dtype: 'float32', shape: [x.shape[0] as Dim, x.shape[1] as Dim, 1, 1], perm: [...NHWC], ref }];
  };
}

function reduce(tfOp: 'Mean' | 'Sum' | 'Max' | 'Min', axesInputSince: number): OpEmitter {
  return (ctx: OnnxBuildContext, n: OnnxNode) => {
    const x = n.input(0);
    const rank = x.shape.length;
    let axes = n.opset >= axesInputSince && n.inputs[1] !== undefined ? numbersOf(constInput(n, 1, 'axes'), n.where) : n.ints('axes', []);
    if (axes.length === 0) axes = n.int('noop_with_empty_axes', 0) === 1 ? [] : identityPerm(rank);
    axes = axes.map((a) => normAxis(a, rank));
    if (axes.length === 0) return passThrough(ctx, n);
    const keep = n.int('keepdims', 1) === 1;
    const { ref, perm } = live(ctx, x);
    const phys = axes.map((a) => perm.indexOf(a)).sort((a, b) => a - b);
    const y = ctx.emit(tfOp, [ref, ctx.intsRef(phys, `${n.name}/axes`)], { keep_dims: { b: keep }, T: attrType(x.dtype) }, n.name);
    const shape = keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const outPerm = keep ? perm : perm.filter((a) => !axes.includes(a)).map((a) => a - axes.filter((r) => r < a).length);
    return [{ dtype: x.dtype, shape, perm: outPerm, ref: y }];
  };
}

const gemm: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const a = n.input(0);
  const b = n.input(1);
  if (a.shape.length !== 2 || b.shape.length !== 2) n.fail(`Gemm of ranks ${a.shape.length} and ${b.shape.length}`, 'E_MODEL_INVALID');
  const transA = n.int('transA', 0) === 1;
  const transB = n.int('transB', 0) === 1;
  const alpha = n.float('alpha', 1);
  const beta = n.float('beta', 1);
  let bRef: string;
  let isBTransposed = false;
  let outCols: Dim;
  if (isConst(b)) {
    let bm = transB ? transposeConst(b.konst, [1, 0]) : b.konst;
    if (alpha !== 1) bm = { ...bm, data: Float32Array.from(bm.data as Float32Array, (v) => v * alpha) };
    bRef = ctx.constRef(bm, `${n.name}/weight`);
    outCols = bm.shape[1] as number;
  } else {
    bRef = ctx.native(b);
    isBTransposed = transB;
    outCols = (transB ? b.shape[0] : b.shape[1]) as Dim;
  }
  const c = n.inputs[2];
  const isLast = c === undefined && (isConst(b) || alpha === 1);
  let y = ctx.emit('MatMul', [ctx.native(a), bRef], { transpose_a: { b: transA }, transpose_b: { b: isBTransposed }, T: attrType('float32') }, isLast ? n.name : `${n.name}/matmul`);
  if (!isConst(b) && alpha !== 1) y = ctx.emit('Mul', [y, ctx.scalarRef(alpha, `${n.name}/alpha`)], { T: attrType('float32') }, c === undefined ? n.name : `${n.name}/alpha_mul`);
  let out: Value = { name: n.name, dtype: 'float32', shape: [(transA ? a.shape[1] : a.shape[0]) as Dim, outCols], perm: [0, 1], ref: y };
  if (c !== undefined) {
    const scaled: Value = isConst(c) && beta !== 1 ? { ...c, konst: { ...c.konst, data: Float32Array.from(c.konst.data as Float32Array, (v) => v * beta) } } : c;
    if (!isConst(c) && beta !== 1) n.fail('Gemm with beta ≠ 1 on a C computed at run time');
    out = ctx.binary('AddV2', out, scaled, n.name);
  }
  return [out];
};

const matMul: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const a = n.input(0);
  const b = n.input(1);
  if (a.shape.length < 2 || b.shape.length < 2) n.fail('MatMul of a vector');
  const k = a.shape[a.shape.length - 1] as Dim;
  const cols = b.shape[b.shape.length - 1] as Dim;
  if (b.shape.length === 2) {
    const lead = a.shape.slice(0, -1);
    const a2 = a.shape.length === 2 ? ctx.native(a) : ctx.emit('Reshape', [ctx.native(a), ctx.intsRef([-1, staticDim(n, k, 'the inner dim')], `${n.name}/flat_shape`)], {}, `${n.name}/flat`);
    let y = ctx.emit('MatMul', [a2, ctx.native(b)], { transpose_a: { b: false }, transpose_b: { b: false }, T: attrType('float32') }, n.name);
    const shape = [...lead, cols];
    if (a.shape.length > 2) y = ctx.emit('Reshape', [y, ctx.shapeRef(shape, `${n.name}/out_shape`)], {}, `${n.name}/unflat`);
    return [{ dtype: 'float32', shape, perm: identityPerm(shape.length), ref: y }];
  }
  const lead = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (lead === undefined) return n.fail('batch dims that do not broadcast', 'E_MODEL_INVALID');
  const rank = lead.length + 2;
  const id = identityPerm(rank);
  const y = ctx.emit('BatchMatMulV2', [ctx.broadcastRef(a, rank, id), ctx.broadcastRef(b, rank, id)], { adj_x: { b: false }, adj_y: { b: false }, T: attrType('float32') }, n.name);
  const shape = [...lead, a.shape[a.shape.length - 2] as Dim, cols];
  return [{ dtype: 'float32', shape, perm: id, ref: y }];
};

const batchNorm: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => constInput(n, i, ['scale', 'B', 'mean', 'var'][i - 1] as string).data as Float32Array) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const eps = n.float('epsilon', 1e-5);
  const c = (scale as Float32Array).length;
  // y = (x − mean)·scale/√(var + ε) + B as one multiply and one add, in float64 then rounded.
  const mul = Float64Array.from(scale as Float32Array, (s, i) => s / Math.sqrt((variance as Float32Array)[i] as number + eps));
  const add = Float64Array.from(mul, (m, i) => ((bias as Float32Array)[i] as number) - ((mean as Float32Array)[i] as number) * m);
  const shape = [c, ...new Array<number>(Math.max(0, x.shape.length - 2)).fill(1)];
  const asValue = (data: Float64Array, tag: string): Value => ({ name: `${n.name}/${tag}`, dtype: 'float32', shape, perm: identityPerm(shape.length), konst: { dtype: 'float32', shape, data: Float32Array.from(data) } });
  const y = ctx.binary('Mul', x, asValue(mul, 'scale'), `${n.name}/scale`);
  return [ctx.binary('AddV2', y, asValue(add, 'offset'), n.name)];
};

const clip: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const bound = (i: number, attr: string, fallback: number): number => {
    if (n.opset < 11) return n.float(attr, fallback);
    const v = n.inputs[i];
    return v === undefined ? fallback : (numbersOf(constInput(n, i, attr), n.where)[0] as number);
  };
  const lo = bound(1, 'min', -Infinity);
  const hi = bound(2, 'max', Infinity);
  const { ref, perm } = live(ctx, x);
  let y: string;
  if (lo === 0 && hi === 6) y = ctx.emit('Relu6', [ref], { T: attrType('float32') }, n.name);
  else if (lo === 0 && hi === Infinity) y = ctx.emit('Relu', [ref], { T: attrType('float32') }, n.name);
  else {
    const clamp = (v: number): number => Math.max(-FLOAT_MAX, Math.min(FLOAT_MAX, v));
    y = ctx.emit('ClipByValue', [ref, ctx.scalarRef(clamp(lo), `${n.name}/min`), ctx.scalarRef(clamp(hi), `${n.name}/max`)], { T: attrType('float32') }, n.name);
  }
  return [{ dtype: x.dtype, shape: x.shape, perm, ref: y }];
};

/** max(0, min(1, αx + β)). */
function emitHardSigmoid(ctx: OnnxBuildContext, ref: string, line: { alpha: number; beta: number }, hint: string): string {
  const { alpha, beta } = line;
  const t = ctx.emit('Mul', [ref, ctx.scalarRef(alpha, `${hint}/alpha`)], { T: attrType('float32') }, `${hint}/mul`);
  const u = ctx.emit('AddV2', [t, ctx.scalarRef(beta, `${hint}/beta`)], { T: attrType('float32') }, `${hint}/add`);
  return ctx.emit('ClipByValue', [u, ctx.scalarRef(0, `${hint}/zero`), ctx.scalarRef(1, `${hint}/one`)], { T: attrType('float32') }, hint);
}

const hardSigmoid: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const { ref, perm } = live(ctx, x);
  return [{ dtype: x.dtype, shape: x.shape, perm, ref: emitHardSigmoid(ctx, ref, { alpha: n.float('alpha', 0.2), beta: n.float('beta', 0.5) }, n.name) }];
};

const hardSwish: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const { ref, perm } = live(ctx, x);
  const gate = emitHardSigmoid(ctx, ref, { alpha: 1 / 6, beta: 0.5 }, `${n.name}/gate`);
  return [{ dtype: x.dtype, shape: x.shape, perm, ref: ctx.emit('Mul', [ref, gate], { T: attrType('float32') }, n.name) }];
};

const flatten: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const axis = normAxis(n.int('axis', 1), x.shape.length);
  const shape = [ctx.product(x.shape.slice(0, axis), n.where), ctx.product(x.shape.slice(axis), n.where)];
  return [ctx.reshape(x, shape, n.name)];
};

const reshape: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const target = constInput(n, 1, 'the shape');
  const allowZero = n.int('allowzero', 0) === 1;
  const dims: Dim[] = Array.from({ length: target.shape[0] ?? 0 }, (_, i) => elementAt(target, i));
  const out = dims.map((d, i) => (d === 0 && !allowZero ? (x.shape[i] as Dim) : d));
  // An export traced at a fixed batch states it as a number; where the input's batch is open, it is the batch.
  const traced = ctx.tracedBatch;
  if (traced !== undefined && x.shape[0] === 'N' && out[0] === traced && !out.some(isBatchDim)) out[0] = 'N';
  // Sizes as (number of batches, the rest): k·N·m is [1, k·m], a plain m is [0, m].
  const size = (list: Dim[]): [number, number] =>
    list.reduce<[number, number]>(([b, p], d) => (isBatchDim(d) ? [b + 1, p * batchFactor(d)] : d === -1 ? [b, p] : [b, p * d]), [0, 1]);
  const [inB, inP] = size(x.shape);
  const [outB, outP] = size(out);
  const free = out.indexOf(-1);
  if (free >= 0) {
    if (inP % outP !== 0 || outB > inB) n.fail(`cannot reshape [${x.shape.join(',')}] into [${dims.join(',')}]`, 'E_MODEL_INVALID');
    out[free] = inB > outB ? batchDim(inP / outP) : inP / outP;
  } else if (inB !== outB || inP !== outP) {
    n.fail(`cannot reshape [${x.shape.join(',')}] into [${out.join(',')}]`, 'E_MODEL_INVALID');
  }
  if (isConst(x)) return [constOut({ ...x.konst, shape: out as number[] })];
  return [ctx.reshape(x, out, n.name)];
};

const transpose: OpEmitter = (_ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const rank = x.shape.length;
  const t = n.ints('perm', identityPerm(rank).reverse());
  if (isConst(x)) return [constOut(transposeConst(x.konst, t))];
  // No data moves: the layout is relabelled, physical axis i now holds ONNX axis tinv[perm[i]].
  const inv = invertPerm(t);
  return [{ dtype: x.dtype, shape: permute(x.shape, t), perm: x.perm.map((p) => inv[p] as number), ref: x.ref as string }];
};

const concat: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const xs = n.inputs.filter((v): v is Value => v !== undefined);
  const rank = (xs[0] as Value).shape.length;
  const axis = normAxis(n.int('axis', 0), rank);
  if (xs.every(isConst)) return [constOut(concatConst(xs.map((v) => v.konst), axis))];
  const perm = (xs.find((v) => !isConst(v) && !isIdentityPerm(v.perm)) ?? xs.find((v) => !isConst(v)) as Value).perm;
  const refs = xs.map((v) => ctx.refIn(v, perm));
  const ref = ctx.emit('ConcatV2', [...refs, ctx.scalarRef(perm.indexOf(axis), `${n.name}/axis`, 'int32')], { N: { i: String(refs.length) }, T: attrType(xs[0]?.dtype ?? 'float32') }, n.name);
  const shape = [...(xs[0] as Value).shape];
  for (const v of xs) {
    if (v.shape.length !== rank || v.shape.some((d, a) => a !== axis && d !== shape[a])) {
      n.fail(`inputs of shapes ${xs.map((x) => `[${x.shape.join(',')}]`).join(', ')} do not concatenate along axis ${axis}`, 'E_MODEL_INVALID');
    }
  }
  shape[axis] = xs.reduce((s, v) => s + staticDim(n, v.shape[axis], 'the concatenated dim'), 0);
  return [{ dtype: (xs[0] as Value).dtype, shape, perm: [...perm], ref }];
};

const split: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const rank = x.shape.length;
  const axis = normAxis(n.int('axis', 0), rank);
  const dim = staticDim(n, x.shape[axis], 'the split dim');
  const count = n.msg.output.length;
  let sizes = n.opset >= 13 && n.inputs[1] !== undefined ? numbersOf(constInput(n, 1, 'split'), n.where) : n.ints('split', []);
  if (sizes.length === 0) {
    const each = Math.ceil(dim / count);
    sizes = Array.from({ length: count }, (_, i) => Math.min(each, dim - i * each));
  }
  if (isConst(x)) {
    let start = 0;
    return sizes.map((s) => {
      const out = sliceConst(x.konst, axis, Array.from({ length: s }, (_, i) => start + i));
      start += s;
      return constOut(out);
    });
  }
  const { ref, perm } = live(ctx, x);
  const y = ctx.emit('SplitV', [ref, ctx.intsRef(sizes, `${n.name}/sizes`), ctx.scalarRef(perm.indexOf(axis), `${n.name}/axis`, 'int32')], { num_split: { i: String(sizes.length) }, T: attrType(x.dtype) }, n.name);
  return sizes.map((s, i) => ({ dtype: x.dtype, shape: x.shape.map((d, a) => (a === axis ? s : d)), perm, ref: `${y}:${i}` }));
};

/** ONNX Slice bounds for one axis, clamped as the spec says: [begin, end) by step, and the count. */
function sliceBounds(start: number, end: number, step: number, dim: number): { begin: number; end: number; count: number } {
  const wrap = (v: number): number => (v < 0 ? v + dim : v);
  if (step > 0) {
    const b = Math.min(Math.max(wrap(start), 0), dim);
    const e = Math.min(Math.max(wrap(end), 0), dim);
    return { begin: b, end: e, count: Math.max(0, Math.ceil((e - b) / step)) };
  }
  const b = Math.min(Math.max(wrap(start), 0), dim - 1);
  const e = Math.min(Math.max(wrap(end), -1), dim - 1);
  return { begin: b, end: e, count: Math.max(0, Math.ceil((b - e) / -step)) };
}

const slice: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const rank = x.shape.length;
  const read = (i: number, attr: string): number[] | undefined =>
    n.opset >= 10 ? (n.inputs[i] === undefined ? undefined : numbersOf(constInput(n, i, attr), n.where)) : n.has(attr) ? n.ints(attr, []) : undefined;
  const starts = read(1, 'starts') ?? [];
  const ends = read(2, 'ends') ?? [];
  const axes = (read(3, 'axes') ?? identityPerm(starts.length)).map((a) => normAxis(a, rank));
  const steps = read(4, 'steps') ?? starts.map(() => 1);
  const bounds = new Map<number, { begin: number; end: number; count: number; step: number }>();
  axes.forEach((a, i) => {
    const d = x.shape[a] as Dim;
    const step = steps[i] as number;
    if (isBatchDim(d)) {
      if ((starts[i] as number) === 0 && step === 1 && (ends[i] as number) >= 2147483647) return; // the whole batch
      n.fail('slicing the batch dim');
    }
    bounds.set(a, { ...sliceBounds(starts[i] as number, ends[i] as number, step, d), step });
  });
  const shape = x.shape.map((d, a) => bounds.get(a)?.count ?? d);
  if (isConst(x)) {
    let c = x.konst;
    for (const [a, b] of bounds) c = sliceConst(c, a, Array.from({ length: b.count }, (_, k) => b.begin + k * b.step));
    return [constOut(c)];
  }
  const { ref, perm } = live(ctx, x);
  const begin: number[] = [];
  const end: number[] = [];
  const strides: number[] = [];
  let beginMask = 0;
  let endMask = 0;
  perm.forEach((a, i) => {
    const b = bounds.get(a);
    begin.push(b?.begin ?? 0);
    end.push(b?.end ?? 0);
    strides.push(b?.step ?? 1);
    if (b === undefined) beginMask |= 1 << i;
    if (b === undefined || b.end < 0) endMask |= 1 << i;
  });
  const y = ctx.emit(
    'StridedSlice',
    [ref, ctx.intsRef(begin, `${n.name}/begin`), ctx.intsRef(end, `${n.name}/end`), ctx.intsRef(strides, `${n.name}/strides`)],
    { begin_mask: { i: String(beginMask) }, end_mask: { i: String(endMask) }, T: attrType(x.dtype), Index: attrType('int32') },
    n.name,
  );
  return [{ dtype: x.dtype, shape, perm, ref: y }];
};

const gather: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const rank = x.shape.length;
  const axis = normAxis(n.int('axis', 0), rank);
  const indices = constInput(n, 1, 'the indices');
  const dim = x.shape[axis] as Dim;
  const list = numbersOf(indices, n.where).map((i) => (i < 0 ? staticDim(n, dim, 'the gathered dim') + i : i));
  const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  if (isConst(x)) return [constOut({ ...sliceConst(x.konst, axis, list), shape: shape as number[] })];
  staticDim(n, dim, 'the gathered dim');
  const { ref, perm } = live(ctx, x);
  const p = perm.indexOf(axis);
  const k = indices.shape.length;
  const outPerm = perm.flatMap((a) => (a === axis ? identityPerm(k).map((j) => axis + j) : [a < axis ? a : a + k - 1]));
  if (k === 0) {
    // One index: a strided slice that drops the axis (tfjs differentiates it without scatter kernels).
    const begin = perm.map((_, i) => (i === p ? (list[0] as number) : 0));
    const end = perm.map((_, i) => (i === p ? (list[0] as number) + 1 : 0));
    const mask = perm.reduce((m, _, i) => (i === p ? m : m | (1 << i)), 0);
    const y = ctx.emit(
      'StridedSlice',
      [ref, ctx.intsRef(begin, `${n.name}/begin`), ctx.intsRef(end, `${n.name}/end`), ctx.intsRef(perm.map(() => 1), `${n.name}/strides`)],
      { begin_mask: { i: String(mask) }, end_mask: { i: String(mask) }, shrink_axis_mask: { i: String(1 << p) }, T: attrType(x.dtype), Index: attrType('int32') },
      n.name,
    );
    return [{ dtype: x.dtype, shape, perm: outPerm, ref: y }];
  }
  const y = ctx.emit('GatherV2', [ref, ctx.constRef(makeConst('int32', indices.shape, list), `${n.name}/indices`), ctx.scalarRef(p, `${n.name}/axis`, 'int32')], { batch_dims: { i: '0' } }, n.name);
  return [{ dtype: x.dtype, shape, perm: outPerm, ref: y }];
};

function axesOf(n: OnnxNode, since: number): number[] | undefined {
  if (n.opset >= since) return n.inputs[1] === undefined ? undefined : numbersOf(constInput(n, 1, 'axes'), n.where);
  return n.has('axes') ? n.ints('axes', []) : undefined;
}

const unsqueeze: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const axes = axesOf(n, 13) ?? [];
  const rank = x.shape.length + axes.length;
  const norm = axes.map((a) => normAxis(a, rank));
  const shape: Dim[] = [];
  let k = 0;
  for (let a = 0; a < rank; a++) shape.push(norm.includes(a) ? 1 : (x.shape[k++] as Dim));
  if (isConst(x)) return [constOut({ ...x.konst, shape: shape as number[] })];
  return [ctx.reshape(x, shape, n.name)];
};

const squeeze: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const axes = (axesOf(n, 13) ?? identityPerm(x.shape.length).filter((a) => x.shape[a] === 1)).map((a) => normAxis(a, x.shape.length));
  const shape = x.shape.filter((_, a) => !axes.includes(a));
  if (isConst(x)) return [constOut({ ...x.konst, shape: shape as number[] })];
  return [ctx.reshape(x, shape, n.name)];
};

const shapeOp: OpEmitter = (_ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const rank = x.shape.length;
  const start = normAxis(n.int('start', 0), rank);
  const end = n.has('end') ? normAxis(n.int('end', rank), rank) : rank;
  const dims = x.shape.slice(Math.max(0, start), Math.min(rank, end));
  return [constOut(makeConst('int32', [dims.length], dims))];
};

const constant: OpEmitter = (_ctx: OnnxBuildContext, n: OnnxNode) => {
  const t = n.tensor('value');
  if (t !== undefined) return [constOut(t)];
  if (n.has('value_float')) return [constOut(makeConst('float32', [], [n.float('value_float', 0)]))];
  const floats = n.floats('value_floats');
  if (n.has('value_floats') && floats !== undefined) return [constOut(makeConst('float32', [floats.length], floats))];
  if (n.has('value_int')) return [constOut(makeConst('int32', [], [n.int('value_int', 0)]))];
  if (n.has('value_ints')) {
    const ints = n.ints('value_ints', []);
    return [constOut(makeConst('int32', [ints.length], ints))];
  }
  return n.fail('a Constant without a tensor, float or int value (sparse or string constants)');
};

const constantOfShape: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const shapeConst = constInput(n, 0, 'the shape');
  const dims: Dim[] = Array.from({ length: shapeConst.shape[0] ?? 0 }, (_, i) => elementAt(shapeConst, i));
  const fill = n.tensor('value') ?? makeConst('float32', [1], [0]);
  const v = (fill.data as ArrayLike<number>)[0] ?? 0;
  if (!dims.some(isBatchDim)) return [constOut(makeConst(fill.dtype, dims as number[], new Array<number>(sizeOf(dims as number[])).fill(v)))];
  const ref = ctx.emit('Fill', [ctx.shapeRef(dims, `${n.name}/shape`, true), ctx.scalarRef(v, `${n.name}/value`, fill.dtype)], { T: attrType(fill.dtype), index_type: attrType('int32') }, n.name);
  return [{ dtype: fill.dtype, shape: dims, perm: identityPerm(dims.length), ref }];
};

function dtypeOfOnnx(type: number): Value['dtype'] {
  if (type === ONNX_DTYPE.FLOAT || type === ONNX_DTYPE.DOUBLE || type === ONNX_DTYPE.FLOAT16) return 'float32';
  if (type === ONNX_DTYPE.BOOL) return 'bool';
  return 'int32';
}

const cast: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const to = dtypeOfOnnx(n.int('to', ONNX_DTYPE.FLOAT));
  if (to === x.dtype) return passThrough(ctx, n);
  if (isConst(x)) {
    const elems = Array.from(x.konst.data as ArrayLike<Dim>, (d) => (isBatchDim(d) ? d : to === 'int32' ? Math.trunc(d) : to === 'bool' ? (d ? 1 : 0) : d));
    return [constOut(makeConst(to, x.konst.shape, elems))];
  }
  const { ref, perm } = live(ctx, x);
  return [{ dtype: to, shape: x.shape, perm, ref: ctx.emit('Cast', [ref], { SrcT: attrType(x.dtype), DstT: attrType(to) }, n.name) }];
};

const pow: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const e = n.input(1);
  if (isConst(e) && e.konst.shape.every((d) => d === 1) && !isConst(x)) {
    const exponent = (e.konst.data as ArrayLike<number>)[0];
    if (exponent === 2) return unary('Square')(ctx, n);
    if (exponent === 0.5) return unary('Sqrt')(ctx, n);
    if (exponent === 1) return passThrough(ctx, n);
  }
  return binary('Pow', 'Pow')(ctx, n);
};

const softmax: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const rank = x.shape.length;
  const axis = normAxis(n.int('axis', n.opset >= 13 ? -1 : 1), rank);
  if (n.opset < 13 && axis !== rank - 1) n.fail(`Softmax before opset 13 over axes ${axis}..${rank - 1} (igx supports the last axis)`);
  const { perm: own } = live(ctx, x);
  const perm = own[own.length - 1] === axis ? own : [...own.filter((a) => a !== axis), axis];
  const ref = ctx.emit('Softmax', [ctx.refIn(x, perm)], { T: attrType('float32') }, n.name);
  return [{ dtype: x.dtype, shape: x.shape, perm, ref }];
};

/** (x − mean) / √(variance + eps) over `axes` (physical), the core of LayerNormalization and InstanceNormalization. */
function emitNormalized(ctx: OnnxBuildContext, n: OnnxNode, o: { x: Value; ref: string; perm: number[]; axes: string; eps: number }): Value {
  const { ref, axes } = o;
  const T = { T: attrType('float32') };
  const mean = ctx.emit('Mean', [ref, axes], { keep_dims: { b: true }, ...T }, `${n.name}/mean`);
  const centred = ctx.emit('Sub', [ref, mean], T, `${n.name}/centred`);
  const variance = ctx.emit('Mean', [ctx.emit('Square', [centred], T, `${n.name}/square`), axes], { keep_dims: { b: true }, ...T }, `${n.name}/variance`);
  const inv = ctx.emit('Rsqrt', [ctx.emit('AddV2', [variance, ctx.scalarRef(o.eps, `${n.name}/epsilon`)], T, `${n.name}/add_eps`)], T, `${n.name}/rsqrt`);
  return { name: `${n.name}/normed`, dtype: 'float32', shape: o.x.shape, perm: o.perm, ref: ctx.emit('Mul', [centred, inv], T, `${n.name}/normed`) };
}

const layerNorm: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const rank = x.shape.length;
  const axis = normAxis(n.int('axis', -1), rank);
  const eps = n.float('epsilon', 1e-5);
  const { ref, perm } = live(ctx, x);
  const phys = identityPerm(rank).filter((i) => (perm[i] as number) >= axis);
  const axes = ctx.intsRef(phys, `${n.name}/axes`);
  const normed = emitNormalized(ctx, n, { x, ref, perm, axes, eps });
  let y = ctx.binary('Mul', normed, n.input(1), `${n.name}/scale`);
  if (n.inputs[2] !== undefined) y = ctx.binary('AddV2', y, n.input(2), n.name);
  return [y];
};

const expand: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const target = constInput(n, 1, 'the shape');
  const dims: Dim[] = Array.from({ length: target.shape[0] ?? 0 }, (_, i) => elementAt(target, i));
  const shape = broadcastShapes(x.shape, dims);
  if (shape === undefined) return n.fail(`shape ${JSON.stringify(x.shape)} does not broadcast to [${dims.join(',')}]`, 'E_MODEL_INVALID');
  const rank = shape.length;
  const id = identityPerm(rank);
  const ref = ctx.emit('BroadcastTo', [ctx.broadcastRef(x, rank, id), ctx.shapeRef(shape, `${n.name}/shape`, true)], { T: attrType(x.dtype), Tidx: attrType('int32') }, n.name);
  return [{ dtype: x.dtype, shape, perm: id, ref }];
};

/** `c` broadcast to `shape` (a copy). */
function expandConst(c: ConstValue, shape: number[]): ConstValue {
  return broadcastConst(c, makeConst(c.dtype, shape, new Array<number>(sizeOf(shape)).fill(0)), c.dtype, (x) => x);
}

const where: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const [c, a, b] = [n.input(0), n.input(1), n.input(2)];
  const shape = broadcastShapes(broadcastShapes(c.shape, a.shape) ?? [], b.shape);
  if (shape === undefined) return n.fail('inputs that do not broadcast', 'E_MODEL_INVALID');
  if (isConst(c) && isConst(a) && isConst(b)) {
    const [cc, ac, bc] = [c, a, b].map((v) => expandConst(v.konst, shape as number[])) as [ConstValue, ConstValue, ConstValue];
    const elems = Array.from({ length: sizeOf(shape as number[]) }, (_, i) => (elementAt(cc, i) ? elementAt(ac, i) : elementAt(bc, i)));
    return [constOut(makeConst(a.dtype, shape as number[], elems))];
  }
  const rank = shape.length;
  const id = identityPerm(rank);
  const ref = ctx.emit('SelectV2', [ctx.broadcastRef(c, rank, id), ctx.broadcastRef(a, rank, id), ctx.broadcastRef(b, rank, id)], { T: attrType(a.dtype) }, n.name);
  return [{ dtype: a.dtype, shape, perm: id, ref }];
};

/**
 * Pad mode 'edge' (repeat the border) has no TensorFlow op: one GatherV2 of clamped indices per padded
 * axis, [0, 0, 0, 1, …, n−1, n−1], which differentiates as any gather (the border cell collects its copies).
 */
function edgePad(ctx: OnnxBuildContext, n: OnnxNode, p: { x: Value; ref: string; perm: number[]; before: Map<number, number>; after: Map<number, number> }): string {
  let y = p.ref;
  p.perm.forEach((axis, physical) => {
    const [b, e] = [p.before.get(axis) ?? 0, p.after.get(axis) ?? 0];
    if (b === 0 && e === 0) return;
    const size = staticDim(n, p.x.shape[axis], `padded axis ${axis}`);
    const indices = Array.from({ length: b + size + e }, (_, i) => Math.min(Math.max(i - b, 0), size - 1));
    const at = ctx.constRef(makeConst('int32', [indices.length], indices), `${n.name}/edge_indices_${axis}`);
    y = ctx.emit('GatherV2', [y, at, ctx.scalarRef(physical, `${n.name}/edge_axis_${axis}`, 'int32')], { batch_dims: { i: '0' } }, `${n.name}/edge_${axis}`);
  });
  return y;
}

const pad: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const rank = x.shape.length;
  const pads = n.opset >= 11 ? numbersOf(constInput(n, 1, 'pads'), n.where) : n.ints('pads', []);
  let axes = identityPerm(rank);
  if (n.opset >= 18 && n.inputs[3] !== undefined) axes = numbersOf(constInput(n, 3, 'axes'), n.where).map((a) => normAxis(a, rank));
  const value = n.opset >= 11 ? (n.inputs[2] === undefined ? 0 : (numbersOf(constInput(n, 2, 'constant_value'), n.where)[0] ?? 0)) : n.float('value', 0);
  const mode = n.string('mode', 'constant');
  if (pads.some((p) => p < 0)) n.fail('negative pads (cropping)');
  const before = new Map(axes.map((a, i) => [a, pads[i] as number]));
  const after = new Map(axes.map((a, i) => [a, pads[i + axes.length] as number]));
  const { ref, perm } = live(ctx, x);
  const paddings = perm.flatMap((a) => [before.get(a) ?? 0, after.get(a) ?? 0]);
  const list = makeConst('int32', [rank, 2], paddings);
  let y: string;
  if (mode === 'constant') {
    y = ctx.emit('PadV2', [ref, ctx.constRef(list, `${n.name}/paddings`), ctx.scalarRef(value, `${n.name}/value`, x.dtype)], { T: attrType(x.dtype) }, n.name);
  } else if (mode === 'reflect') {
    y = ctx.emit('MirrorPad', [ref, ctx.constRef(list, `${n.name}/paddings`)], { mode: attrString('REFLECT'), T: attrType(x.dtype) }, n.name);
  } else if (mode === 'edge') {
    y = edgePad(ctx, n, { x, ref, perm, before, after });
  } else {
    return n.fail(`mode '${mode}' (igx pads with 'constant', 'reflect' and 'edge')`);
  }
  const shape = x.shape.map((d, a) => (isBatchDim(d) ? d : d + (before.get(a) ?? 0) + (after.get(a) ?? 0)));
  return [{ dtype: x.dtype, shape, perm, ref: y }];
};

/** (x − mean)/√(var + ε) over the spatial axes of each image and channel, then scale and B per channel. */
const instanceNorm: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const x = n.input(0);
  const rank = x.shape.length;
  if (rank < 3) n.fail(`an input of rank ${rank}`, 'E_MODEL_INVALID');
  const eps = n.float('epsilon', 1e-5);
  const { ref, perm } = live(ctx, x);
  const axes = ctx.intsRef(identityPerm(rank).filter((i) => (perm[i] as number) >= 2), `${n.name}/axes`);
  const normed = emitNormalized(ctx, n, { x, ref, perm, axes, eps });
  const perChannel = (i: number, tag: string): Value => {
    const c = constInput(n, i, tag);
    const shape = [c.shape[0] as number, ...new Array<number>(rank - 2).fill(1)];
    return { name: `${n.name}/${tag}`, dtype: 'float32', shape, perm: identityPerm(shape.length), konst: { ...c, shape } };
  };
  const y = ctx.binary('Mul', normed, perChannel(1, 'scale'), `${n.name}/scale`);
  return [ctx.binary('AddV2', y, perChannel(2, 'B'), n.name)];
};

/** How Resize samples an axis: ONNX's mode, coordinate_transformation_mode, cubic_coeff_a and exclude_outside. */
interface ResizeSampling {
  kind: 'nearest' | 'linear' | 'cubic';
  transform: string;
  cubicCoeffA: number;
  isExcludingOutside: boolean;
}

/** Where output o reads the input axis, in ONNX's coordinate transform (x_in = (o + ½)·in/out − ½ for half_pixel). */
function sourceCoordinate(o: number, axis: { size: number; out: number; transform: string }): number {
  const { size, out, transform } = axis;
  if (transform === 'align_corners') return out === 1 ? 0 : (o * (size - 1)) / (out - 1);
  if (transform === 'asymmetric') return (o * size) / out;
  if (transform === 'pytorch_half_pixel' && out === 1) return 0;
  return ((o + 0.5) * size) / out - 0.5;
}

/** Keys' cubic convolution kernel at distance d, with ONNX's cubic_coeff_a (−0.75, as PyTorch's bicubic). */
function cubicKernel(d: number, a: number): number {
  const x = Math.abs(d);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  return x < 2 ? ((a * x - 5 * a) * x + 8 * a) * x - 4 * a : 0;
}

/** The input indices output o reads, with their weights; indices may lie outside the axis (the caller clamps them). */
function resizeTaps(o: number, axis: ResizeSampling & { size: number; out: number }): [number, number][] {
  const { size, out, kind } = axis;
  if (kind === 'nearest') return [[Math.floor((o * size) / out), 1]];
  const src = sourceCoordinate(o, axis);
  if (kind === 'linear') {
    // Clamped at the edges as PyTorch does (ONNX's edge padding gives the same).
    const c = Math.min(Math.max(src, 0), size - 1);
    const i0 = Math.floor(c);
    return [[i0, 1 - (c - i0)], [i0 + 1, c - i0]];
  }
  // Cubic: four taps around src, not clamped (PyTorch and ONNX repeat the edge pixel instead).
  const i0 = Math.floor(src);
  const taps = [-1, 0, 1, 2].map((k): [number, number] => [i0 + k, cubicKernel(src - i0 - k, axis.cubicCoeffA)]);
  if (!axis.isExcludingOutside) return taps;
  // exclude_outside: taps outside the input get no weight, and the others are renormalised to sum to 1.
  const inside = taps.filter(([i]) => i >= 0 && i < size);
  const total = inside.reduce((s, [, w]) => s + w, 0);
  return inside.map(([i, w]) => [i, w / total]);
}

/** Interpolation weights of one axis, [out, in]: row o holds the weights output o gives the inputs. */
function resizeMatrix(size: number, out: number, sampling: ResizeSampling): number[] {
  const m = new Array<number>(out * size).fill(0);
  for (let o = 0; o < out; o++) {
    for (const [i, w] of resizeTaps(o, { ...sampling, size, out })) {
      const at = o * size + Math.min(Math.max(i, 0), size - 1);
      m[at] = (m[at] as number) + w;
    }
  }
  return m;
}

/** [h, w] out of [N, C, h, w] scales, which must leave N and C alone and give whole sizes. */
function scaledSizes(n: OnnxNode, inHW: number[], scales: number[]): number[] {
  if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) n.fail(`scales [${scales.join(',')}] (igx resizes height and width of an NCHW image only)`);
  const out = inHW.map((d, i) => Math.floor(d * (scales[i + 2] as number)));
  if (out.some((o, i) => o !== (inHW[i] as number) * (scales[i + 2] as number))) n.fail(`scales [${scales.join(',')}] that do not give whole sizes`);
  return out;
}

/** Coordinate transforms igx resizes with, linear and cubic alike (not tf_crop_and_resize, half_pixel_symmetric). */
const RESIZE_TRANSFORMS = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric'];

/**
 * Resize of the two spatial axes as two matrix products with the interpolation weights: exact for
 * linear and cubic (half_pixel — PyTorch's align_corners=False —, pytorch_half_pixel, align_corners,
 * asymmetric; any cubic_coeff_a and exclude_outside) and for nearest with asymmetric and floor
 * (PyTorch's mode='nearest'), and differentiable in each: the gradient is A_hᵀ·dy·A_w (tfjs's
 * ResizeBilinear has no pytorch_half_pixel mode, and tfjs has no bicubic resize).
 */
const resize: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const { x, inHW } = imageInput(n);
  const mode = n.string('mode', 'nearest');
  const transform = n.string('coordinate_transformation_mode', n.opset >= 11 ? 'half_pixel' : 'asymmetric');
  // Opset 18's antialias widens the kernel when shrinking; its axes change what sizes and scales list.
  if (n.int('antialias', 0) !== 0 || n.has('axes')) n.fail('antialias or axes (opset 18)');
  const scalesAt = n.opset >= 11 ? 2 : 1;
  // sizes [N, C, h, w] (torch builds N and C from the input's shape): only h and w must be known.
  const sizesConst = n.opset >= 11 && n.inputs[3] !== undefined ? constInput(n, 3, 'sizes') : undefined;
  const sizes = sizesConst === undefined ? undefined : numbersOf(sliceConst(sizesConst, 0, [2, 3]), n.where);
  const scales = sizes === undefined ? numbersOf(constInput(n, scalesAt, 'scales'), n.where) : undefined;
  const out = sizes ?? scaledSizes(n, inHW, scales as number[]);
  // Resize-10 has no nearest_mode: onnxruntime truncates, which is floor when enlarging.
  const isEnlarging = out.every((o, i) => o >= (inHW[i] as number));
  const nearestMode = n.string('nearest_mode', n.opset >= 11 || !isEnlarging ? 'round_prefer_floor' : 'floor');
  const isInterpolated = (mode === 'linear' || mode === 'cubic') && RESIZE_TRANSFORMS.includes(transform);
  const isNearest = mode === 'nearest' && transform === 'asymmetric' && nearestMode === 'floor';
  if (!isInterpolated && !isNearest) {
    return n.fail(`mode '${mode}' with coordinate_transformation_mode '${transform}'${mode === 'nearest' ? ` and nearest_mode '${nearestMode}'` : ''}`);
  }
  const sampling: ResizeSampling = { kind: mode as ResizeSampling['kind'], transform, cubicCoeffA: n.float('cubic_coeff_a', -0.75), isExcludingOutside: n.int('exclude_outside', 0) === 1 };
  return [emitResize(ctx, n, { x, inHW, out, sampling })];
};

/**
 * Upsample (opsets 7–9, Resize's predecessor): scales ≥ 1 as an attribute (7, 8) or input 1 (9), in
 * asymmetric coordinates, nearest by floor — Resize-10's semantics.
 */
const upsample: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const { x, inHW } = imageInput(n);
  const scales = n.opset >= 9 ? numbersOf(constInput(n, 1, 'scales'), n.where) : (n.floats('scales') ?? []);
  if (scales.some((s) => s < 1)) n.fail(`scales [${scales.join(',')}] below 1`, 'E_MODEL_INVALID');
  const mode = n.string('mode', 'nearest');
  if (mode !== 'nearest' && mode !== 'linear') return n.fail(`mode '${mode}' (igx upsamples with 'nearest' and 'linear')`);
  const sampling: ResizeSampling = { kind: mode, transform: 'asymmetric', cubicCoeffA: -0.75, isExcludingOutside: false };
  return [emitResize(ctx, n, { x, inHW, out: scaledSizes(n, inHW, scales), sampling })];
};

function emitResize(ctx: OnnxBuildContext, n: OnnxNode, r: { x: Value; inHW: number[]; out: number[]; sampling: ResizeSampling }): OpOutput {
  const { x, sampling } = r;
  const [h, w] = r.inHW as [number, number];
  const [oh, ow] = r.out as [number, number];
  const c = staticDim(n, x.shape[1], 'channels');
  const T = { T: attrType('float32') };
  const mm = { adj_x: { b: false }, adj_y: { b: false }, ...T };
  // rows: [N, h, w·c] → A_h [1, oh, h] · → [N, oh, w·c]; columns: [N·oh, w, c] → A_w [1, ow, w] · → [N·oh, ow, c].
  const rows = ctx.emit('Reshape', [ctx.refIn(x, NHWC), ctx.intsRef([-1, h, w * c], `${n.name}/rows_shape`)], {}, `${n.name}/rows`);
  const ah = ctx.constRef(makeConst('float32', [1, oh, h], resizeMatrix(h, oh, sampling)), `${n.name}/weights_h`);
  const byRows = ctx.emit('BatchMatMulV2', [ah, rows], mm, `${n.name}/resize_h`);
  const cols = ctx.emit('Reshape', [byRows, ctx.intsRef([-1, w, c], `${n.name}/cols_shape`)], {}, `${n.name}/cols`);
  const aw = ctx.constRef(makeConst('float32', [1, ow, w], resizeMatrix(w, ow, sampling)), `${n.name}/weights_w`);
  const byCols = ctx.emit('BatchMatMulV2', [aw, cols], mm, `${n.name}/resize_w`);
  const ref = ctx.emit('Reshape', [byCols, ctx.intsRef([-1, oh, ow, c], `${n.name}/out_shape`)], {}, n.name);
  return { dtype: 'float32', shape: [x.shape[0] as Dim, c, oh, ow], perm: [...NHWC], ref };
}

/** A ConvTranspose weight [in, out/group, kh, kw] with d − 1 zeros between taps: the kernel a dilation of d reads. */
function dilateKernel(w: ConstValue, dilations: number[]): ConstValue {
  const [inC, outC, kh, kw] = w.shape as [number, number, number, number];
  const [dh, dw] = dilations as [number, number];
  const [eh, ew] = [(kh - 1) * dh + 1, (kw - 1) * dw + 1];
  const data = new Float32Array(inC * outC * eh * ew);
  for (let c = 0; c < inC * outC; c++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) data[(c * eh + i * dh) * ew + j * dw] = elementAt(w, (c * kh + i) * kw + j) as number;
    }
  }
  return { dtype: 'float32', shape: [inC, outC, eh, ew], data };
}

/**
 * Conv2DBackpropInput at VALID padding, one per group on its slice of the channels (TF has no grouped
 * transposed convolution), concatenated: [N, h, w, in] → [N, full_h, full_w, out].
 */
function emitTransposeConv(ctx: OnnxBuildContext, n: OnnxNode, t: { x: string; w: ConstValue; group: number; full: number[]; batch: Dim; strides: number[] }): string {
  const { w, group, full } = t;
  const [inC, outPerGroup] = w.shape as [number, number];
  const inPerGroup = inC / group;
  const attr = { strides: attrInts([1, t.strides[0] as number, t.strides[1] as number, 1]), padding: attrString('VALID'), data_format: attrString('NHWC'), T: attrType('float32') };
  const name = `${n.name}/transpose_conv`;
  const outputShape = ctx.shapeRef([t.batch, full[0] as number, full[1] as number, outPerGroup], `${n.name}/output_shape`, true);
  // TF's filter is [kh, kw, out, in] (the forward convolution's, read backwards).
  const filter = (g: number): string => {
    const rows = Array.from({ length: inPerGroup }, (_, k) => g * inPerGroup + k);
    return ctx.constRef(transposeConst(group === 1 ? w : sliceConst(w, 0, rows), [2, 3, 1, 0]), `${n.name}/filter${group === 1 ? '' : `_${g}`}`);
  };
  if (group === 1) return ctx.emit('Conv2DBackpropInput', [outputShape, filter(0), t.x], attr, name);
  const parts = ctx.emit('Split', [ctx.scalarRef(3, `${n.name}/split_axis`, 'int32'), t.x], { num_split: { i: String(group) }, T: attrType('float32') }, `${n.name}/split`);
  const outs = Array.from({ length: group }, (_, g) => ctx.emit('Conv2DBackpropInput', [outputShape, filter(g), `${parts}:${g}`], attr, `${name}_${g}`));
  return ctx.emit('ConcatV2', [...outs, ctx.scalarRef(3, `${n.name}/concat_axis`, 'int32')], { N: { i: String(group) }, T: attrType('float32') }, name);
}

/**
 * ConvTranspose as TensorFlow's Conv2DBackpropInput at VALID padding (each input pixel spreads its
 * kernel: ((in − 1)·s + d·(k − 1) + 1) per axis), then output_padding added at the end and the pads
 * cut off. Dilations become zeros in the kernel; groups, one transposed convolution each.
 */
const convTranspose: OpEmitter = (ctx: OnnxBuildContext, n: OnnxNode) => {
  const { x, inHW } = imageInput(n);
  const weight = constInput(n, 1, 'the weight');
  if (weight.shape.length !== 4) n.fail(`a weight of rank ${weight.shape.length}; igx supports 2-D transposed convolutions`);
  const group = n.int('group', 1);
  const dilations = n.ints('dilations', [1, 1]);
  const w = dilations.every((d) => d === 1) ? weight : dilateKernel(weight, dilations);
  const [inC, outPerGroup, kh, kw] = w.shape as [number, number, number, number];
  if (n.has('output_shape') || !['NOTSET', 'VALID'].includes(n.string('auto_pad', 'NOTSET'))) n.fail('output_shape or auto_pad (give pads)');
  if (staticDim(n, x.shape[1], 'channels') !== inC || inC % group !== 0) n.fail(`weight [${weight.shape.join(',')}] with group ${group} does not fit ${String(x.shape[1])} input channels`, 'E_MODEL_INVALID');
  const outC = outPerGroup * group;
  const strides = n.ints('strides', [1, 1]);
  const pads = n.ints('pads', [0, 0, 0, 0]);
  const outPad = n.ints('output_padding', [0, 0]);
  const full = inHW.map((d, i) => (d - 1) * (strides[i] as number) + [kh, kw][i]!);
  const out = full.map((f, i) => f + (outPad[i] as number) - (pads[i] as number) - (pads[i + 2] as number));
  const batch = x.shape[0] as Dim;
  let y = emitTransposeConv(ctx, n, { x: ctx.refIn(x, NHWC), w, group, full, batch, strides });
  if (outPad.some((p) => p !== 0)) {
    const paddings = makeConst('int32', [4, 2], [0, 0, 0, outPad[0] as number, 0, outPad[1] as number, 0, 0]);
    y = ctx.emit('PadV2', [y, ctx.constRef(paddings, `${n.name}/output_padding`), ctx.scalarRef(0, `${n.name}/pad_value`)], { T: attrType('float32') }, `${n.name}/pad`);
  }
  if (pads.some((p) => p !== 0)) {
    y = ctx.emit(
      'StridedSlice',
      [y, ctx.intsRef([0, pads[0] as number, pads[1] as number, 0], `${n.name}/begin`), ctx.intsRef([0, (pads[0] as number) + (out[0] as number), (pads[1] as number) + (out[1] as number), 0], `${n.name}/end`), ctx.intsRef([1, 1, 1, 1], `${n.name}/strides`)],
      { begin_mask: { i: '9' }, end_mask: { i: '9' }, T: attrType('float32'), Index: attrType('int32') },
      `${n.name}/crop`,
    );
  }
  const bias = n.inputs[2];
  if (bias !== undefined) {
    if (!isConst(bias)) n.fail('a bias computed at run time');
    y = ctx.emit('BiasAdd', [y, ctx.constRef(bias.konst, `${n.name}/bias`)], { data_format: attrString('NHWC'), T: attrType('float32') }, `${n.name}/bias_add`);
  }
  y = ctx.emit('Identity', [y], { T: attrType('float32') }, n.name);
  return [{ dtype: 'float32', shape: [batch, outC, out[0] as number, out[1] as number], perm: [...NHWC], ref: y }];
};

/** ONNX op type (default domain) → what igx emits for it. */
export const ONNX_OPS: Readonly<Record<string, OpEmitter>> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  Gemm: gemm,
  MatMul: matMul,
  Add: binary('AddV2', 'Add'),
  Sub: binary('Sub', 'Sub'),
  Mul: binary('Mul', 'Mul'),
  Div: binary('RealDiv', 'Div'),
  Pow: pow,
  Equal: binary('Equal', 'Equal'),
  Relu: unary('Relu'),
  LeakyRelu: unary('LeakyRelu', (n) => ({ alpha: { f: n.float('alpha', 0.01) } })),
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Erf: unary('Erf'),
  Sqrt: unary('Sqrt'),
  Neg: unary('Neg'),
  Exp: unary('Exp'),
  Abs: unary('Abs'),
  Reciprocal: unary('Reciprocal'),
  Clip: clip,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  InstanceNormalization: instanceNorm,
  Resize: resize,
  Upsample: upsample,
  Softmax: softmax,
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: globalPool('Mean'),
  GlobalMaxPool: globalPool('Max'),
  ReduceMean: reduce('Mean', 18),
  ReduceSum: reduce('Sum', 13),
  ReduceMax: reduce('Max', 18),
  ReduceMin: reduce('Min', 18),
  Flatten: flatten,
  Reshape: reshape,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Shape: shapeOp,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Expand: expand,
  Where: where,
  Cast: cast,
  Pad: pad,
  Identity: passThrough,
  Dropout: passThrough,
};
