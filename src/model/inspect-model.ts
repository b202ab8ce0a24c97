/** `igx inspect`: what igx sees in a model, and whether the chosen backend can run and differentiate it. */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { detectKerasFile, readKerasFiles } from './keras/read-keras-files.js';
import type { IgxError } from '../errors.js';
import { inspectOnnx, type OnnxInspection } from '../onnx/inspect-onnx.js';
import { inspectSavedModel } from '../savedmodel/inspect.js';
import { TFJS_OPS } from '../savedmodel/tfjs-ops.js';
import { readSidecarFile } from './sidecar-file.js';
import type { LoadedModel } from './types.js';

export interface ModelInspection {
  path: string;
  format: string;
  sha256: string;
  input: { name: string; shape: [number, number, number]; dtype: string };
  outputs: { index: number; name: string; classes: number | null; space: string | null; logitsAvailable: boolean; error: string | null }[];
  /** Graph models: TensorFlow op → count (function bodies included); layers models: layer class → count; ONNX: ONNX op → count. */
  opCounts: Record<string, number>;
  /** Graph ops tfjs-converter cannot execute at all; ONNX op types igx cannot convert. */
  unsupportedOps: Record<string, number>;
  /** One input gradient of the default output at batch 1, on the backend in use. */
  gradient: { backend: string; isDifferentiable: boolean; error: string | null };
  sidecar: unknown;
  labels: number | null;
  /** Layers (layers models) or nodes (graph models) `--layer` can cut at. */
  layers: string[];
}

interface GraphNodeJson {
  op?: string;
}

function countLayers(layers: unknown, counts: Record<string, number>): void {
  if (!Array.isArray(layers)) return;
  for (const layer of layers as { class_name?: string; config?: { layers?: unknown } }[]) {
    const name = layer.class_name ?? '?';
    counts[name] = (counts[name] ?? 0) + 1;
    countLayers(layer.config?.layers, counts);
  }
}

/** Pure: op or layer counts from a model.json's topology. */
export function computeOpCounts(modelJson: Record<string, unknown>, format: string): Record<string, number> {
  const counts: Record<string, number> = {};
  const topology = (modelJson.modelTopology ?? {}) as Record<string, unknown>;
  if (format === 'layers') {
    const config = (topology.model_config ?? topology) as { config?: { layers?: unknown } | unknown[] };
    const layers = Array.isArray(config.config) ? config.config : (config.config as { layers?: unknown } | undefined)?.layers;
    countLayers(layers, counts);
    return counts;
  }
  const nodes: GraphNodeJson[] = [...((topology.node as GraphNodeJson[] | undefined) ?? [])];
  const functions = ((topology.library as { function?: { nodeDef?: GraphNodeJson[] }[] } | undefined)?.function ?? []);
  for (const f of functions) nodes.push(...(f.nodeDef ?? []));
  for (const n of nodes) if (n.op) counts[n.op] = (counts[n.op] ?? 0) + 1;
  return counts;
}

/** The model JSON igx loaded: model.json itself, or what a Keras .keras/.h5 file translates to. */
async function readModelJson(path: string): Promise<Record<string, unknown>> {
  const kerasKind = await detectKerasFile(path);
  if (kerasKind !== undefined) return (await readKerasFiles(path, kerasKind)).json as unknown as Record<string, unknown>;
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

export async function inspectModel(model: LoadedModel): Promise<ModelInspection> {
  // A SavedModel has no model.json: its ops come from the graph igx builds for the signature. An ONNX
  // file shows its own ops; one igx cannot convert fails loadModel, which names every such op.
  const opCounts =
    model.format === 'savedmodel'
      ? (await inspectSavedModel(model.path)).opCounts
      : model.format === 'onnx'
        ? (await inspectOnnx(model.modelJsonPath)).opCounts
        : computeOpCounts(await readModelJson(model.modelJsonPath), model.format);
  const unsupportedOps = model.format === 'layers' || model.format === 'onnx' ? {} : Object.fromEntries(Object.entries(opCounts).filter(([op]) => !TFJS_OPS.has(op)));
  const outputs = model.outputNames.map((name, index) => {
    try {
      const f = model.buildForward({ output: index });
      let logitsAvailable = false;
      try {
        model.buildForward({ output: index, outputSpace: 'logits' });
        logitsAvailable = true;
      } catch {
        // no softmax at this output
      }
      return { index, name, classes: f.numClasses, space: f.space, logitsAvailable, error: null };
    } catch (err) {
      return { index, name, classes: null, space: null, logitsAvailable: false, error: (err as Error).message };
    }
  });
  let gradient: ModelInspection['gradient'] = { backend: tf.getBackend(), isDifferentiable: false, error: null };
  try {
    const forward = model.buildForward({}).forward;
    const [h, w, c] = model.inputShape;
    // Zero input at batch 1 is enough to exercise every kernel of the backward pass.
    tf.tidy(() => {
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(forward(x as tf.Tensor4D), [0, 0], [-1, 1])))(tf.zeros([1, h, w, c]));
      g.dataSync();
    });
    gradient = { ...gradient, isDifferentiable: true };
  } catch (err) {
    gradient = { ...gradient, error: (err as Error).message };
  }
  return {
    path: model.path,
    format: model.format,
    sha256: model.sha256,
    input: { name: model.inputName, shape: model.inputShape, dtype: 'float32' },
    outputs,
    opCounts,
    unsupportedOps,
    gradient,
    sidecar: model.sidecar ?? null,
    labels: model.labels?.length ?? null,
    layers: model.listSplitLayers(),
  };
}

/**
 * An ONNX file that loadModel refused with E_UNSUPPORTED_OP (`err`), described from the file and its
 * igx.json alone: nothing was built, so no output is classified and no gradient tried. The input shape
 * is [h, w, c] from the file's NCHW dims, -1 where the file leaves one open and igx.json does not give it.
 */
export async function inspectUnconvertedOnnx(onnx: OnnxInspection, err: IgxError): Promise<ModelInspection> {
  const sidecar = await readSidecarFile(dirname(onnx.path));
  const input = onnx.inputs[0] ?? { name: '?', dims: [] };
  const given = sidecar?.sidecar.inputShape;
  const [, c, h, w] = input.dims;
  const shape = [h, w, c].map((d, i) => (typeof d === 'number' ? d : (given?.[i] ?? -1))) as [number, number, number];
  return {
    path: onnx.path,
    format: 'onnx',
    sha256: onnx.sha256,
    input: { name: input.name, shape, dtype: 'float32' },
    outputs: onnx.outputs.map((o, index) => ({ index, name: o.name, classes: null, space: null, logitsAvailable: false, error: `not built (${err.code})` })),
    opCounts: onnx.opCounts,
    unsupportedOps: Object.fromEntries(onnx.unsupportedOps.map((u) => [u.op, u.count])),
    gradient: { backend: tf.getBackend(), isDifferentiable: false, error: err.message },
    sidecar: sidecar?.sidecar ?? null,
    labels: sidecar?.labels?.length ?? null,
    layers: [],
  };
}
