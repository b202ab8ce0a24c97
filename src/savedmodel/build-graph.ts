/**
 * A SavedModel signature → one flat, frozen inference graph that tfjs-converter runs op by op:
 * - function calls (StatefulPartitionedCall, PartitionedCall, direct calls) are inlined, nested to any
 *   depth, their arguments bound to the caller's tensors and captured resources;
 * - variable reads (VarHandleOp + ReadVariableOp in TF2, VariableV2 + Identity in TF1) become Consts
 *   whose values come from the checkpoint;
 * - only what the signature's outputs need is kept: control edges, NoOps, savers, initializers and
 *   training ops drop out; Identity-like nodes are bypassed;
 * - TF1 conds whose predicate is a constant (Keras's keras_learning_phase, a PlaceholderWithDefault
 *   of false) are folded: a Switch passes its taken output through, a Merge its one live input, so the
 *   graph has no control flow for tfjs's async executor; TF2's If/StatelessIf on a constant cond is
 *   inlined as a call to the branch it takes;
 * - the signature's inputs become Placeholders named by their keys, its outputs Identity nodes named by
 *   theirs (the names tfjs's GraphModel shows).
 * The walk uses explicit work lists (no recursion per node), so graphs thousands of nodes deep are fine.
 */
import { IgxError } from '../errors.js';
import type { AttrValueMsg, FunctionDefMsg, MetaGraphDefMsg, NodeDefMsg, OpDefMsg } from './messages.js';
import { DEFAULT_ATTRS, OUTPUT_ARGS } from './op-defaults.js';
import type { SignatureInfo, SignatureTensor } from './read-saved-model.js';
import { DT, dtypeName, elementCount, numberAt, readShape, tensorFromProto, tfjsDtypeOf, toNumber, type TensorValue } from './tensor-value.js';
import { TFJS_ASYNC_OPS, TFJS_OPS } from './tfjs-ops.js';

/** One node of a tfjs graph model's modelTopology, attrs in tfjs-converter's IAttrValue JSON form. */
export interface GraphJsonNode {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, unknown>;
}

/** Where a Const's value comes from. */
export type ConstSource =
  | { kind: 'value'; value: TensorValue }
  | {
      kind: 'variable';
      /** The variable node in the SavedModel's graph. */
      variable: string;
      /** Its checkpoint key; undefined when no strategy found one. */
      key: string | undefined;
      dtype: number;
      shape: number[] | undefined;
    };

export interface GraphTensorSpec {
  key: string;
  /** The tensor in the built graph ("x:0"). */
  name: string;
  dtype: string;
  shape: number[] | undefined;
  /** Inputs: the signature's integer dtype ("DT_UINT8") when `floatInputs` made the input float32. */
  castFrom?: string;
  /** Inputs: with `floatInputs`, the nodes ("name (Op)") that keep an integer input from becoming float. */
  integerConsumers?: string[];
}

export interface BuiltGraph {
  nodes: GraphJsonNode[];
  /** Const node name → its value's source, in the order the weights are laid out. */
  consts: Map<string, ConstSource>;
  inputs: GraphTensorSpec[];
  outputs: GraphTensorSpec[];
  /** Ops of the built graph (Consts and Placeholders included), sorted by name. */
  opCounts: Record<string, number>;
  /** Ops tfjs cannot run (or only asynchronously), with counts; empty when the graph is runnable. */
  unsupported: Record<string, number>;
  producer: number | undefined;
}

export interface BuildOptions {
  /** The SavedModel file, for messages. */
  file: string;
  signature: SignatureInfo;
  /** Top-level variable node name → checkpoint key. */
  variableKeys: ReadonlyMap<string, string>;
  /**
   * Feed integer inputs as float32, for Integrated Gradients, which interpolates between inputs: an
   * integer input whose consumers are all Casts to a float type (uint8 images cast inside the model)
   * becomes a float32 Placeholder that feeds the Casts' consumers. Otherwise it stays as it is and its
   * spec lists the `integerConsumers`.
   */
  floatInputs?: boolean;
}

const CALL_OPS = new Set(['StatefulPartitionedCall', 'PartitionedCall']);
/** TF2's functional tf.cond: inlined as a call to the branch its constant cond takes. */
const IF_OPS = new Set(['If', 'StatelessIf']);
/** Forward as their (first or i-th) input: no value change. */
const PASS_THROUGH_OPS = new Set(['Identity', 'Snapshot', 'CheckNumerics', 'EnsureShape']);
const MAX_CALL_DEPTH = 64;
const BATCH_NORM_OPS = new Set(['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3']);
/** TF1 control flow (tf.cond): Switch routes its data to output_false (0) or output_true (1). */
const SWITCH_OPS = new Set(['Switch', 'RefSwitch']);
/** Merge outputs its one live data input (output 0) and that input's index (value_index, output 1). */
const MERGE_OPS = new Set(['Merge', 'RefMerge']);
/** TF types tfjs holds as int32; Casts from these to a float type are what `floatInputs` removes. */
const INTEGER_TYPES = new Set(['DT_INT8', 'DT_INT16', 'DT_INT32', 'DT_INT64', 'DT_UINT8', 'DT_UINT16', 'DT_UINT32', 'DT_UINT64']);
const FLOAT_TYPES = new Set(['DT_FLOAT', 'DT_HALF', 'DT_DOUBLE', 'DT_BFLOAT16']);
/** Read only an input's shape, so a float input serves them as well as an integer one. */
const SHAPE_OPS = new Set(['Shape', 'ShapeN', 'Size', 'Rank']);
const utf8 = new TextDecoder('utf-8');

interface Scope {
  prefix: string;
  nodes: Map<string, NodeDefMsg>;
  /** For function scopes. */
  fn?: FunctionDefMsg;
  parent?: Scope;
  /** The caller's data inputs, in the parent's reference format. */
  callInputs: string[];
  argIndex: Map<string, number>;
  attrSubst: Record<string, AttrValueMsg>;
  children: Map<string, Scope>;
  emitted: Map<string, string>;
  depth: number;
  /** "function F (inlined at node N)" or "the graph". */
  where: string;
  /**
   * TF's dead-tensor state per node (for a Switch: of its inputs), as far as constant predicates decide
   * it: 'unknown' where a predicate is computed at run time (or in loops).
   */
  liveness: Map<string, Liveness>;
  /** Switch node → the output its constant predicate takes (0 false, 1 true), or null when not constant. */
  taken: Map<string, number | null>;
}

type Liveness = 'live' | 'dead' | 'unknown';

type Resolved = { kind: 'tensor'; ref: string } | { kind: 'variable'; node: NodeDefMsg };

function dataInputs(node: NodeDefMsg): string[] {
  return node.input.filter((x) => !x.startsWith('^'));
}

const TF_NAME = /^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$/;

/** A signature key as a node name tfjs can parse (no ':' and the like). */
function keyToNodeName(key: string): string {
  if (TF_NAME.test(key)) return key;
  const cleaned = key.replace(/[^A-Za-z0-9_.\-/]/g, '_');
  return /^[A-Za-z0-9.]/.test(cleaned) ? cleaned : `x${cleaned}`;
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function shapeJson(shape: readonly number[] | undefined): Record<string, unknown> {
  if (shape === undefined) return { unknownRank: true };
  return shape.length === 0 ? {} : { dim: shape.map((d) => ({ size: String(d) })) };
}

function shapeProtoJson(proto: Parameters<typeof readShape>[0]): Record<string, unknown> {
  return shapeJson(readShape(proto));
}

/** An AttrValue message → tfjs-converter's IAttrValue JSON (bytes base64, int64 as strings, enums by name). */
export function attrToJson(a: AttrValueMsg): Record<string, unknown> {
  switch (a.value) {
    case 's':
      return { s: b64(a.s ?? new Uint8Array(0)) };
    case 'i':
      return { i: String(toNumber(a.i)) };
    case 'f':
      return { f: a.f ?? 0 };
    case 'b':
      return { b: a.b ?? false };
    case 'type':
      return { type: dtypeName(a.type ?? 0) };
    case 'shape':
      return { shape: shapeProtoJson(a.shape) };
    case 'tensor': {
      const t = a.tensor;
      return { tensor: { dtype: dtypeName(t?.dtype ?? 0), tensorShape: shapeProtoJson(t?.tensorShape) } };
    }
    case 'func':
      return { func: { name: a.func?.name ?? '' } };
    case 'list': {
      const l = a.list;
      const out: Record<string, unknown> = {};
      if (l == null) return { list: out };
      if (l.s.length > 0) out.s = l.s.map(b64);
      if (l.i.length > 0) out.i = l.i.map((x) => String(toNumber(x)));
      if (l.f.length > 0) out.f = [...l.f];
      if (l.b.length > 0) out.b = [...l.b];
      if (l.type.length > 0) out.type = l.type.map(dtypeName);
      if (l.shape.length > 0) out.shape = l.shape.map(shapeProtoJson);
      if (l.func.length > 0) out.func = l.func.map((f) => ({ name: f.name }));
      return { list: out };
    }
    default:
      return {};
  }
}

function attrInt(a: AttrValueMsg | undefined): number | undefined {
  return a?.value === 'i' ? toNumber(a.i) : undefined;
}

function typeAttr(type: number): AttrValueMsg {
  return { value: 'type', type };
}

class GraphBuilder {
  private readonly library = new Map<string, FunctionDefMsg>();
  /** Function name → its nodes by name, built once however often the function is inlined. */
  private readonly bodies = new Map<string, Map<string, NodeDefMsg>>();
  private readonly opDefs = new Map<string, OpDefMsg>();
  private readonly names = new Set<string>();
  private readonly nodes: GraphJsonNode[] = [];
  private readonly consts = new Map<string, ConstSource>();
  private readonly queue: { scope: Scope; node: NodeDefMsg; name: string }[] = [];
  /** Variable node name → its Const's name. */
  private readonly variableConsts = new Map<string, string>();
  /** Top-level "node:index" → the Placeholder that replaces it. */
  private readonly feeds = new Map<string, string>();
  private readonly opCounts = new Map<string, number>();
  private readonly unsupported = new Map<string, number>();
  private readonly top: Scope;

  constructor(
    private readonly mg: MetaGraphDefMsg,
    private readonly options: BuildOptions,
  ) {
    const graph = mg.graphDef;
    if (graph === null) throw new IgxError('E_MODEL_INVALID', `${options.file}: the MetaGraph has no graph_def`);
    for (const fn of graph.library?.function ?? []) {
      if (fn.signature !== null) this.library.set(fn.signature.name, fn);
    }
    for (const op of mg.metaInfoDef?.strippedOpList?.op ?? []) this.opDefs.set(op.name, op);
    this.top = {
      prefix: '',
      nodes: new Map(graph.node.map((n) => [n.name, n])),
      callInputs: [],
      argIndex: new Map(),
      attrSubst: {},
      children: new Map(),
      emitted: new Map(),
      depth: 0,
      where: 'the graph',
      liveness: new Map(),
      taken: new Map(),
    };
  }

  private fail(message: string): never {
    throw new IgxError('E_MODEL_INVALID', `${this.options.file}: ${message}`);
  }

  private unique(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  private count(op: string): void {
    this.opCounts.set(op, (this.opCounts.get(op) ?? 0) + 1);
  }

  private isCall(scope: Scope, node: NodeDefMsg): boolean {
    return CALL_OPS.has(node.op) || this.library.has(node.op) || (IF_OPS.has(node.op) && this.ifBranch(scope, node) !== undefined);
  }

  /** An If/StatelessIf whose cond is a constant: the branch function it calls (then_branch or else_branch). */
  private ifBranch(scope: Scope, node: NodeDefMsg): { name: string; attr: Record<string, AttrValueMsg> } | undefined {
    const cond = dataInputs(node)[0];
    const value = cond === undefined ? undefined : this.constantPredicate(scope, cond);
    if (value === undefined) return undefined;
    const f = (value ? node.attr.then_branch : node.attr.else_branch)?.func;
    return f?.name ? { name: f.name, attr: f.attr ?? {} } : undefined;
  }

  private childScope(scope: Scope, node: NodeDefMsg): Scope {
    const existing = scope.children.get(node.name);
    if (existing !== undefined) return existing;
    const branch = IF_OPS.has(node.op) ? this.ifBranch(scope, node) : undefined;
    const partitioned = CALL_OPS.has(node.op);
    const fname = branch?.name ?? (partitioned ? node.attr.f?.func?.name : node.op);
    const fn = fname === undefined ? undefined : this.library.get(fname);
    if (fn === undefined || fn.signature === null) {
      this.fail(`node '${node.name}' in ${scope.where} calls function '${fname ?? '(none)'}', which the graph's function library lacks`);
    }
    if (scope.depth + 1 > MAX_CALL_DEPTH) {
      this.fail(`function calls nest deeper than ${MAX_CALL_DEPTH} levels at node '${node.name}' (recursive functions are not supported)`);
    }
    const signature = fn.signature;
    // An If's first input is its cond; the rest are the branch's arguments.
    const inputs = branch === undefined ? dataInputs(node) : dataInputs(node).slice(1);
    if (inputs.length !== signature.inputArg.length) {
      this.fail(`node '${node.name}' passes ${inputs.length} inputs to function '${fname}', which takes ${signature.inputArg.length}`);
    }
    let body = this.bodies.get(signature.name);
    if (body === undefined) {
      body = new Map(fn.nodeDef.map((n) => [n.name, n]));
      this.bodies.set(signature.name, body);
    }
    const child: Scope = {
      prefix: `${scope.prefix}${node.name}/`,
      nodes: body,
      fn,
      parent: scope,
      callInputs: inputs,
      argIndex: new Map(signature.inputArg.map((a, i) => [a.name, i])),
      attrSubst: branch?.attr ?? (partitioned ? (node.attr.f?.func?.attr ?? {}) : node.attr),
      children: new Map(),
      emitted: new Map(),
      depth: scope.depth + 1,
      where: `function '${fname}' (inlined at '${scope.prefix}${node.name}')`,
      liveness: new Map(),
      taken: new Map(),
    };
    scope.children.set(node.name, child);
    return child;
  }

  /** A node's attrs with OpDef defaults filled in (SavedModels strip them) and function placeholders bound. */
  private attrsOf(scope: Scope, node: NodeDefMsg): Record<string, AttrValueMsg> {
    const opDef = this.opDefs.get(node.op);
    const out: Record<string, AttrValueMsg> = opDef === undefined ? { ...DEFAULT_ATTRS[node.op] } : {};
    for (const def of opDef?.attr ?? []) {
      if (def.defaultValue != null && def.defaultValue.value !== undefined) out[def.name] = def.defaultValue;
    }
    for (const [k, v] of Object.entries(node.attr)) {
      if (v.value === 'placeholder') {
        const bound = scope.attrSubst[v.placeholder ?? ''];
        if (bound === undefined) {
          this.fail(`node '${node.name}' in ${scope.where}: attr '${k}' refers to function attr '${v.placeholder}', which the call does not set`);
        }
        out[k] = bound;
      } else {
        out[k] = v;
      }
    }
    return out;
  }

  /** Flat output index of a function-body reference "node:arg:i". */
  private outputOffset(scope: Scope, node: NodeDefMsg, argName: string): number {
    const fn = CALL_OPS.has(node.op) || IF_OPS.has(node.op) ? undefined : this.library.get(node.op);
    if (fn?.signature != null) {
      const i = fn.signature.outputArg.findIndex((a) => a.name === argName);
      if (i < 0) this.fail(`a reference to output '${argName}' of '${node.name}' in ${scope.where}, which function '${node.op}' lacks`);
      return i;
    }
    const opDef = this.opDefs.get(node.op);
    if (opDef === undefined) {
      // Without the OpDef: ops with one output arg (most) start it at 0.
      const known = OUTPUT_ARGS[node.op]?.indexOf(argName) ?? -1;
      return known < 0 ? 0 : known;
    }
    const attrs = this.attrsOf(scope, node);
    let offset = 0;
    for (const arg of opDef.outputArg) {
      if (arg.name === argName) return offset;
      if (arg.numberAttr) offset += attrInt(attrs[arg.numberAttr]) ?? 1;
      else if (arg.typeListAttr) offset += attrs[arg.typeListAttr]?.list?.type.length ?? 0;
      else offset += 1;
    }
    return this.fail(`a reference to output '${argName}' of '${node.name}' (${node.op}) in ${scope.where}, which the op does not have`);
  }

  private parseRef(scope: Scope, ref: string): { kind: 'arg'; index: number } | { kind: 'node'; node: NodeDefMsg; index: number } {
    const parts = ref.split(':');
    const name = parts[0] as string;
    if (scope.fn !== undefined && parts.length === 1) {
      const arg = scope.argIndex.get(name);
      if (arg !== undefined) return { kind: 'arg', index: arg };
    }
    const node = scope.nodes.get(name);
    if (node === undefined) this.fail(`${scope.where} refers to '${ref}', which names no node there`);
    let index = 0;
    if (parts.length === 2) index = Number(parts[1]);
    else if (parts.length === 3) index = this.outputOffset(scope, node, parts[1] as string) + Number(parts[2]);
    if (!Number.isInteger(index) || index < 0) this.fail(`${scope.where} has a malformed tensor reference '${ref}'`);
    return { kind: 'node', node, index };
  }

  /** Follows a tensor reference through arguments, calls and pass-through ops to what produces it. */
  private resolve(scope0: Scope, ref0: string): Resolved {
    let scope = scope0;
    let ref = ref0;
    for (;;) {
      const parsed = this.parseRef(scope, ref);
      if (parsed.kind === 'arg') {
        const parent = scope.parent as Scope;
        ref = scope.callInputs[parsed.index] as string;
        scope = parent;
        continue;
      }
      const { node, index } = parsed;
      if (scope === this.top) {
        const fed = this.feeds.get(`${node.name}:${index}`);
        if (fed !== undefined) return { kind: 'tensor', ref: fed };
      }
      if (this.isCall(scope, node)) {
        const child = this.childScope(scope, node);
        const fn = child.fn as FunctionDefMsg;
        const outArg = fn.signature?.outputArg[index];
        const ret = outArg === undefined ? undefined : fn.ret[outArg.name];
        if (ret === undefined) this.fail(`node '${node.name}' in ${scope.where} has no output ${index} (function '${fn.signature?.name}' returns ${fn.signature?.outputArg.length ?? 0})`);
        ref = ret;
        scope = child;
        continue;
      }
      const inputs = dataInputs(node);
      if (PASS_THROUGH_OPS.has(node.op) || node.op === 'PlaceholderWithDefault' || node.op === 'IdentityN') {
        const next = inputs[node.op === 'IdentityN' ? index : 0];
        if (next === undefined) this.fail(`node '${node.name}' (${node.op}) in ${scope.where} lacks input ${index}`);
        ref = next;
        continue;
      }
      if (SWITCH_OPS.has(node.op)) {
        const taken = this.takenBranch(scope, node);
        if (taken !== undefined) {
          if (index !== taken) this.failDead(scope, node);
          ref = inputs[0] as string;
          continue;
        }
      } else if (MERGE_OPS.has(node.op)) {
        const choice = this.mergeChoice(scope, node);
        if (choice === 'dead') this.failDead(scope, node);
        if (choice !== undefined) {
          if (index === 0) {
            ref = inputs[choice] as string;
            continue;
          }
          return { kind: 'tensor', ref: this.valueIndex(scope, node, choice) };
        }
      }
      switch (node.op) {
        case 'VarHandleOp':
          if (scope !== this.top) this.fail(`${scope.where} creates variable '${node.name}' inside a function; igx reads variables captured from the graph`);
          return { kind: 'variable', node };
        case 'VariableV2':
        case 'Variable':
          if (scope !== this.top) this.fail(`${scope.where} creates variable '${node.name}' inside a function`);
          return { kind: 'tensor', ref: this.variableConst(node) };
        case 'ReadVariableOp': {
          const handle = inputs[0] === undefined ? undefined : this.resolve(scope, inputs[0]);
          if (handle?.kind !== 'variable') this.fail(`ReadVariableOp '${node.name}' in ${scope.where} reads no variable igx can find`);
          return { kind: 'tensor', ref: this.variableConst(handle.node) };
        }
        case 'Placeholder':
          throw new IgxError(
            'E_MODEL_SIGNATURE',
            `${this.options.file}: signature '${this.options.signature.name}' needs placeholder '${node.name}', which is not among the inputs being fed`,
          );
        default: {
          const name = this.emit(scope, node);
          if (index > 0 && this.expandsBatchNorm(scope, node)) {
            // Only y survives the rewrite below; the batch statistics feed training ops.
            this.flag(`${node.op}(batch statistics output ${index})`);
          }
          return { kind: 'tensor', ref: index === 0 ? name : `${name}:${index}` };
        }
      }
    }
  }

  private emit(scope: Scope, node: NodeDefMsg): string {
    const existing = scope.emitted.get(node.name);
    if (existing !== undefined) return existing;
    const name = this.unique(scope.prefix + node.name);
    scope.emitted.set(node.name, name);
    this.queue.push({ scope, node, name });
    return name;
  }

  private failDead(scope: Scope, node: NodeDefMsg): never {
    return this.fail(
      `signature '${this.options.signature.name}' needs '${node.name}' (${node.op}) in ${scope.where}, which lies in a tf.cond branch that its constant predicate never takes`,
    );
  }

  /**
   * The output (0 false, 1 true) a Switch's predicate takes when the predicate is a constant: a Const,
   * reached through Identity, PlaceholderWithDefault (the graph's default: Keras's learning phase) and
   * the taken outputs of outer Switches; undefined when a signature input or a computation decides it.
   * Older Keras made the learning phase a plain bool Placeholder, which its predict feeds false.
   */
  private takenBranch(scope: Scope, node: NodeDefMsg): number | undefined {
    if (!scope.taken.has(node.name)) {
      const pred = dataInputs(node)[1];
      const value = pred === undefined ? undefined : this.constantPredicate(scope, pred);
      scope.taken.set(node.name, value === undefined ? null : value ? 1 : 0);
    }
    return scope.taken.get(node.name) ?? undefined;
  }

  private constantPredicate(scope0: Scope, ref0: string): boolean | undefined {
    let scope = scope0;
    let ref = ref0;
    for (;;) {
      const parsed = this.parseRef(scope, ref);
      if (parsed.kind === 'arg') {
        ref = scope.callInputs[parsed.index] as string;
        scope = scope.parent as Scope;
        continue;
      }
      const { node, index } = parsed;
      if (scope === this.top && this.feeds.has(`${node.name}:${index}`)) return undefined;
      let next: string | undefined;
      if (PASS_THROUGH_OPS.has(node.op) || node.op === 'PlaceholderWithDefault') next = dataInputs(node)[0];
      else if (node.op === 'IdentityN') next = dataInputs(node)[index];
      else if (SWITCH_OPS.has(node.op) && index === this.takenBranch(scope, node)) next = dataInputs(node)[0];
      if (next !== undefined) {
        ref = next;
        continue;
      }
      if (node.op === 'Placeholder' && node.attr.dtype?.type === DT.BOOL && /(^|\/)keras_learning_phase$/.test(node.name)) return false;
      const tensor = node.op === 'Const' ? node.attr.value?.tensor : undefined;
      if (tensor == null) return undefined;
      let value: TensorValue;
      try {
        value = tensorFromProto(tensor, `Const '${node.name}'`);
      } catch {
        return undefined;
      }
      // tf.cond's predicate is a bool scalar.
      if (value.dtype !== 'bool' || elementCount(value.shape) !== 1) return undefined;
      return numberAt(value, 0) !== 0;
    }
  }

  /** The state of a tensor reference (or "^node" control input) whose node's liveness is computed. */
  private refLiveness(scope: Scope, ref: string): Liveness {
    const isControl = ref.startsWith('^');
    const parsed = this.parseRef(scope, isControl ? ref.slice(1) : ref);
    if (parsed.kind === 'arg') return 'live';
    const { node, index } = parsed;
    if (scope === this.top && !isControl && this.feeds.has(`${node.name}:${index}`)) return 'live';
    // Not yet computed: a cycle (a while loop's NextIteration), which only a run decides.
    const state = scope.liveness.get(node.name) ?? 'unknown';
    // A control edge from a Switch carries the Switch's own state, not a branch's (hence tf.cond's switch_t Identity).
    if (!SWITCH_OPS.has(node.op) || isControl || state === 'dead') return state;
    const taken = this.takenBranch(scope, node);
    if (taken === undefined) return 'unknown';
    return index === taken ? state : 'dead';
  }

  /**
   * Computes the liveness of `start` and its ancestors in its scope, as TF's executor propagates dead
   * tensors: a node with any dead input (data or control) is dead, except Merge, which is dead only when
   * all its data inputs are. Function arguments count as live: a call in a dead branch is itself dead
   * and never inlined. Explicit stack: graphs thousands of nodes deep are fine.
   */
  private computeLiveness(scope: Scope, start: string): void {
    const memo = scope.liveness;
    const expanded = new Set<string>();
    const stack = [start];
    const inputsOf = (node: NodeDefMsg): string[] => (MERGE_OPS.has(node.op) ? dataInputs(node) : node.input);
    while (stack.length > 0) {
      const name = stack[stack.length - 1] as string;
      const node = scope.nodes.get(name);
      if (memo.has(name) || node === undefined) {
        stack.pop();
        continue;
      }
      if (!expanded.has(name)) {
        expanded.add(name);
        for (const ref of inputsOf(node)) {
          const dep = (ref.startsWith('^') ? ref.slice(1) : ref).split(':')[0] as string;
          if (scope.nodes.has(dep) && !memo.has(dep) && !expanded.has(dep)) stack.push(dep);
        }
        continue;
      }
      stack.pop();
      const states = inputsOf(node).map((ref) => this.refLiveness(scope, ref));
      let state: Liveness;
      if (MERGE_OPS.has(node.op)) {
        state = states.every((x) => x === 'dead') ? 'dead' : states.includes('unknown') ? 'unknown' : 'live';
      } else {
        state = states.includes('dead') ? 'dead' : states.includes('unknown') ? 'unknown' : 'live';
      }
      memo.set(name, state);
    }
  }

  /** The data input a Merge passes on when constant predicates decide it; 'dead' when none is live. */
  private mergeChoice(scope: Scope, node: NodeDefMsg): number | 'dead' | undefined {
    this.computeLiveness(scope, node.name);
    const states = dataInputs(node).map((ref) => this.refLiveness(scope, ref));
    if (states.every((x) => x === 'dead')) return 'dead';
    const live = states.flatMap((x, i) => (x === 'live' ? [i] : []));
    return live.length === 1 && !states.includes('unknown') ? live[0] : undefined;
  }

  /** Merge's value_index output, once its choice is known: an int32 Const. */
  private valueIndex(scope: Scope, node: NodeDefMsg, choice: number): string {
    const key = `${node.name}:1`;
    const existing = scope.emitted.get(key);
    if (existing !== undefined) return existing;
    const name = this.unique(`${scope.prefix}${node.name}/value_index`);
    this.constNode(name, { dtype: 'int32', shape: [], data: Int32Array.of(choice) });
    scope.emitted.set(key, name);
    return name;
  }

  private variableConst(node: NodeDefMsg): string {
    const existing = this.variableConsts.get(node.name);
    if (existing !== undefined) return existing;
    const name = this.unique(node.name);
    this.variableConsts.set(node.name, name);
    const dtype = (node.attr.dtype?.type ?? DT.FLOAT) % 100;
    const shapeAttr = node.attr.shape;
    const shape = shapeAttr?.value === 'shape' ? readShape(shapeAttr.shape) : undefined;
    this.consts.set(name, { kind: 'variable', variable: node.name, key: this.options.variableKeys.get(node.name), dtype, shape });
    const tfjsType = tfjsDtypeOf(dtype);
    this.pushNode({
      name,
      op: 'Const',
      input: [],
      attr: { dtype: { type: dtypeName(tfjsType === undefined ? dtype : tfjsEnum(tfjsType)) } },
    });
    return name;
  }

  private pushNode(node: GraphJsonNode): void {
    this.nodes.push(node);
    this.count(node.op);
    if (!TFJS_OPS.has(node.op) || TFJS_ASYNC_OPS.has(node.op)) this.flag(node.op);
  }

  private flag(op: string): void {
    this.unsupported.set(op, (this.unsupported.get(op) ?? 0) + 1);
  }

  /** tfjs's FusedBatchNorm ignores is_training and data_format: such nodes are rewritten (see below). */
  private expandsBatchNorm(scope: Scope, node: NodeDefMsg): boolean {
    if (!BATCH_NORM_OPS.has(node.op)) return false;
    const attrs = this.attrsOf(scope, node);
    const format = attrs.data_format?.value === 's' ? utf8.decode(attrs.data_format.s) : 'NHWC';
    return attrs.is_training?.b === true || format === 'NCHW';
  }

  private emitOp(base: string, op: string, input: string[], attr: Record<string, unknown>): string {
    const name = this.unique(base);
    this.pushNode({ name, op, input, attr });
    return name;
  }

  /**
   * FusedBatchNorm in training mode (Keras 2's fused LayerNormalization) or NCHW as plain ops:
   * y = (x − mean) · rsqrt(var + ε) · scale + offset, with the batch's own moments in training mode.
   */
  private expandBatchNorm(name: string, inputs: string[], attrs: Record<string, AttrValueMsg>): void {
    const [x, scale, offset, mean, variance] = inputs as [string, string, string, string, string];
    const T = { type: 'DT_FLOAT' };
    const nchw = attrs.data_format?.value === 's' && utf8.decode(attrs.data_format.s) === 'NCHW';
    const training = attrs.is_training?.b === true;
    const int32 = (base: string, values: number[], shape: number[]): string => {
      const n = this.unique(`${name}/${base}`);
      this.constNode(n, { dtype: 'int32', shape, data: Int32Array.from(values) });
      return n;
    };
    const broadcast = (t: string, base: string): string =>
      nchw ? this.emitOp(`${name}/${base}`, 'Reshape', [t, int32(`${base}/shape`, [1, -1, 1, 1], [4])], { T, Tshape: { type: 'DT_INT32' } }) : t;
    let m: string;
    let v: string;
    if (training) {
      const axes = int32('axes', nchw ? [0, 2, 3] : [0, 1, 2], [3]);
      const reduce = { T, Tidx: { type: 'DT_INT32' }, keep_dims: { b: true } };
      m = this.emitOp(`${name}/mean`, 'Mean', [x, axes], reduce);
      const sq = this.emitOp(`${name}/squared_difference`, 'SquaredDifference', [x, m], { T });
      v = this.emitOp(`${name}/variance`, 'Mean', [sq, axes], reduce);
    } else {
      m = broadcast(mean, 'mean');
      v = broadcast(variance, 'variance');
    }
    const eps = this.unique(`${name}/epsilon`);
    this.constNode(eps, { dtype: 'float32', shape: [], data: Float32Array.of(attrs.epsilon?.f ?? 0.0001) });
    const inv = this.emitOp(`${name}/rsqrt`, 'Rsqrt', [this.emitOp(`${name}/add_epsilon`, 'AddV2', [v, eps], { T })], { T });
    const gain = this.emitOp(`${name}/gain`, 'Mul', [inv, broadcast(scale, 'scale')], { T });
    const centered = this.emitOp(`${name}/centered`, 'Sub', [x, m], { T });
    const scaled = this.emitOp(`${name}/scaled`, 'Mul', [centered, gain], { T });
    this.pushNode({ name, op: 'AddV2', input: [scaled, broadcast(offset, 'offset')], attr: { T } });
  }

  private constNode(name: string, value: TensorValue): void {
    this.consts.set(name, { kind: 'value', value });
    const type = dtypeName(tfjsEnum(value.dtype));
    this.pushNode({
      name,
      op: 'Const',
      input: [],
      attr: { value: { tensor: { dtype: type, tensorShape: shapeJson(value.shape) } }, dtype: { type } },
    });
  }

  private processQueue(): void {
    for (let item = this.queue.pop(); item !== undefined; item = this.queue.pop()) this.build(item.scope, item.node, item.name);
  }

  private build(scope: Scope, node: NodeDefMsg, name: string): void {
    if (node.op === 'Const') {
      const tensor = node.attr.value?.tensor;
      if (tensor == null) this.fail(`Const '${node.name}' in ${scope.where} has no value`);
      let value: TensorValue;
      try {
        value = tensorFromProto(tensor, `${this.options.file}: Const '${node.name}' in ${scope.where}`);
      } catch (err) {
        if (err instanceof IgxError && /has no TensorFlow\.js equivalent/.test(err.message)) {
          this.pushNode({ name, op: `Const(${dtypeName(tensor.dtype ?? 0)})`, input: [], attr: {} });
          return;
        }
        throw err;
      }
      this.constNode(name, value);
      return;
    }
    const attrs = this.attrsOf(scope, node);
    let op = node.op;
    const inputs: string[] = [];
    const resolved = dataInputs(node).map((ref) => this.resolve(scope, ref));
    for (const [i, r] of resolved.entries()) {
      if (r.kind === 'tensor') {
        inputs.push(r.ref);
        continue;
      }
      // A resource reaches an op other than ReadVariableOp: the few that read a variable have tfjs forms.
      const value = this.variableConst(r.node);
      if (i === 0 && (op === 'ResourceGather' || op === 'ResourceGatherNd')) {
        inputs.push(value);
        op = op === 'ResourceGather' ? 'GatherV2' : 'GatherNd';
        attrs.Tparams = typeAttr(attrs.dtype?.type ?? DT.FLOAT);
        delete attrs.dtype;
      } else if (i === 0 && op === 'VariableShape') {
        inputs.push(value);
        op = 'Shape';
        attrs.T = typeAttr(r.node.attr.dtype?.type ?? DT.FLOAT);
      } else {
        op = `${op}(resource input)`;
        inputs.push(value);
      }
    }
    if (op === 'GatherV2' && node.op === 'ResourceGather') {
      // GatherV2 takes the axis as an input; ResourceGather gathers along batch_dims.
      const axis = this.unique(`${name}/axis`);
      this.constNode(axis, { dtype: 'int32', shape: [], data: Int32Array.of(attrInt(attrs.batch_dims) ?? 0) });
      inputs.push(axis);
      attrs.Taxis = typeAttr(DT.INT32);
    }
    if (BATCH_NORM_OPS.has(op) && this.expandsBatchNorm(scope, node)) {
      if (inputs.length < 5) this.fail(`${node.op} '${node.name}' in ${scope.where} has ${inputs.length} inputs, expected 5`);
      this.expandBatchNorm(name, inputs, attrs);
      return;
    }
    if (op === 'BatchMatMulV3' && attrs.Ta?.type === attrs.Tb?.type && attrs.Ta?.type === attrs.Tout?.type) {
      // V3 only adds mixed input types; with equal types it is V2.
      op = 'BatchMatMulV2';
      attrs.T = typeAttr(attrs.Ta?.type ?? DT.FLOAT);
    }
    const attr: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(attrs)) {
      if (k.startsWith('_')) continue;
      if (v.value === 'func' || (v.value === 'list' && (v.list?.func.length ?? 0) > 0)) {
        // Control flow (If, While, Case) keeps function bodies igx does not inline.
        if (!op.endsWith(')')) op = `${op}(with function attr '${k}')`;
        continue;
      }
      attr[k] = attrToJson(v);
    }
    this.pushNode({ name, op, input: inputs, attr });
  }

  /** The dtype of output `index` of a node: from its OpDef's output args, else its T or dtype attr. */
  private outputType(scope: Scope, node: NodeDefMsg, index: number): number | undefined {
    const attrs = this.attrsOf(scope, node);
    const opDef = this.opDefs.get(node.op);
    if (opDef === undefined) return (attrs.T ?? attrs.dtype)?.type;
    let offset = 0;
    for (const arg of opDef.outputArg) {
      const n = arg.numberAttr ? (attrInt(attrs[arg.numberAttr]) ?? 1) : arg.typeListAttr ? (attrs[arg.typeListAttr]?.list?.type.length ?? 0) : 1;
      if (index < offset + n) {
        if (arg.type !== DT.INVALID) return arg.type;
        return arg.typeAttr ? attrs[arg.typeAttr]?.type : attrs[arg.typeListAttr]?.list?.type[index - offset];
      }
      offset += n;
    }
    return undefined;
  }

  /**
   * A signature tensor's dtype and shape, taken from the graph where the signature leaves them out (TF
   * 0.12's signatures name tensors only): the producing op's output type and its _output_shapes.
   */
  private completeSpec(spec: SignatureTensor): { dtypeEnum: number; dtype: string; shape: number[] | undefined } {
    if (spec.dtypeEnum !== DT.INVALID) return { dtypeEnum: spec.dtypeEnum, dtype: spec.dtype, shape: spec.shape };
    // A name-only TensorInfo: its absent tensor_shape reads as a scalar but means "not recorded".
    const [nodeName, idx] = splitTensorName(spec.tensorName);
    const node = this.top.nodes.get(nodeName);
    const dtypeEnum = node === undefined ? DT.INVALID : (this.outputType(this.top, node, idx) ?? DT.INVALID) % 100;
    const shapes = node?.attr._output_shapes;
    const shape = shapes?.value === 'list' && shapes.list?.shape[idx] != null ? readShape(shapes.list.shape[idx]) : undefined;
    return { dtypeEnum, dtype: dtypeName(dtypeEnum), shape };
  }

  /**
   * `floatInputs` for one input: when every node reading an integer input is a Cast to a float type (or
   * reads only its shape), the Placeholder becomes float32 and the Casts' consumers read it directly;
   * integer-valued feeds give the same outputs. Otherwise the input stays and `integerConsumers` says why.
   */
  private makeFloatInput(spec: GraphTensorSpec): void {
    if (!INTEGER_TYPES.has(spec.dtype)) return;
    const name = splitTensorName(spec.name)[0];
    const typeOf = (node: GraphJsonNode, attr: string): string | undefined => (node.attr[attr] as { type?: string } | undefined)?.type;
    const consumers = this.nodes.filter((n) => n.op !== 'Placeholder' && n.input.some((x) => x === name || x === `${name}:0`));
    const isFloatCast = (n: GraphJsonNode): boolean => n.op === 'Cast' && FLOAT_TYPES.has(typeOf(n, 'DstT') ?? '');
    const blocking = consumers.filter((n) => !isFloatCast(n) && !SHAPE_OPS.has(n.op));
    if (blocking.length > 0) {
      spec.integerConsumers = blocking.map((n) => `${n.name} (${n.op}${n.op === 'Cast' ? ` to ${typeOf(n, 'DstT') ?? '?'}` : ''})`);
      return;
    }
    const casts = new Set(consumers.filter(isFloatCast).map((n) => n.name));
    let kept = 0;
    for (const node of this.nodes) {
      if (casts.has(node.name)) continue;
      node.input = node.input.map((x) => (casts.has(splitTensorName(x)[0]) ? name : x));
      if (node.name === name) node.attr.dtype = { type: 'DT_FLOAT' };
      else if (SHAPE_OPS.has(node.op) && consumers.includes(node)) node.attr.T = { type: 'DT_FLOAT' };
      this.nodes[kept++] = node;
    }
    this.nodes.length = kept;
    const remaining = (this.opCounts.get('Cast') ?? 0) - casts.size;
    if (remaining > 0) this.opCounts.set('Cast', remaining);
    else this.opCounts.delete('Cast');
    spec.castFrom = spec.dtype;
    spec.dtype = 'DT_FLOAT';
  }

  run(): BuiltGraph {
    const { signature } = this.options;
    const inputs: GraphTensorSpec[] = [];
    const outputs: GraphTensorSpec[] = [];
    const placeholders: { name: string; spec: SignatureTensor }[] = [];
    for (const spec of signature.inputs) {
      const name = this.unique(keyToNodeName(spec.key));
      const [nodeName, idx] = splitTensorName(spec.tensorName);
      if (!this.top.nodes.has(nodeName)) {
        this.fail(`signature '${signature.name}' input '${spec.key}' names tensor '${spec.tensorName}', which is not in the graph`);
      }
      this.feeds.set(`${nodeName}:${idx}`, name);
      placeholders.push({ name, spec });
    }
    const outputNames = signature.outputs.map((spec) => this.unique(keyToNodeName(spec.key)));
    for (const { name, spec } of placeholders) {
      const { dtypeEnum, dtype, shape } = this.completeSpec(spec);
      if (tfjsDtypeOf(dtypeEnum) === undefined) {
        this.fail(`signature '${signature.name}' input '${spec.key}' has dtype ${dtype}, which TensorFlow.js cannot feed`);
      }
      this.pushNode({
        name,
        op: 'Placeholder',
        input: [],
        attr: { dtype: { type: dtype }, shape: { shape: shapeJson(shape) } },
      });
      inputs.push({ key: spec.key, name: `${name}:0`, dtype, shape });
    }
    signature.outputs.forEach((spec, i) => {
      const [nodeName, idx] = splitTensorName(spec.tensorName);
      if (!this.top.nodes.has(nodeName)) {
        this.fail(`signature '${signature.name}' output '${spec.key}' names tensor '${spec.tensorName}', which is not in the graph`);
      }
      const { dtype, shape } = this.completeSpec(spec);
      const r = this.resolve(this.top, idx === 0 ? nodeName : `${nodeName}:${idx}`);
      const source = r.kind === 'tensor' ? r.ref : this.variableConst(r.node);
      const name = outputNames[i] as string;
      this.pushNode({ name, op: 'Identity', input: [source], attr: { T: { type: dtype } } });
      outputs.push({ key: spec.key, name: `${name}:0`, dtype, shape });
      this.processQueue();
    });
    this.processQueue();
    if (this.options.floatInputs === true) for (const input of inputs) this.makeFloatInput(input);
    const sortCounts = (m: Map<string, number>): Record<string, number> =>
      Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return {
      nodes: this.nodes,
      consts: this.consts,
      inputs,
      outputs,
      opCounts: sortCounts(this.opCounts),
      unsupported: sortCounts(this.unsupported),
      producer: this.mg.graphDef?.versions?.producer,
    };
  }
}

/** "name:1" → ["name", 1]; "name" → ["name", 0]. */
export function splitTensorName(tensor: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(tensor);
  return m === null ? [tensor, 0] : [m[1] as string, Number(m[2])];
}

function tfjsEnum(dtype: TensorValue['dtype']): number {
  switch (dtype) {
    case 'float32':
      return DT.FLOAT;
    case 'int32':
      return DT.INT32;
    case 'bool':
      return DT.BOOL;
    default:
      return DT.STRING;
  }
}

/**
 * Builds the frozen inference graph of `options.signature` (already restricted to the inputs and outputs
 * wanted). Errors: E_MODEL_INVALID (dangling references, missing functions), E_MODEL_SIGNATURE (an
 * output needs an input that is not fed). Ops tfjs cannot run are reported in `unsupported`, not thrown.
 */
export function buildGraph(mg: MetaGraphDefMsg, options: BuildOptions): BuiltGraph {
  return new GraphBuilder(mg, options).run();
}

/** One line naming each op tfjs cannot run, with its count. */
export function describeUnsupported(unsupported: Record<string, number>): string {
  return Object.entries(unsupported)
    .map(([op, n]) => `${op} ×${n}`)
    .join(', ');
}
