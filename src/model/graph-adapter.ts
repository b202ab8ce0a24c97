/**
 * TensorFlow.js graph models (tf.loadGraphModel). F is `model.execute(input, nodeName)`, which records
 * on the gradient tape and takes any node name, so the logits are read at the Softmax node's input.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { LayerSplit } from '../attribution/layer-ig.js';
import { IgxError } from '../errors.js';
import { countClasses, type AdaptedOutput, type ModelAdapter } from './adapter.js';
import type { ModelJson } from './model-json.js';
import type { OutputSpace } from './types.js';

interface GraphNode {
  op: string;
  /** Data inputs, as written ("name" or "name:1"). */
  inputs: string[];
  /** Data and control inputs, node names only. */
  deps: string[];
}

/** Ops that pass values through with at most a new shape: the walk from an output to its Softmax crosses them. */
const SHAPE_ONLY_OPS = new Set(['Identity', 'Reshape', 'Squeeze', 'ExpandDims', 'Snapshot', 'EnsureShape']);

/** Nodes that are no activation to attribute to: weights, the input, shape arithmetic. */
const NOT_ACTIVATION_OPS = new Set(['Const', 'Placeholder', 'PlaceholderWithDefault', 'Shape', 'ShapeN', 'Size', 'Rank', 'NoOp']);

/** Ops tfjs-converter can only run in executeAsync (its model_analysis lists), which igx cannot differentiate. */
const ASYNC_OPS = new Set([
  'Switch',
  'Merge',
  'Enter',
  'Exit',
  'NextIteration',
  'StatelessIf',
  'StatelessWhile',
  'If',
  'if',
  'While',
  'NonMaxSuppressionV2',
  'NonMaxSuppressionV3',
  'NonMaxSuppressionV4',
  'NonMaxSuppressionV5',
  'Where',
  'HashTable',
  'HashTableV2',
  'LookupTableImport',
  'LookupTableImportV2',
  'LookupTableFind',
  'LookupTableFindV2',
  'LookupTableSize',
  'LookupTableSizeV2',
]);

function nodeNameOf(ref: string): string {
  const name = ref.startsWith('^') ? ref.slice(1) : ref;
  const m = /^(.*):(\d+)$/.exec(name);
  return m?.[1] ?? name;
}

function readNodes(json: ModelJson): Map<string, GraphNode> {
  const nodes = new Map<string, GraphNode>();
  const list = json.modelTopology.node;
  if (!Array.isArray(list)) return nodes;
  for (const raw of list as unknown[]) {
    if (typeof raw !== 'object' || raw === null) continue;
    const n = raw as { name?: unknown; op?: unknown; input?: unknown };
    if (typeof n.name !== 'string' || typeof n.op !== 'string') continue;
    const input = Array.isArray(n.input) ? n.input.filter((x): x is string => typeof x === 'string') : [];
    nodes.set(n.name, { op: n.op, inputs: input.filter((x) => !x.startsWith('^')), deps: input.map(nodeNameOf) });
  }
  return nodes;
}

/** Output tensor name ("Identity:0") → its shape from the model's signature, when given. */
function readSignatureShapes(json: ModelJson): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const outputs = (json.signature as { outputs?: Record<string, unknown> } | undefined)?.outputs;
  if (typeof outputs !== 'object' || outputs === null) return shapes;
  for (const [key, value] of Object.entries(outputs)) {
    const info = value as { name?: unknown; tensorShape?: { dim?: { size?: unknown }[]; unknownRank?: boolean } };
    const dims = info.tensorShape?.dim;
    if (!Array.isArray(dims) || info.tensorShape?.unknownRank === true) continue;
    const shape = dims.map((d) => Number(d.size ?? -1));
    shapes.set(nodeNameOf(key), shape);
    if (typeof info.name === 'string') shapes.set(nodeNameOf(info.name), shape);
  }
  return shapes;
}

export class GraphAdapter implements ModelAdapter {
  readonly format = 'graph' as const;
  readonly inputName: string;
  readonly inputShape: (number | null)[] | undefined;
  readonly outputNames: string[];
  private readonly nodes: Map<string, GraphNode>;
  private readonly signatureShapes: Map<string, number[]>;
  /**
   * The batch size the graph was traced at, where it is fixed (Keras 3's `model.build((32, …))` then
   * `tf.saved_model.save` bakes 32 into the signature and into Flatten's Reshape): it runs only that many.
   */
  readonly fixedBatch: number | undefined;

  constructor(
    private readonly model: GraphModel,
    json: ModelJson,
    private readonly file: string,
  ) {
    const inputs = model.inputs;
    if (inputs.length !== 1 || inputs[0] === undefined) {
      throw new IgxError(
        'E_MODEL_INVALID',
        `${file}: igx needs a model with one image input; this graph model has ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`,
      );
    }
    this.inputName = inputs[0].name;
    this.inputShape = inputs[0].shape?.map((d) => (d < 0 ? null : d));
    const batch = this.inputShape?.[0];
    this.fixedBatch = this.inputShape !== undefined && this.inputShape.length === 4 && typeof batch === 'number' ? batch : undefined;
    this.outputNames = [...model.outputNodes];
    this.nodes = readNodes(json);
    this.signatureShapes = readSignatureShapes(json);
  }

  /**
   * `model.execute({feed: value}, output)`, in chunks of the fixed batch where there is one: a short
   * chunk is padded with zeros and its outputs cut back. Each image's output depends on that image alone
   * (inference-mode graphs), so padding changes no value, and the slices carry gradients.
   */
  private execute(feed: string, value: tf.Tensor, output: string): tf.Tensor {
    const b = this.fixedBatch;
    const n = value.shape[0] as number;
    if (b === undefined || n === b) return this.model.execute({ [feed]: value }, output) as tf.Tensor;
    const parts: tf.Tensor[] = [];
    for (let start = 0; start < n; start += b) {
      const size = Math.min(b, n - start);
      const chunk = n <= b ? value : tf.slice(value, start, size);
      const padded = size < b ? tf.concat([chunk, tf.zeros([b - size, ...value.shape.slice(1)], value.dtype)]) : chunk;
      const y = this.model.execute({ [feed]: padded }, output) as tf.Tensor;
      parts.push(size < b ? tf.slice(y, 0, size) : y);
    }
    return parts.length === 1 ? (parts[0] as tf.Tensor) : tf.concat(parts);
  }

  aliases(index: number): string[] {
    const name = this.outputNames[index];
    if (name === undefined) return [];
    return name.endsWith(':0') ? [name.slice(0, -2)] : name.includes(':') ? [] : [`${name}:0`];
  }

  /** The Softmax reached from `ref` through shape-only ops, and its data input (the logits). */
  private findSoftmax(ref: string): { softmax: string; logits: string } | undefined {
    let current = ref;
    for (let guard = 0; guard <= this.nodes.size; guard++) {
      const name = nodeNameOf(current);
      const node = this.nodes.get(name);
      if (node === undefined) return undefined;
      if (node.op === 'Softmax') {
        const logits = node.inputs[0];
        return logits === undefined ? undefined : { softmax: name, logits };
      }
      const next = node.inputs[0];
      if (!SHAPE_ONLY_OPS.has(node.op) || next === undefined) return undefined;
      current = next;
    }
    return undefined;
  }

  /** Refuses outputs whose computation needs executeAsync (control flow, dynamic shapes, hash tables). */
  private assertSynchronous(ref: string): void {
    const inputNode = nodeNameOf(this.inputName);
    const seen = new Set<string>();
    const stack = [nodeNameOf(ref)];
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (seen.has(name)) continue;
      seen.add(name);
      const node = this.nodes.get(name);
      if (node === undefined || name === inputNode) continue;
      if (ASYNC_OPS.has(node.op)) {
        throw new IgxError(
          'E_UNSUPPORTED_OP',
          `${this.file}: node '${name}' (op ${node.op}) on the way to '${ref}' needs TensorFlow.js's executeAsync ` +
            `(control flow or dynamic shapes), which cannot be differentiated; igx supports graphs that run with execute()`,
        );
      }
      stack.push(...node.deps);
    }
  }

  adaptOutput(index: number, requested: OutputSpace | undefined): AdaptedOutput {
    const outputName = this.outputNames[index] as string;
    const found = this.findSoftmax(outputName);
    const staticClasses = countClasses(this.signatureShapes.get(nodeNameOf(outputName)));
    let readsFrom = outputName;
    let space: AdaptedOutput['space'];
    if (found === undefined) {
      if (requested !== undefined) {
        throw new IgxError(
          'E_MODEL_OUTPUT',
          `${this.file}: --output-space ${requested} needs a Softmax at output '${outputName}', but it is computed by ` +
            `${this.describeChain(outputName)}; leave --output-space out to read the output as it is`,
        );
      }
      space = 'raw';
    } else if (requested === 'logits') {
      readsFrom = found.logits;
      space = 'logits';
    } else {
      space = 'probabilities';
    }
    this.assertSynchronous(readsFrom);
    const inputName = this.inputName;
    return {
      // Softmax and the shape-only ops keep the element count, so the logits have the output's count.
      staticClasses,
      readsFrom,
      space,
      run: (input) => this.execute(inputName, input, readsFrom),
    };
  }

  /**
   * Whether every path from the input to `target` passes through node `cut`'s first output (and one
   * does): then feeding `cut` computes `target` without the input. Data inputs only; weights (Consts)
   * need no feed.
   */
  private isCut(cut: string, target: string): boolean {
    const inputNode = nodeNameOf(this.inputName);
    if (cut === inputNode || cut === target) return false;
    const seen = new Set<string>([cut]);
    const stack = [target];
    let reachesCut = false;
    while (stack.length > 0) {
      const name = stack.pop() as string;
      if (name === inputNode) return false;
      if (seen.has(name)) continue;
      seen.add(name);
      for (const ref of this.nodes.get(name)?.inputs ?? []) {
        const dep = nodeNameOf(ref);
        // Only a node's first output is fed ("name" → name:0); a path through another (Split, Unpack) is not cut.
        if (dep === cut && /:[1-9]\d*$/.test(ref)) return false;
        if (dep === cut) reachesCut = true;
        else stack.push(dep);
      }
    }
    return reachesCut;
  }

  /** Nodes computed from the input (its descendants), the candidates for a cut, inputs before their users. */
  private descendantsOfInput(): string[] {
    const children = new Map<string, string[]>();
    for (const [name, node] of this.nodes) {
      for (const ref of node.inputs) {
        const dep = nodeNameOf(ref);
        children.set(dep, [...(children.get(dep) ?? []), name]);
      }
    }
    const found = new Set<string>();
    const stack = [nodeNameOf(this.inputName)];
    while (stack.length > 0) {
      for (const child of children.get(stack.pop() as string) ?? []) {
        if (!found.has(child)) {
          found.add(child);
          stack.push(child);
        }
      }
    }
    // Kahn's order over those nodes, so a listing reads from the input to the output.
    const pending = new Map<string, number>();
    for (const name of found) pending.set(name, (this.nodes.get(name)?.inputs ?? []).filter((r) => found.has(nodeNameOf(r))).length);
    const ready = [...found].filter((n) => pending.get(n) === 0);
    const order: string[] = [];
    while (ready.length > 0) {
      const name = ready.shift() as string;
      order.push(name);
      for (const child of children.get(name) ?? []) {
        if (!found.has(child)) continue;
        const left = (pending.get(child) as number) - 1;
        pending.set(child, left);
        if (left === 0) ready.push(child);
      }
    }
    return order;
  }

  /** `target` and the nodes it is only a reshaping of (an attribution there is F's own output). */
  private reshapingsOf(target: string): Set<string> {
    const names = new Set<string>([target]);
    let node = this.nodes.get(target);
    while (node !== undefined && SHAPE_ONLY_OPS.has(node.op) && node.inputs[0] !== undefined) {
      const next = nodeNameOf(node.inputs[0]);
      names.add(next);
      node = this.nodes.get(next);
    }
    return names;
  }

  /** Node names at which splitAt works for output `index`, from the input on. */
  listSplitPoints(index: number): string[] {
    const target = nodeNameOf(this.adaptOutput(index, undefined).readsFrom);
    const output = this.reshapingsOf(target);
    return this.descendantsOfInput().filter((name) => {
      const op = this.nodes.get(name)?.op ?? '';
      return !NOT_ACTIVATION_OPS.has(op) && !SHAPE_ONLY_OPS.has(op) && !output.has(name) && this.isCut(name, target);
    });
  }

  /**
   * Cuts the graph at node `name` (or the one node whose name ends in "/name") for layer IG: head runs
   * input → node, tail feeds the node's value and runs on to the output F reads. tfjs's executor takes
   * any node as a feed and records both on the gradient tape.
   */
  splitAt(name: string, index: number, requested: OutputSpace | undefined, exampleShape: number[]): LayerSplit {
    const adapted = this.adaptOutput(index, requested);
    const target = nodeNameOf(adapted.readsFrom);
    const matches = this.nodes.has(name) ? [name] : [...this.nodes.keys()].filter((n) => n.endsWith(`/${name}`));
    if (matches.length !== 1) {
      throw new IgxError(
        'E_FLAG',
        matches.length === 0
          ? `--layer ${name}: no node of ${this.file} has that name; \`igx inspect\` lists the nodes layer IG can cut at`
          : `--layer ${name}: ${matches.length} nodes end in that name (${matches.slice(0, 3).join(', ')}…); give the full node name`,
      );
    }
    const node = matches[0] as string;
    const op = this.nodes.get(node)?.op ?? '?';
    if (NOT_ACTIVATION_OPS.has(op) || !this.descendantsOfInput().includes(node)) {
      throw new IgxError('E_FLAG', `--layer ${node}: a ${op} node is not an activation computed from the input; pick a later node`);
    }
    if (this.reshapingsOf(target).has(node) || !this.isCut(node, target)) {
      throw new IgxError(
        'E_FLAG',
        this.reshapingsOf(target).has(node)
          ? `--layer ${node}: that is the output F reads; pick an earlier node`
          : `--layer ${node}: the node does not cut the graph on the way to '${target}' (a path from the input bypasses it, or it lies after the output)`,
      );
    }
    const inputName = this.inputName;
    const probe = tf.tidy(() => this.execute(inputName, tf.zeros(exampleShape), node).shape);
    if (probe.length < 2 || probe[0] !== 1) {
      throw new IgxError('E_FLAG', `--layer ${node}: its value has shape [${probe.join(', ')}], not [batch, …]; pick a node with a batch dimension`);
    }
    return {
      layerName: node,
      activationShape: probe.slice(1),
      head: (input) => this.execute(inputName, input, node),
      tail: (z) => {
        const y = this.execute(node, z, adapted.readsFrom);
        return tf.reshape(y, [z.shape[0] as number, -1]) as tf.Tensor2D;
      },
      readsFrom: adapted.readsFrom,
    };
  }

  private describeChain(ref: string): string {
    const ops: string[] = [];
    let current = ref;
    for (let i = 0; i < 4; i++) {
      const node = this.nodes.get(nodeNameOf(current));
      if (node === undefined) break;
      ops.push(`${node.op} '${nodeNameOf(current)}'`);
      const next = node.inputs[0];
      if (!SHAPE_ONLY_OPS.has(node.op) || next === undefined) break;
      current = next;
    }
    return ops.length === 0 ? 'an unknown node' : ops.join(' ← ');
  }

  dispose(): void {
    this.model.dispose();
  }
}
