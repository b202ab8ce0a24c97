/** ONNX file → TensorFlow.js graph model (model.json topology + weights), in memory. */
import type * as tf from '@tensorflow/tfjs-core';
import { shapeJson } from '../savedmodel/attr-to-json.js';
import { IGX_VERSION } from '../package-info.js';
import { buildOnnxGraph, type BuildOnnxOptions, type OnnxGraphTensor } from './build-onnx-graph.js';
import { readOnnx } from './read-onnx.js';

export interface OnnxConvertResult {
  /** A graph model: modelTopology, weightSpecs and all weights in one ArrayBuffer, signature. */
  artifacts: tf.io.ModelArtifacts;
  /** The .onnx file, absolute. */
  path: string;
  /** sha256 of the .onnx file and its external data. */
  sha256: string;
  opset: number;
  /** "pytorch 1.13.1" */
  producer: string;
  input: OnnxGraphTensor;
  outputs: OnnxGraphTensor[];
  /** ONNX ops of the file, by name. */
  onnxOpCounts: Record<string, number>;
  /** Ops of the converted tfjs graph, by name. */
  opCounts: Record<string, number>;
}

/** Weights laid out one after another, in the order of `consts`. */
function packWeights(consts: ReturnType<typeof buildOnnxGraph>['consts']): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const specs: tf.io.WeightsManifestEntry[] = [];
  let total = 0;
  for (const [name, c] of consts) {
    specs.push({ name, shape: [...c.shape], dtype: c.dtype });
    total += c.data.byteLength;
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (const c of consts.values()) {
    out.set(new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength), pos);
    pos += c.data.byteLength;
  }
  return { specs, data: out.buffer };
}

/**
 * Reads the .onnx file at `path` (absolute) and converts its graph into a graph model that
 * tfjs-converter loads (tf.io.fromMemory(result.artifacts)). Errors (IgxError): E_MODEL_NOT_FOUND,
 * E_MODEL_INVALID, E_MODEL_PATH, E_UNSUPPORTED_OP (every unsupported op named), E_CONFIG.
 */
export async function convertOnnx(path: string, options: BuildOnnxOptions = {}): Promise<OnnxConvertResult> {
  const file = await readOnnx(path);
  const built = buildOnnxGraph(file, options);
  const { specs, data } = packWeights(built.consts);
  const tensorJson = (t: OnnxGraphTensor): Record<string, unknown> => ({ name: `${t.name}:0`, dtype: 'DT_FLOAT', tensorShape: shapeJson(t.shape) });
  const producer = `${file.model.producerName} ${file.model.producerVersion}`.trim();
  const onnxOpCounts: Record<string, number> = {};
  for (const n of file.graph.node) onnxOpCounts[n.opType] = (onnxOpCounts[n.opType] ?? 0) + 1;
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: { node: built.nodes, library: {}, versions: {} },
    format: 'graph-model',
    generatedBy: producer === '' ? `ONNX opset ${file.opset}` : `${producer} (ONNX opset ${file.opset})`,
    convertedBy: `igx ${IGX_VERSION}`,
    weightSpecs: specs,
    weightData: data,
    signature: {
      inputs: { [built.input.name]: tensorJson(built.input) },
      outputs: Object.fromEntries(built.outputs.map((o) => [o.name, tensorJson(o)])),
    },
    userDefinedMetadata: { onnx: { opset: file.opset, producer, layout: 'NHWC input; outputs in ONNX axis order' } },
  };
  return {
    artifacts,
    path: file.path,
    sha256: file.sha256,
    opset: file.opset,
    producer,
    input: built.input,
    outputs: built.outputs,
    onnxOpCounts: Object.fromEntries(Object.entries(onnxOpCounts).sort()),
    opCounts: built.opCounts,
  };
}
