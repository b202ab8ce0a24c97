/**
 * Cuts a tfjs layers model at a named layer into head (input → activation) and tail (activation →
 * output) for layer Integrated Gradients. Head and tail run the model's own layers on concrete tensors,
 * node by node (Layer.apply outside a symbolic graph), so the model is left exactly as it was.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { LayerSplit } from '../attribution/layer-ig.js';
import { IgxError } from '../errors.js';

type Layer = SymbolicTensor['sourceLayer'];

export interface SplitOptions {
  /** Which model output (default: the last). */
  outputIndex?: number;
  /**
   * The tensor F reads instead of the output: the logits (a separate softmax's input, or the output of a
   * linear twin of the last layer, which the layers adapter makes); default: the output as it is.
   */
  output?: SymbolicTensor;
}

/**
 * Runs the nodes that compute `target` from `feeds` (SymbolicTensor id → value), each once. Reaching an
 * input layer that is not fed means the fed tensors do not cut the graph.
 */
function evaluateSymbolic(target: SymbolicTensor, feeds: Map<number, tf.Tensor>, onUnfed: (t: SymbolicTensor) => never): tf.Tensor {
  const done = new Map<string, tf.Tensor[]>();
  const value = (t: SymbolicTensor): tf.Tensor => {
    const fed = feeds.get(t.id);
    if (fed !== undefined) return fed;
    const layer: Layer = t.sourceLayer;
    const node = layer.inboundNodes[t.nodeIndex];
    if (layer.getClassName() === 'InputLayer' || node === undefined || node.inputTensors.length === 0) return onUnfed(t);
    const key = `${layer.name}#${t.nodeIndex}`;
    let outputs = done.get(key);
    if (outputs === undefined) {
      const inputs = node.inputTensors.map(value);
      const out = layer.apply(inputs.length === 1 ? (inputs[0] as tf.Tensor) : inputs, { ...(node.callArgs ?? {}), training: false });
      outputs = Array.isArray(out) ? (out as tf.Tensor[]) : [out as tf.Tensor];
      done.set(key, outputs);
    }
    return outputs[t.tensorIndex] as tf.Tensor;
  };
  return value(target);
}

/** Splits `model` at layer `layerName` (its first output, as the model uses it). */
export function splitLayersModel(model: LayersModel, layerName: string, options: SplitOptions = {}): LayerSplit {
  const file = model.name;
  const names = model.layers.map((l) => l.name);
  const layer = model.layers.find((l) => l.name === layerName);
  if (layer === undefined) {
    throw new IgxError('E_FLAG', `--layer ${layerName}: no such layer; the model's layers are ${names.join(', ')}`);
  }
  if (model.inputs.length !== 1) throw new IgxError('E_MODEL_INVALID', `${file}: layer IG needs a model with one input`);
  const input = model.inputs[0] as SymbolicTensor;
  const split = layer.inboundNodes[0]?.outputTensors[0];
  if (split === undefined || split.sourceLayer.getClassName() === 'InputLayer' || split.id === input.id) {
    throw new IgxError('E_FLAG', `--layer ${layerName}: the input layer has no activation to attribute to; pick a later layer`);
  }
  const outputIndex = options.outputIndex ?? model.outputs.length - 1;
  const modelOutput = model.outputs[outputIndex];
  if (modelOutput === undefined) throw new IgxError('E_MODEL_OUTPUT', `${file}: no output ${outputIndex}`);
  const output = options.output ?? modelOutput;
  if (split.id === output.id || split.id === modelOutput.id) {
    throw new IgxError('E_FLAG', `--layer ${layerName}: that is the output itself; pick an earlier layer`);
  }
  const activationShape = split.shape.slice(1).map((d) => {
    if (d === null || d < 0) throw new IgxError('E_FLAG', `--layer ${layerName}: its output shape ${JSON.stringify(split.shape)} leaves a dimension open`);
    return d;
  });
  const classes = output.shape.slice(1).reduce<number>((n, d) => n * (d ?? 1), 1);
  const head = (x: tf.Tensor): tf.Tensor =>
    evaluateSymbolic(split, new Map([[input.id, x]]), (t) => {
      throw new IgxError('E_MODEL_INVALID', `${file}: cannot compute layer '${layerName}': '${t.sourceLayer.name}' is not computed from the input`);
    });
  const tail = (z: tf.Tensor): tf.Tensor2D => {
    const y = evaluateSymbolic(output, new Map([[split.id, z]]), (t) => {
      throw new IgxError(
        'E_FLAG',
        `--layer ${layerName}: the layer does not cut the model: '${t.sourceLayer.name}' reaches the output without passing through it (a skip connection around it?)`,
      );
    });
    return tf.reshape(y, [z.shape[0] as number, classes]);
  };
  // Check the cut now: a tail on zeros throws when a path bypasses the layer.
  tf.tidy(() => {
    tail(tf.zeros([1, ...activationShape]));
  });
  return { layerName, activationShape, head, tail, readsFrom: output.sourceLayer.name };
}

