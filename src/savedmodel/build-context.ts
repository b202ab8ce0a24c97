/**
 * The state `buildGraph` shares between its steps (the graph being built, the function library, the
 * scopes of inlined calls), the graph's public types, and the few primitives every step uses.
 */
import { IgxError } from '../errors.js';
import type { AttrValueMsg, FunctionDefMsg, MetaGraphDefMsg, NodeDefMsg, OpDefMsg } from './messages.js';
import type { SignatureInfo } from './read-saved-model.js';
import type { TensorValue } from './tensor-value.js';

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

export const CALL_OPS = new Set(['StatefulPartitionedCall', 'PartitionedCall']);
/** TF2's functional tf.cond: inlined as a call to the branch its constant cond takes. */
export const IF_OPS = new Set(['If', 'StatelessIf']);
/** Forward as their (first or i-th) input: no value change. */
export const PASS_THROUGH_OPS = new Set(['Identity', 'Snapshot', 'CheckNumerics', 'EnsureShape']);
/** TF1 control flow (tf.cond): Switch routes its data to output_false (0) or output_true (1). */
export const SWITCH_OPS = new Set(['Switch', 'RefSwitch']);
/** Merge outputs its one live data input (output 0) and that input's index (value_index, output 1). */
export const MERGE_OPS = new Set(['Merge', 'RefMerge']);

export interface Scope {
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

export type Liveness = 'live' | 'dead' | 'unknown';

export type Resolved = { kind: 'tensor'; ref: string } | { kind: 'variable'; node: NodeDefMsg };

/** Everything one `buildGraph` call builds and looks up. */
export interface BuildContext {
  readonly mg: MetaGraphDefMsg;
  readonly options: BuildOptions;
  readonly library: Map<string, FunctionDefMsg>;
  /** Function name → its nodes by name, built once however often the function is inlined. */
  readonly bodies: Map<string, Map<string, NodeDefMsg>>;
  readonly opDefs: Map<string, OpDefMsg>;
  readonly names: Set<string>;
  readonly nodes: GraphJsonNode[];
  readonly consts: Map<string, ConstSource>;
  readonly queue: { scope: Scope; node: NodeDefMsg; name: string }[];
  /** Variable node name → its Const's name. */
  readonly variableConsts: Map<string, string>;
  /** Top-level "node:index" → the Placeholder that replaces it. */
  readonly feeds: Map<string, string>;
  readonly opCounts: Map<string, number>;
  readonly unsupported: Map<string, number>;
  readonly top: Scope;
}

export function createBuildContext(mg: MetaGraphDefMsg, options: BuildOptions): BuildContext {
  const graph = mg.graphDef;
  if (graph === null) throw new IgxError('E_MODEL_INVALID', `${options.file}: the MetaGraph has no graph_def`);
  const library = new Map<string, FunctionDefMsg>();
  for (const fn of graph.library?.function ?? []) {
    if (fn.signature !== null) library.set(fn.signature.name, fn);
  }
  const opDefs = new Map<string, OpDefMsg>();
  for (const op of mg.metaInfoDef?.strippedOpList?.op ?? []) opDefs.set(op.name, op);
  const top: Scope = {
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
  return {
    mg,
    options,
    library,
    bodies: new Map(),
    opDefs,
    names: new Set(),
    nodes: [],
    consts: new Map(),
    queue: [],
    variableConsts: new Map(),
    feeds: new Map(),
    opCounts: new Map(),
    unsupported: new Map(),
    top,
  };
}

export function fail(ctx: BuildContext, message: string): never {
  throw new IgxError('E_MODEL_INVALID', `${ctx.options.file}: ${message}`);
}

export function unique(ctx: BuildContext, base: string): string {
  let name = base;
  for (let i = 1; ctx.names.has(name); i++) name = `${base}_${i}`;
  ctx.names.add(name);
  return name;
}

export function dataInputs(node: NodeDefMsg): string[] {
  return node.input.filter((x) => !x.startsWith('^'));
}
