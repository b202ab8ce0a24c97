/**
 * Layer Integrated Gradients (Captum's LayerIntegratedGradients; "conductance" summed over a layer's
 * units, Dhamdhere, Sundararajan, Yan 2018): split a layers model at a layer into head (input → the
 * layer's activation) and tail (activation → output), then integrate ∂F(tail(z))/∂z along the straight
 * line from the baseline's activation z′ = head(x′) to the input's z = head(x). Completeness holds in
 * the activation space: Σ attributions = F(tail(z)) − F(tail(z′)) = F(x) − F(x′).
 *
 * Head and tail run the model's own layers on concrete tensors, node by node (Layer.apply outside a
 * symbolic graph): no layer is re-applied symbolically, so the model is left exactly as it was. The
 * split layer must cut the model: every path from the input to the output passes through it (skip
 * connections around it are an IgxError E_MODEL_OUTPUT).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs-layers';
import { IgxError } from '../errors.js';
import { computeIntegratedGradients, type AdaptiveOptions } from './integrated-gradients.js';
import type { Completeness } from './integrated-gradients.js';
import type { Method, Target } from './types.js';

type Layer = SymbolicTensor['sourceLayer'];

export interface LayerSplit {
  layerName: string;
  /** The activation of one example, without the batch dim: e.g. [14, 14, 128] or [120]. */
  activationShape: number[];
  /** [b, …model input] → [b, …activationShape]. Differentiable; call inside tf.tidy. */
  head: (input: tf.Tensor) => tf.Tensor;
  /** [b, …activationShape] → [b, classes] (trailing dims flattened). Differentiable. */
  tail: (activation: tf.Tensor) => tf.Tensor2D;
  /** The output read: the model's output, or the softmax's input for 'logits'. */
  readsFrom: string;
}

export interface SplitOptions {
  /** Which model output (default: the last). */
  outputIndex?: number;
  /**
   * 'logits' reads the input of a separate softmax layer (Activation('softmax') or Softmax) found
   * walking back from the output through Reshape/Flatten/Dropout; default: the output as it is.
   */
  outputSpace?: 'logits';
}

const SHAPE_ONLY = new Set(['Reshape', 'Flatten', 'Dropout']);

function findLogits(output: SymbolicTensor, file: string): SymbolicTensor {
  let t = output;
  for (let guard = 0; guard < 1000; guard += 1) {
    const layer = t.sourceLayer;
    const inputs = layer.inboundNodes[t.nodeIndex]?.inputTensors ?? [];
    const cls = layer.getClassName();
    const activation = (layer.getConfig() as { activation?: unknown }).activation;
    if (inputs.length !== 1) break;
    if (cls === 'Softmax' || (cls === 'Activation' && activation === 'softmax')) return inputs[0] as SymbolicTensor;
    if (!SHAPE_ONLY.has(cls)) break;
    t = inputs[0] as SymbolicTensor;
  }
  throw new IgxError('E_MODEL_OUTPUT', `${file}: layer IG reads logits only before a separate softmax layer; output '${output.sourceLayer.name}' has none`);
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
  const output = options.outputSpace === 'logits' ? findLogits(modelOutput, file) : modelOutput;
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

export interface LayerIntegratedGradientsOptions {
  method: Method;
  steps: number;
  adaptive?: AdaptiveOptions;
  batchSize: number;
}

export interface LayerIntegratedGradientsResult {
  layerName: string;
  /** [h, w, channels] of the layer's activation (rank-2 activations [n] are [1, 1, n]; rank-3 [t, c] are [1, t, c]). */
  shape: [number, number, number];
  /** Mean over baselines of (z − z′) ⊙ ∫ ∂F/∂z dα, h·w·channels values in HWC order. */
  attributions: Float32Array;
  /** Σ over h, w per channel: [channels]. */
  channelTotals: Float64Array;
  /** Σ over channels per position: [h·w]. */
  spatialMap: Float64Array;
  /** Σ attributions against F(x) − F(x′), F read through head and tail. */
  completeness: Completeness;
  steps: number;
  isConverged: boolean;
  gradientEvaluations: number;
}

/** The activation shape as [h, w, c] for computeIntegratedGradients' rank-4 points. */
function toHwc(shape: number[]): [number, number, number] {
  if (shape.length === 3) return shape as [number, number, number];
  if (shape.length === 2) return [1, shape[0] as number, shape[1] as number];
  if (shape.length === 1) return [1, 1, shape[0] as number];
  return [1, 1, shape.reduce((n, d) => n * d, 1)];
}

/**
 * Layer IG of F = target(tail(·)) at head(input) against head(baseline) for each baseline, averaged over
 * baselines. input and baselines: [1, …model input], preprocessed; they are not disposed.
 */
export async function computeLayerIntegratedGradients(
  split: LayerSplit,
  input: tf.Tensor,
  baselines: tf.Tensor[],
  target: Target,
  options: LayerIntegratedGradientsOptions,
): Promise<LayerIntegratedGradientsResult> {
  const [h, w, c] = toHwc(split.activationShape);
  const toPoints = (t: tf.Tensor): tf.Tensor4D => tf.tidy(() => tf.reshape(split.head(t), [t.shape[0] as number, h, w, c]) as tf.Tensor4D);
  const z = toPoints(input);
  const zs = baselines.map(toPoints);
  try {
    const forward = (points: tf.Tensor4D): tf.Tensor2D => split.tail(tf.reshape(points, [points.shape[0], ...split.activationShape]));
    const ig = await computeIntegratedGradients(forward, z, zs, target, options);
    let attributions: Float32Array;
    try {
      attributions = (await ig.attributions.data()) as Float32Array;
    } finally {
      ig.attributions.dispose();
    }
    const channelTotals = new Float64Array(c);
    const spatialMap = new Float64Array(h * w);
    for (let p = 0; p < h * w; p += 1) {
      for (let k = 0; k < c; k += 1) {
        const v = attributions[p * c + k] as number;
        channelTotals[k] = (channelTotals[k] as number) + v;
        spatialMap[p] = (spatialMap[p] as number) + v;
      }
    }
    return {
      layerName: split.layerName,
      shape: [h, w, c],
      attributions,
      channelTotals,
      spatialMap,
      completeness: ig.completeness,
      steps: ig.steps,
      isConverged: ig.isConverged,
      gradientEvaluations: ig.gradientEvaluations,
    };
  } finally {
    z.dispose();
    tf.dispose(zs);
  }
}
