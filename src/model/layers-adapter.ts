/**
 * TensorFlow.js layers models (tf.loadLayersModel). F is a (sub-)model applied to the input, which is
 * differentiable. Logits: the softmax layer's input, or, when the softmax is the activation of the last
 * Dense/Conv layer, a linear twin of that layer that shares its weights.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { model as makeModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { IgxError } from '../errors.js';
import type { LayerSplit } from '../attribution/layer-ig.js';
import { countClasses, type AdaptedOutput, type ModelAdapter } from './adapter.js';
import { splitLayersModel } from './layer-split.js';
import type { OutputSpace } from './types.js';

type Layer = SymbolicTensor['sourceLayer'];

/** Layers that pass values through at inference with at most a new shape. */
const SHAPE_ONLY_LAYERS = new Set(['Reshape', 'Flatten', 'Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

interface FoundSoftmax {
  layer: Layer;
  /** The softmax is a layer of its own (Activation / Softmax): its input are the logits. */
  isSeparate: boolean;
  /** The tensor that goes into the layer that applies the softmax. */
  input: SymbolicTensor;
}

function activationOf(layer: Layer): string | undefined {
  const cfg = layer.getConfig() as { activation?: unknown };
  return typeof cfg.activation === 'string' ? cfg.activation : undefined;
}

function singleInputOf(t: SymbolicTensor): SymbolicTensor | undefined {
  const node = t.sourceLayer.inboundNodes[t.nodeIndex];
  const inputs = node?.inputTensors ?? [];
  return inputs.length === 1 ? inputs[0] : undefined;
}

/** A softmax over the whole class vector: all non-batch dims but the last are 1. */
function isClassSoftmax(shape: readonly (number | null)[]): boolean {
  const n = countClasses(shape);
  const last = shape[shape.length - 1];
  return n !== undefined && typeof last === 'number' && n === last;
}

export class LayersAdapter implements ModelAdapter {
  readonly format = 'layers' as const;
  readonly inputName: string;
  readonly inputShape: (number | null)[];
  readonly outputNames: string[];
  /** Layers made here (linear twins); disposed with the adapter. */
  private readonly twins: Layer[] = [];
  /** Softmax layer name → its linear twin's output, so layer IG reuses one twin per layer. */
  private readonly logitTwins = new Map<string, SymbolicTensor>();
  private disposed = false;

  constructor(
    /** The tfjs model, for cutting it at a layer (layer IG). */
    readonly model: LayersModel,
    private readonly file: string,
  ) {
    const inputs = model.inputs;
    if (inputs.length !== 1 || inputs[0] === undefined) {
      throw new IgxError(
        'E_MODEL_INVALID',
        `${file}: igx needs a model with one image input; this layers model has ${inputs.length} (${inputs.map((i) => i.sourceLayer.name).join(', ')})`,
      );
    }
    this.inputName = inputs[0].sourceLayer.name;
    this.inputShape = [...inputs[0].shape];
    const names = model.outputs.map((o) => o.sourceLayer.name);
    this.outputNames = names.map((n, i) => (names.indexOf(n) !== names.lastIndexOf(n) ? `${n}/${model.outputs[i]?.tensorIndex ?? i}` : n));
  }

  aliases(index: number): string[] {
    const t = this.model.outputs[index];
    return t === undefined ? [] : [t.name];
  }

  private findSoftmax(output: SymbolicTensor): FoundSoftmax | undefined {
    let t: SymbolicTensor | undefined = output;
    for (let guard = 0; t !== undefined && guard < 10_000; guard++) {
      const layer: Layer = t.sourceLayer;
      const className = layer.getClassName();
      const activation = activationOf(layer);
      const input = singleInputOf(t);
      if (input === undefined) return undefined;
      if (className === 'Softmax') {
        const axis = (layer.getConfig() as { axis?: unknown }).axis;
        const isLastAxis = axis === undefined || axis === -1 || axis === t.shape.length - 1;
        return isLastAxis && isClassSoftmax(t.shape) ? { layer, isSeparate: true, input } : undefined;
      }
      if (activation === 'softmax') {
        return isClassSoftmax(t.shape) ? { layer, isSeparate: className === 'Activation', input } : undefined;
      }
      const isIdentity = SHAPE_ONLY_LAYERS.has(className) || (className === 'Activation' && activation === 'linear');
      if (!isIdentity) return undefined;
      t = input;
    }
    return undefined;
  }

  /** A copy of `layer` with a linear activation that shares its weights, applied to the same input. */
  private makeLinearTwin(found: FoundSoftmax): SymbolicTensor {
    const { layer } = found;
    const config = { ...(layer.getConfig() as Record<string, unknown>) };
    delete config.batchInputShape;
    delete config.inputShape;
    config.activation = 'linear';
    config.name = `${layer.name}__igx_logits_${this.twins.length}`;
    const Ctor = layer.constructor as new (args: Record<string, unknown>) => Layer;
    let twin: Layer;
    let out: SymbolicTensor;
    try {
      twin = new Ctor(config);
      out = twin.apply(found.input) as SymbolicTensor;
    } catch (err) {
      throw new IgxError(
        'E_MODEL_OUTPUT',
        `${this.file}: cannot read the logits of layer '${layer.name}' (${layer.getClassName()} with a softmax activation): ${(err as Error).message}`,
        { cause: err },
      );
    }
    // setWeights assigns the same buffers (ref-counted), so the twin costs no weight memory.
    twin.setWeights(layer.getWeights());
    this.twins.push(twin);
    return out;
  }

  adaptOutput(index: number, requested: OutputSpace | undefined): AdaptedOutput {
    const output = this.model.outputs[index] as SymbolicTensor;
    const outputName = this.outputNames[index] as string;
    const found = this.findSoftmax(output);
    let target = output;
    let readsFrom = outputName;
    let space: AdaptedOutput['space'];
    if (found === undefined) {
      if (requested !== undefined) {
        throw new IgxError(
          'E_MODEL_OUTPUT',
          `${this.file}: --output-space ${requested} needs a softmax at output '${outputName}' (layer ` +
            `${output.sourceLayer.getClassName()} '${output.sourceLayer.name}'${activationOf(output.sourceLayer) ? ` with activation ${activationOf(output.sourceLayer)}` : ''}), ` +
            `but none was found walking back through shape-only layers; leave --output-space out to read the output as it is`,
        );
      }
      space = 'raw';
    } else if (requested === 'logits') {
      space = 'logits';
      target = this.logitsTensor(index);
      readsFrom = found.isSeparate ? found.input.sourceLayer.name : `${found.layer.name} (without its softmax)`;
    } else {
      space = 'probabilities';
    }
    const sub = target === output && this.model.outputs.length === 1 ? this.model : makeModel({ inputs: this.model.inputs, outputs: target });
    return {
      staticClasses: countClasses(target.shape),
      readsFrom,
      space,
      run: (input) => sub.apply(input, { training: false }) as tf.Tensor,
    };
  }

  splitAt(name: string, index: number, requested: OutputSpace | undefined): LayerSplit {
    return splitLayersModel(this.model, name, { outputIndex: index, output: requested === 'logits' ? this.logitsTensor(index) : undefined });
  }

  listSplitPoints(index: number): string[] {
    const usable: string[] = [];
    for (const layer of this.model.layers) {
      try {
        splitLayersModel(this.model, layer.name, { outputIndex: index });
        usable.push(layer.name);
      } catch {
        // the input, the output, or a layer that a skip connection bypasses
      }
    }
    return usable;
  }

  /** The logits of output `index` as a symbolic tensor: a separate softmax's input, or a linear twin's output. */
  logitsTensor(index: number): SymbolicTensor {
    const output = this.model.outputs[index] as SymbolicTensor;
    const found = this.findSoftmax(output);
    if (found === undefined) {
      throw new IgxError('E_MODEL_OUTPUT', `${this.file}: --output-space logits needs a softmax at output '${this.outputNames[index]}'; none was found walking back through shape-only layers`);
    }
    if (found.isSeparate) return found.input;
    const key = found.layer.name;
    const cached = this.logitTwins.get(key);
    if (cached !== undefined) return cached;
    const twin = this.makeLinearTwin(found);
    this.logitTwins.set(key, twin);
    return twin;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const twin of this.twins) twin.dispose();
    this.model.dispose();
  }
}
