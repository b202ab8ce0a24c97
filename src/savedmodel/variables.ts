/**
 * Which checkpoint entry holds each variable of a SavedModel's graph, the ways TensorFlow's own loaders
 * find out:
 * 1. TF2: a call node's function captures variables as its last inputs; the SavedObjectGraph lists them
 *    (SavedConcreteFunction.bound_inputs); walking the SavedObjectGraph and the checkpoint's own
 *    TrackableObjectGraph together from the root by child name gives each one's VARIABLE_VALUE key.
 * 2. The saver's restore ops: Assign/AssignVariableOp(variable, RestoreV2:i) with RestoreV2's
 *    tensor_names, at the top level (TF1) or inside the restore function (TF2).
 * 3. TF1's default: the checkpoint key is the variable node's name.
 */
import type { FunctionDefMsg, MetaGraphDefMsg, NodeDefMsg, TrackableObjectGraphMsg } from './messages.js';
import { protoType } from './proto.js';
import type { TensorBundle } from './tensor-bundle.js';
import { tensorFromProto } from './tensor-value.js';

export const OBJECT_GRAPH_KEY = '_CHECKPOINTABLE_OBJECT_GRAPH';

const CALL_OPS = new Set(['StatefulPartitionedCall', 'PartitionedCall']);
const VARIABLE_OPS = new Set(['VarHandleOp', 'VariableV2', 'Variable']);
const utf8 = new TextDecoder('utf-8');

export function nodeNameOf(ref: string): string {
  const name = ref.startsWith('^') ? ref.slice(1) : ref;
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(0, i);
}

function dataInputs(node: NodeDefMsg): string[] {
  return node.input.filter((x) => !x.startsWith('^'));
}

/** savedNodeId → trackableNodeId, by walking both object graphs from their roots by child name. */
function matchObjectGraphs(saved: MetaGraphDefMsg['objectGraphDef'], trackable: TrackableObjectGraphMsg): Map<number, number> {
  const map = new Map<number, number>();
  if (saved === null || saved.nodes.length === 0 || trackable.nodes.length === 0) return map;
  map.set(0, 0);
  const queue: [number, number][] = [[0, 0]];
  while (queue.length > 0) {
    const [s, t] = queue.shift() as [number, number];
    const tChildren = new Map((trackable.nodes[t]?.children ?? []).map((c) => [c.localName, c.nodeId]));
    for (const child of saved.nodes[s]?.children ?? []) {
      const tId = tChildren.get(child.localName);
      if (tId === undefined || map.has(child.nodeId)) continue;
      map.set(child.nodeId, tId);
      queue.push([child.nodeId, tId]);
    }
  }
  return map;
}

async function readObjectGraph(bundle: TensorBundle): Promise<TrackableObjectGraphMsg | undefined> {
  if (!bundle.has(OBJECT_GRAPH_KEY)) return undefined;
  const value = await bundle.read(OBJECT_GRAPH_KEY);
  const bytes = value.dtype === 'string' ? (value.data as Uint8Array[])[0] : undefined;
  if (bytes === undefined) return undefined;
  try {
    return protoType('TrackableObjectGraph').decode(bytes) as unknown as TrackableObjectGraphMsg;
  } catch {
    return undefined;
  }
}

/** Through a chain of Identity nodes to "RestoreV2:i" (graph form) or "RestoreV2:tensors:i" (function form). */
function traceRestore(
  ref: string,
  nodes: Map<string, NodeDefMsg>,
): { node: NodeDefMsg; index: number } | undefined {
  let current = ref;
  for (let guard = 0; guard < 64; guard++) {
    const parts = current.split(':');
    const node = nodes.get(parts[0] as string);
    if (node === undefined) return undefined;
    if (node.op === 'Identity') {
      const next = dataInputs(node)[0];
      if (next === undefined) return undefined;
      current = next;
      continue;
    }
    if (node.op !== 'RestoreV2') return undefined;
    const index = Number(parts.length === 3 ? parts[2] : (parts[1] ?? 0));
    return Number.isInteger(index) ? { node, index } : undefined;
  }
  return undefined;
}

/** The checkpoint keys a RestoreV2 reads: its tensor_names input, a string Const. */
function restoreKeys(restore: NodeDefMsg, nodes: Map<string, NodeDefMsg>): string[] | undefined {
  const namesRef = dataInputs(restore)[1];
  if (namesRef === undefined) return undefined;
  const names = nodes.get(namesRef.split(':')[0] as string);
  const tensor = names?.op === 'Const' ? names.attr.value?.tensor : undefined;
  if (tensor == null) return undefined;
  try {
    const value = tensorFromProto(tensor, restore.name);
    return value.dtype === 'string' ? (value.data as Uint8Array[]).map((b) => utf8.decode(b)) : undefined;
  } catch {
    return undefined;
  }
}

/** Assign nodes in `nodes` → (variable ref as written, checkpoint key). */
function keysFromAssigns(nodes: Map<string, NodeDefMsg>): [string, string][] {
  const out: [string, string][] = [];
  for (const node of nodes.values()) {
    if (node.op !== 'Assign' && node.op !== 'AssignVariableOp') continue;
    const [target, value] = dataInputs(node);
    if (target === undefined || value === undefined) continue;
    const traced = traceRestore(value, nodes);
    if (traced === undefined) continue;
    const key = restoreKeys(traced.node, nodes)?.[traced.index];
    if (key !== undefined) out.push([target, key]);
  }
  return out;
}

/**
 * Maps top-level variable node names (VarHandleOp, VariableV2) to checkpoint keys. Keys that the bundle
 * lacks are left out, so a later step can name the variable that has no value.
 */
export async function resolveVariableKeys(mg: MetaGraphDefMsg, bundle: TensorBundle | undefined): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  const graph = mg.graphDef;
  if (graph === null || bundle === undefined) return keys;
  const top = new Map(graph.node.map((n) => [n.name, n]));
  /** The variable node a top-level reference leads to, through Identity nodes. */
  const variableOf = (name: string): string | undefined => {
    let current = name;
    for (let guard = 0; guard < 64; guard++) {
      const node = top.get(current);
      if (node === undefined) return undefined;
      if (VARIABLE_OPS.has(node.op)) return current;
      const next = node.op === 'Identity' ? dataInputs(node)[0] : undefined;
      if (next === undefined) return undefined;
      current = nodeNameOf(next);
    }
    return undefined;
  };
  const set = (ref: string, key: string): void => {
    const node = variableOf(ref);
    if (node !== undefined && !keys.has(node) && bundle.has(key)) keys.set(node, key);
  };

  // 1. TF2 object graphs.
  const saved = mg.objectGraphDef;
  const trackable = saved !== null ? await readObjectGraph(bundle) : undefined;
  if (saved !== null && trackable !== undefined) {
    const match = matchObjectGraphs(saved, trackable);
    const keyOfSaved = (id: number): string | undefined => {
      const t = match.get(id);
      if (t === undefined || saved.nodes[id]?.kind !== 'variable') return undefined;
      return trackable.nodes[t]?.attributes.find((a) => a.name === 'VARIABLE_VALUE')?.checkpointKey;
    };
    for (const node of graph.node) {
      if (!CALL_OPS.has(node.op)) continue;
      const fname = node.attr.f?.func?.name;
      const bound = fname === undefined ? undefined : saved.concreteFunctions[fname]?.boundInputs;
      if (bound === undefined || bound.length === 0) continue;
      const inputs = dataInputs(node);
      const captured = inputs.slice(inputs.length - bound.length);
      bound.forEach((id, j) => {
        const key = keyOfSaved(id);
        const ref = captured[j];
        if (key !== undefined && ref !== undefined) set(nodeNameOf(ref), key);
      });
    }
  }

  // 2. The saver's restore ops: top-level (TF1), then the restore function (TF2).
  for (const [target, key] of keysFromAssigns(top)) set(nodeNameOf(target), key);
  const library = new Map<string, FunctionDefMsg>((graph.library?.function ?? []).map((f) => [f.signature?.name ?? '', f]));
  const restoreName = mg.saverDef?.restoreOpName;
  const restoreCall = restoreName ? top.get(nodeNameOf(restoreName)) : undefined;
  const calls = restoreCall !== undefined && CALL_OPS.has(restoreCall.op) ? [restoreCall] : [];
  for (const call of calls) {
    const fn = library.get(call.attr.f?.func?.name ?? '');
    if (fn?.signature == null) continue;
    const body = new Map(fn.nodeDef.map((n) => [n.name, n]));
    const args = fn.signature.inputArg.map((a) => a.name);
    const inputs = dataInputs(call);
    for (const [target, key] of keysFromAssigns(body)) {
      const argIndex = args.indexOf(target);
      const ref = argIndex >= 0 ? inputs[argIndex] : undefined;
      if (ref !== undefined) set(nodeNameOf(ref), key);
    }
  }

  // 3. TF1: the node's own name.
  for (const node of graph.node) {
    if (VARIABLE_OPS.has(node.op)) set(node.name, node.name);
  }
  return keys;
}
