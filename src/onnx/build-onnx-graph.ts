/**
 * An ONNX graph → the nodes of a TensorFlow.js graph model, differentiable op by op: the image input
 * becomes an NHWC Placeholder with an open batch, each ONNX node becomes what ONNX_OPS emits for it,
 * and each graph output an Identity node of its name, in ONNX axis order.
 */
import { IgxError } from '../errors.js';
import { shapeJson } from '../savedmodel/attr-to-json.js';
import type { GraphJsonNode } from '../savedmodel/build-context.js';
import { fuseConvolutions } from './fuse-conv.js';
import { OnnxBuildContext, type BuiltConst } from './onnx-build-context.js';
import { OnnxNode } from './onnx-node.js';
import { ONNX_OPS } from './onnx-ops.js';
import { ONNX_DTYPE, ONNX_DTYPE_NAMES, type OnnxDimMsg, type OnnxValueInfoMsg } from './onnx-proto.js';
import { isBatchDim, NHWC, permute, showShape, type Dim } from './onnx-value.js';
import type { OnnxFile } from './read-onnx.js';

export interface OnnxGraphTensor {
  /** The ONNX name, which is also the built graph's node name. */
  name: string;
  /** The tfjs tensor's shape (the input NHWC), -1 for the open batch. */
  shape: number[];
}

export interface BuiltOnnxGraph {
  nodes: GraphJsonNode[];
  /** Const node name → value, in the order the weights are laid out. */
  consts: Map<string, BuiltConst>;
  input: OnnxGraphTensor;
  outputs: OnnxGraphTensor[];
  /** Ops of the built tfjs graph, by name. */
  opCounts: Record<string, number>;
}

export interface BuildOnnxOptions {
  /** [height, width, channels] for an input whose spatial size the file leaves open (the sidecar's inputShape). */
  inputShape?: readonly [number, number, number];
}

const isDefaultDomain = (domain: string): boolean => domain === '' || domain === 'ai.onnx';

/** An op type igx has no emitter for, as `igx inspect` lists it and E_UNSUPPORTED_OP names it. */
export interface UnsupportedOnnxOp {
  /** The op type; `domain.op` outside the default domain (com.microsoft.Gelu). */
  op: string;
  /** How many nodes use it. */
  count: number;
  /** The first nodes that use it (at most LISTED_NODES), by name, or by first output where unnamed. */
  nodes: string[];
}

/** Enough node names to find the op in a viewer such as Netron; the count says how many more. */
const LISTED_NODES = 3;

/** Every op type of the file igx does not support, in the order of their first node. */
export function findUnsupportedOps(file: OnnxFile): UnsupportedOnnxOp[] {
  const found = new Map<string, UnsupportedOnnxOp>();
  for (const n of file.graph.node) {
    if (isDefaultDomain(n.domain) && Object.hasOwn(ONNX_OPS, n.opType)) continue;
    const op = isDefaultDomain(n.domain) ? n.opType : `${n.domain}.${n.opType}`;
    const seen = found.get(op) ?? { op, count: 0, nodes: [] };
    found.set(op, seen);
    seen.count++;
    if (seen.nodes.length < LISTED_NODES) seen.nodes.push(n.name || n.output[0] || '?');
  }
  return [...found.values()];
}

/** One line naming every unsupported op type at once, so one run of explain tells the whole story. */
export function unsupportedOpsError(file: OnnxFile, ops: readonly UnsupportedOnnxOp[]): IgxError {
  const list = ops.map((u) => `${u.op} ×${u.count} (first: node '${u.nodes[0] ?? '?'}')`).join(', ');
  const types = ops.length === 1 ? 'an ONNX op type' : `${ops.length} ONNX op types`;
  return new IgxError('E_UNSUPPORTED_OP', `${file.path}: ${types} igx does not support (opset ${file.opset}): ${list}`);
}

function describeDims(dims: OnnxDimMsg[]): string {
  return `[${dims.map((d) => (d.value === 'dimParam' ? d.dimParam : String(d.dimValue ?? '?'))).join(',')}]`;
}

function readInput(ctx: OnnxBuildContext, file: OnnxFile, options: BuildOnnxOptions): { info: OnnxValueInfoMsg; shape: Dim[] } {
  const inputs = file.graph.input.filter((i) => !file.initializers.has(i.name));
  if (inputs.length === 0) throw new IgxError('E_MODEL_INVALID', `${file.path}: the ONNX graph has no inputs (igx needs one image input)`);
  if (inputs.length > 1) {
    throw new IgxError('E_MODEL_INVALID', `${file.path}: igx needs a model with one image input; this ONNX graph has ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`);
  }
  const info = inputs[0] as OnnxValueInfoMsg;
  const tensor = info.type?.tensorType;
  if (tensor == null) throw new IgxError('E_MODEL_INVALID', `${file.path}: input '${info.name}' is not a tensor`);
  if (tensor.elemType !== ONNX_DTYPE.FLOAT) {
    throw new IgxError('E_UNSUPPORTED_OP', `${file.path}: input '${info.name}' is ${ONNX_DTYPE_NAMES[tensor.elemType] ?? tensor.elemType}; igx feeds float32 images (Integrated Gradients interpolates pixel values)`);
  }
  const dims = tensor.shape?.dim ?? [];
  if (dims.length !== 4) {
    throw new IgxError('E_MODEL_INVALID', `${file.path}: input '${info.name}' has shape ${describeDims(dims)}; igx needs an image input [batch,channels,height,width]`);
  }
  const fixed = dims.map((d) => (d.value === 'dimValue' && Number(d.dimValue) > 0 ? Number(d.dimValue) : undefined));
  ctx.tracedBatch = fixed[0];
  const given = options.inputShape;
  const shape: Dim[] = ['N'];
  const wanted = given === undefined ? undefined : [given[2], given[0], given[1]];
  for (let i = 1; i < 4; i++) {
    const d = fixed[i] ?? wanted?.[i - 1];
    if (d === undefined) {
      throw new IgxError(
        'E_MODEL_INVALID',
        `${file.path}: input '${info.name}' has shape ${describeDims(dims)}, which leaves channels, height or width open; give "inputShape": [height, width, channels] in the model folder's igx.json`,
      );
    }
    if (fixed[i] !== undefined && wanted !== undefined && fixed[i] !== wanted[i - 1]) {
      throw new IgxError('E_CONFIG', `igx.json: field inputShape: [${given?.join(',')}] disagrees with ONNX input '${info.name}' of shape ${describeDims(dims)}`);
    }
    shape.push(d);
  }
  return { info, shape };
}

/**
 * Builds the graph with the batch left open; an export traced at a fixed batch whose graph bakes that
 * batch in where igx cannot tell (ViT's class token expanded to a literal 1) is built at that batch
 * instead, which the graph adapter then runs in chunks of it.
 */
export function buildOnnxGraph(file: OnnxFile, options: BuildOnnxOptions = {}): BuiltOnnxGraph {
  const unsupported = findUnsupportedOps(file);
  if (unsupported.length > 0) throw unsupportedOpsError(file, unsupported);
  try {
    return buildWith(file, options, false);
  } catch (err) {
    if (!(err instanceof IgxError) || err.code === 'E_CONFIG') throw err;
    try {
      return buildWith(file, options, true);
    } catch {
      throw err;
    }
  }
}

function buildWith(file: OnnxFile, options: BuildOnnxOptions, isFixedBatch: boolean): BuiltOnnxGraph {
  const ctx = new OnnxBuildContext(file.path, file.opset);
  const { info, shape } = readInput(ctx, file, options);
  if (isFixedBatch) {
    if (ctx.tracedBatch === undefined) throw new IgxError('E_MODEL_INVALID', `${file.path}: no fixed batch`);
    shape[0] = ctx.tracedBatch;
    ctx.tracedBatch = undefined;
  }
  const physical = permute(shape, NHWC).map((d) => (isBatchDim(d) ? -1 : d));
  // The input and outputs keep their ONNX names: they are what --output and the signature show.
  const inputName = ctx.unique(info.name);
  const outputNames = file.graph.output.map((o) => ctx.unique(o.name));
  ctx.nodes.push({ name: inputName, op: 'Placeholder', input: [], attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: shapeJson(physical) } } });
  ctx.inputRef = inputName;
  ctx.define(info.name, { dtype: 'float32', shape, perm: [...NHWC], ref: inputName });
  for (const [name, value] of file.initializers) ctx.define(name, { dtype: value.dtype, shape: [...value.shape], perm: value.shape.map((_, i) => i), konst: value });

  // What some node or the graph reads: an output igx does not compute (MaxPool's Indices) may go unread only.
  const read = new Set([...file.graph.node.flatMap((m) => m.input), ...file.graph.output.map((o) => o.name)]);
  for (const msg of file.graph.node) {
    const inputs = msg.input.map((name) => (name === '' ? undefined : ctx.value(name, msg.name || msg.opType)));
    const node = new OnnxNode(msg, inputs, file.path, file.opset);
    const emit = ONNX_OPS[msg.opType];
    if (emit === undefined) throw new Error(`no emitter for ${msg.opType}`);
    const outs = emit(ctx, node);
    msg.output.forEach((name, i) => {
      const out = outs[i];
      if (name === '') return;
      if (out === undefined && read.has(name)) return node.fail(`output ${i} '${name}' is read by another node or is a graph output, and igx computes only ${outs.length === 1 ? 'the first output' : `the first ${outs.length} outputs`}`);
      if (out === undefined) return;
      ctx.define(name, out);
    });
  }

  const outputs: OnnxGraphTensor[] = file.graph.output.map((o, i) => {
    const v = ctx.value(o.name, 'graph output');
    if (v.shape.some((d, i) => isBatchDim(d) && (i !== 0 || d !== 'N'))) throw new IgxError('E_MODEL_INVALID', `${file.path}: output '${o.name}' of shape ${showShape(v.shape)}`);
    const name = outputNames[i] as string;
    ctx.nodes.push({ name, op: 'Identity', input: [ctx.native(v)], attr: { T: { type: 'DT_FLOAT' } } });
    return { name, shape: v.shape.map((d) => (isBatchDim(d) ? -1 : d)) };
  });
  const nodes = fuseConvolutions(ctx.nodes, new Set(outputNames));
  const opCounts: Record<string, number> = {};
  for (const n of nodes) opCounts[n.op] = (opCounts[n.op] ?? 0) + 1;
  return { nodes, consts: ctx.consts, input: { name: inputName, shape: physical }, outputs, opCounts: Object.fromEntries(Object.entries(opCounts).sort()) };
}
