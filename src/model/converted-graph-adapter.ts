/**
 * Models igx converts in memory to a tfjs graph (SavedModels, ONNX files): the converted artifacts as
 * the model JSON loadModel reads, and the graph adapter under the source's own format name.
 */
import type { LayerSplit } from '../attribution/layer-ig.js';
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { AdaptedOutput, ModelAdapter } from './adapter.js';
import { GraphAdapter } from './graph-adapter.js';
import type { ModelJson } from './model-json.js';
import type { ModelFormat, OutputSpace } from './types.js';

/** A converted graph model's artifacts as model.json would hold them (weights in the artifacts' one buffer). */
export function buildConvertedModelJson(a: tf.io.ModelArtifacts): ModelJson {
  return {
    format: 'graph-model',
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy,
    modelTopology: a.modelTopology as Record<string, unknown>,
    weightsManifest: [{ paths: [], weights: a.weightSpecs ?? [] }],
    signature: a.signature as Record<string, unknown>,
  } as unknown as ModelJson;
}

/** The graph adapter under the format the model came in ('savedmodel', 'onnx'). */
export class ConvertedGraphAdapter implements ModelAdapter {
  private readonly graph: GraphAdapter;

  constructor(
    readonly format: Extract<ModelFormat, 'savedmodel' | 'onnx'>,
    loaded: { model: GraphModel; json: ModelJson; file: string },
  ) {
    this.graph = new GraphAdapter(loaded.model, loaded.json, loaded.file);
  }

  get inputName(): string {
    return this.graph.inputName;
  }

  get inputShape(): (number | null)[] | undefined {
    return this.graph.inputShape;
  }

  /** The traced batch of a graph built at a fixed batch; undefined when the batch is open. */
  get fixedBatch(): number | undefined {
    return this.graph.fixedBatch;
  }

  get outputNames(): string[] {
    return this.graph.outputNames;
  }

  aliases(index: number): string[] {
    return this.graph.aliases(index);
  }

  adaptOutput(index: number, requested: OutputSpace | undefined): AdaptedOutput {
    return this.graph.adaptOutput(index, requested);
  }

  splitAt(name: string, index: number, requested: OutputSpace | undefined, exampleShape: number[]): LayerSplit {
    return this.graph.splitAt(name, index, requested, exampleShape);
  }

  listSplitPoints(index: number): string[] {
    return this.graph.listSplitPoints(index);
  }

  dispose(): void {
    this.graph.dispose();
  }
}
