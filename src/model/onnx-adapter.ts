/**
 * What loadModel needs to open an ONNX file like a graph model: the converted artifacts as ModelFiles,
 * and the graph adapter wrapped to report format 'onnx'.
 */
import type { LayerSplit } from '../attribution/layer-ig.js';
import { dirname } from 'node:path';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { AdaptedOutput, ModelAdapter } from './adapter.js';
import { GraphAdapter } from './graph-adapter.js';
import type { ModelFiles } from './io-handler.js';
import type { ModelJson } from './model-json.js';
import type { OutputSpace } from './types.js';
import { convertOnnx, type OnnxConvertResult } from '../onnx/convert-onnx.js';
import type { BuildOnnxOptions } from '../onnx/build-onnx-graph.js';

export interface OnnxFilesResult {
  files: ModelFiles;
  result: OnnxConvertResult;
}

/**
 * Converts the .onnx file at `path` (absolute) and presents it as ModelFiles: modelJsonPath is the .onnx
 * file, the model JSON is the converted graph model's, sha256 covers the file and its external data.
 */
export async function readOnnxFiles(path: string, options: BuildOnnxOptions = {}): Promise<OnnxFilesResult> {
  const result = await convertOnnx(path, options);
  const a = result.artifacts;
  const json = {
    format: 'graph-model',
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy,
    modelTopology: a.modelTopology as Record<string, unknown>,
    weightsManifest: [{ paths: [], weights: a.weightSpecs ?? [] }],
    signature: a.signature as Record<string, unknown>,
  } as unknown as ModelJson;
  return { files: { modelJsonPath: result.path, modelDir: dirname(result.path), json, weightFiles: [], sha256: result.sha256, artifacts: a }, result };
}

/** The graph adapter under format 'onnx'. */
export class OnnxAdapter implements ModelAdapter {
  readonly format = 'onnx' as const;
  private readonly graph: GraphAdapter;

  constructor(model: GraphModel, json: ModelJson, file: string) {
    this.graph = new GraphAdapter(model, json, file);
  }

  get inputName(): string {
    return this.graph.inputName;
  }

  get inputShape(): (number | null)[] | undefined {
    return this.graph.inputShape;
  }

  /** The traced batch, for an export built at it (see buildOnnxGraph); undefined when the batch is open. */
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
