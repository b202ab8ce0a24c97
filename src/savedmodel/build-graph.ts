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
import { shapeJson } from './attr-to-json.js';
import { createBuildContext, fail, unique, type BuildOptions, type BuiltGraph, type GraphTensorSpec } from './build-context.js';
import { processQueue } from './build-node.js';
import { completeSpec } from './complete-spec.js';
import { makeFloatInput } from './make-float-input.js';
import type { MetaGraphDefMsg } from './messages.js';
import { splitTensorName } from './parse-ref.js';
import { pushNode } from './push-node.js';
import type { SignatureTensor } from './read-saved-model.js';
import { resolveRef } from './resolve-ref.js';
import { tfjsDtypeOf } from './tensor-value.js';
import { variableConst } from './variable-const.js';

export type { BuildOptions, BuiltGraph, ConstSource, GraphJsonNode, GraphTensorSpec } from './build-context.js';
export { attrToJson } from './attr-to-json.js';
export { splitTensorName } from './parse-ref.js';

const TF_NAME = /^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$/;

/** A signature key as a node name tfjs can parse (no ':' and the like). */
function keyToNodeName(key: string): string {
  if (TF_NAME.test(key)) return key;
  const cleaned = key.replace(/[^A-Za-z0-9_.\-/]/g, '_');
  return /^[A-Za-z0-9.]/.test(cleaned) ? cleaned : `x${cleaned}`;
}

/**
 * Builds the frozen inference graph of `options.signature` (already restricted to the inputs and outputs
 * wanted). Errors: E_MODEL_INVALID (dangling references, missing functions), E_MODEL_SIGNATURE (an
 * output needs an input that is not fed). Ops tfjs cannot run are reported in `unsupported`, not thrown.
 */
export function buildGraph(mg: MetaGraphDefMsg, options: BuildOptions): BuiltGraph {
  const ctx = createBuildContext(mg, options);
  const { signature } = options;
  const inputs: GraphTensorSpec[] = [];
  const outputs: GraphTensorSpec[] = [];
  const placeholders: { name: string; spec: SignatureTensor }[] = [];
  for (const spec of signature.inputs) {
    const name = unique(ctx, keyToNodeName(spec.key));
    const [nodeName, idx] = splitTensorName(spec.tensorName);
    if (!ctx.top.nodes.has(nodeName)) {
      fail(ctx, `signature '${signature.name}' input '${spec.key}' names tensor '${spec.tensorName}', which is not in the graph`);
    }
    ctx.feeds.set(`${nodeName}:${idx}`, name);
    placeholders.push({ name, spec });
  }
  const outputNames = signature.outputs.map((spec) => unique(ctx, keyToNodeName(spec.key)));
  for (const { name, spec } of placeholders) {
    const { dtypeEnum, dtype, shape } = completeSpec(ctx, spec);
    if (tfjsDtypeOf(dtypeEnum) === undefined) {
      fail(ctx, `signature '${signature.name}' input '${spec.key}' has dtype ${dtype}, which TensorFlow.js cannot feed`);
    }
    pushNode(ctx, {
      name,
      op: 'Placeholder',
      input: [],
      attr: { dtype: { type: dtype }, shape: { shape: shapeJson(shape) } },
    });
    inputs.push({ key: spec.key, name: `${name}:0`, dtype, shape });
  }
  signature.outputs.forEach((spec, i) => {
    const [nodeName, idx] = splitTensorName(spec.tensorName);
    if (!ctx.top.nodes.has(nodeName)) {
      fail(ctx, `signature '${signature.name}' output '${spec.key}' names tensor '${spec.tensorName}', which is not in the graph`);
    }
    const { dtype, shape } = completeSpec(ctx, spec);
    const r = resolveRef(ctx, ctx.top, idx === 0 ? nodeName : `${nodeName}:${idx}`);
    const source = r.kind === 'tensor' ? r.ref : variableConst(ctx, r.node);
    const name = outputNames[i] as string;
    pushNode(ctx, { name, op: 'Identity', input: [source], attr: { T: { type: dtype } } });
    outputs.push({ key: spec.key, name: `${name}:0`, dtype, shape });
    processQueue(ctx);
  });
  processQueue(ctx);
  if (options.floatInputs === true) for (const input of inputs) makeFloatInput(ctx, input);
  const sortCounts = (m: Map<string, number>): Record<string, number> =>
    Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    nodes: ctx.nodes,
    consts: ctx.consts,
    inputs,
    outputs,
    opCounts: sortCounts(ctx.opCounts),
    unsupported: sortCounts(ctx.unsupported),
    producer: mg.graphDef?.versions?.producer,
  };
}

/** One line naming each op tfjs cannot run, with its count. */
export function describeUnsupported(unsupported: Record<string, number>): string {
  return Object.entries(unsupported)
    .map(([op, n]) => `${op} ×${n}`)
    .join(', ');
}
