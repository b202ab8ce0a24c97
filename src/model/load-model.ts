/**
 * loadModel: `--model PATH` (folder or model JSON) → a LoadedModel whose buildForward gives the
 * attribution core a differentiable F. Reads the files itself (no tfjs-node), so any backend works.
 */
import { dirname, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import type { Sidecar } from './sidecar.js';
import { IgxError } from '../errors.js';
import { toModelError, type ModelAdapter } from './adapter.js';
import { GraphAdapter } from './graph-adapter.js';
import { createMemoryIOHandler, readModelFiles, type ModelFiles } from './io-handler.js';
import type { LayerSplit } from '../attribution/layer-ig.js';
import { registerKerasExtras } from './keras-extras.js';
import { LayersAdapter } from './layers-adapter.js';
import { detectKerasFile, readKerasFiles } from './keras/read-keras-files.js';
import { detectFormat } from './model-json.js';
import { resolveModelJsonPath } from './resolve-model-path.js';
import { resolveSavedModelDir, type SavedModelLoadOptions } from '../savedmodel/read-saved-model.js';
import { readSavedModelFiles } from './saved-model-adapter.js';
import { ConvertedGraphAdapter } from './converted-graph-adapter.js';
import { resolveOnnxPath } from '../onnx/read-onnx.js';
import { readOnnxFiles } from './onnx-adapter.js';
import { readSidecarFile, type SidecarFile } from './sidecar-file.js';
import type { LoadedModel, ModelForward, OutputChoice } from './types.js';

/** How to open a TensorFlow SavedModel (ignored for TensorFlow.js models). */
export type LoadModelOptions = SavedModelLoadOptions;

async function loadConvertedAdapter(files: ModelFiles, format: 'savedmodel' | 'onnx'): Promise<ModelAdapter> {
  const file = files.modelJsonPath;
  let model;
  try {
    model = await loadGraphModel(createMemoryIOHandler(files));
  } catch (err) {
    throw toModelError(err, file, format === 'onnx' ? 'loading the converted ONNX model' : 'loading the converted SavedModel');
  }
  try {
    return new ConvertedGraphAdapter(format, { model, json: files.json, file });
  } catch (err) {
    model.dispose();
    throw err;
  }
}

async function loadAdapter(files: ModelFiles): Promise<ModelAdapter> {
  const file = files.modelJsonPath;
  const format = detectFormat(files.json, file);
  const handler = createMemoryIOHandler(files);
  if (format === 'graph') {
    let model;
    try {
      model = await loadGraphModel(handler);
    } catch (err) {
      throw toModelError(err, file, 'loading the graph model');
    }
    try {
      return new GraphAdapter(model, files.json, file);
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  let model;
  registerKerasExtras();
  try {
    model = await loadLayersModel(handler, { strict: true });
  } catch (err) {
    throw toModelError(err, file, 'loading the layers model');
  }
  try {
    return new LayersAdapter(model, file);
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** [h, w, c] from the model's input shape, completed by the sidecar's inputShape where the model leaves it open. */
function resolveInputShape(adapter: ModelAdapter, file: string, sidecar: SidecarFile | undefined): [number, number, number] {
  const shape = adapter.inputShape;
  const show = (s: readonly (number | null)[] | undefined): string => (s === undefined ? 'unknown' : `[${s.map((d) => d ?? -1).join(',')}]`);
  if (shape !== undefined && shape.length !== 4 && shape.length !== 3) {
    throw new IgxError(
      'E_MODEL_INVALID',
      `${file}: input '${adapter.inputName}' has shape ${show(shape)}; igx needs an image input [batch,height,width,channels] (or [batch,height,width] for grayscale)`,
    );
  }
  const fromModel: (number | null)[] = shape === undefined ? [null, null, null] : shape.length === 4 ? shape.slice(1) : [...shape.slice(1), 1];
  const given = sidecar?.sidecar.inputShape;
  if (given !== undefined) {
    fromModel.forEach((d, i) => {
      if (d !== null && d !== given[i]) {
        throw new IgxError(
          'E_CONFIG',
          `${sidecar?.path}: field inputShape: [${given.join(',')}] disagrees with the model's input shape ${show(shape)}`,
        );
      }
    });
    checkInputSize(`${sidecar?.path}: field inputShape`, given);
    return [...given];
  }
  const [h, w, c] = fromModel;
  if (h == null || w == null || c == null) {
    throw new IgxError(
      'E_MODEL_INVALID',
      `${file}: input '${adapter.inputName}' has shape ${show(shape)}, which leaves height, width or channels open; ` +
        `give "inputShape": [height, width, channels] in the model folder's igx.json`,
    );
  }
  if (c !== 1 && c !== 3) {
    throw new IgxError('E_MODEL_INVALID', `${file}: input '${adapter.inputName}' has ${c} channels; igx supports 3 (RGB) and 1 (grayscale)`);
  }
  checkInputSize(`${file}: input '${adapter.inputName}'`, [h, w, c]);
  return [h, w, c];
}

/**
 * The most values one input image may have: 2²⁴ (4096² gray, 2364² RGB), far above any classifier's
 * input (ViT-L takes 518²), and bounded so a crafted shape cannot ask for gigabytes per interpolation
 * point (a [16000,16000,1] input crashed the wasm heap before this).
 */
export const MAX_INPUT_VALUES = 2 ** 24;

function checkInputSize(what: string, [h, w, c]: [number, number, number]): void {
  if (h < 1 || w < 1 || h * w * c > MAX_INPUT_VALUES) {
    throw new IgxError(
      'E_MODEL_INVALID',
      `${what} is ${h}×${w}×${c} = ${h * w * c} values per image; igx takes 1 to ${MAX_INPUT_VALUES} (e.g. 2364×2364×3)`,
    );
  }
}

class DiskModel implements LoadedModel {
  readonly format;
  readonly path: string;
  readonly modelJsonPath: string;
  readonly modelDir: string;
  readonly sha256: string;
  readonly inputShape: [number, number, number];
  readonly inputName: string;
  readonly outputNames: string[];
  readonly labels?: string[];
  readonly sidecar?: Sidecar;
  readonly defaultPreprocess?: 'raw';
  readonly fixedBatch?: number;
  private readonly forwards = new Map<string, ModelForward>();
  private readonly inputRank: 3 | 4;
  private disposed = false;

  constructor(
    path: string,
    files: ModelFiles,
    private readonly adapter: ModelAdapter,
    inputShape: [number, number, number],
    sidecar: SidecarFile | undefined,
    isRawPixelInput = false,
  ) {
    this.format = adapter.format;
    if (isRawPixelInput) this.defaultPreprocess = 'raw';
    if (adapter.fixedBatch !== undefined) this.fixedBatch = adapter.fixedBatch;
    this.path = path;
    this.modelJsonPath = files.modelJsonPath;
    this.modelDir = files.modelDir;
    this.sha256 = files.sha256;
    this.inputShape = inputShape;
    this.inputName = adapter.inputName;
    this.outputNames = [...adapter.outputNames];
    this.inputRank = adapter.inputShape?.length === 3 ? 3 : 4;
    if (sidecar !== undefined) {
      this.sidecar = sidecar.sidecar;
      if (sidecar.labels !== undefined) this.labels = sidecar.labels;
    }
  }

  /** The sidecar's `output` must name an output: E_CONFIG otherwise. */
  checkSidecarOutput(sidecar: SidecarFile | undefined): void {
    const output = sidecar?.sidecar.output;
    if (output === undefined) return;
    try {
      this.resolveOutputIndex(output);
    } catch (err) {
      throw new IgxError('E_CONFIG', `${sidecar?.path}: field output: ${(err as Error).message}`, { cause: err });
    }
  }

  private resolveOutputIndex(output: string | number | undefined): number {
    const names = this.outputNames;
    const list = names.map((n, i) => `${i} '${n}'`).join(', ');
    const fail = (what: string): never => {
      throw new IgxError('E_MODEL_OUTPUT', `--output ${what} names no output of ${this.modelJsonPath}; its outputs are ${list}`);
    };
    if (output === undefined) return names.length - 1;
    if (typeof output === 'string') {
      const byName = names.findIndex((n, i) => n === output || this.adapter.aliases(i).includes(output));
      if (byName >= 0) return byName;
      if (!/^\d+$/.test(output)) return fail(JSON.stringify(output));
    }
    const index = Number(output);
    if (!Number.isInteger(index) || index < 0 || index >= names.length) return fail(String(output));
    return index;
  }

  buildForward(choice: OutputChoice = {}): ModelForward {
    if (this.disposed) throw new Error(`${this.modelJsonPath}: the model was disposed`);
    const index = this.resolveOutputIndex(choice.output ?? this.sidecar?.output);
    const requested = choice.outputSpace ?? this.sidecar?.outputSpace;
    const key = `${index}|${requested ?? ''}`;
    const cached = this.forwards.get(key);
    if (cached !== undefined) return cached;

    const adapted = this.adapter.adaptOutput(index, requested);
    const [h, w, c] = this.inputShape;
    const toModelInput = this.inputRank === 3 ? (x: tf.Tensor4D) => tf.reshape(x, [x.shape[0], h, w]) : (x: tf.Tensor4D) => x;
    const outputName = this.outputNames[index] as string;
    let numClasses = adapted.staticClasses;
    if (numClasses === undefined) {
      try {
        // One example: the element count is the class count, even where the model squeezes the batch dim.
        numClasses = tf.tidy(() => adapted.run(toModelInput(tf.zeros([1, h, w, c]))).size);
      } catch (err) {
        throw toModelError(err, this.modelJsonPath, `running output '${outputName}'`);
      }
    }
    const classes = numClasses;
    const forward = (x: tf.Tensor4D): tf.Tensor2D => {
      const y = adapted.run(toModelInput(x));
      return tf.reshape(y, [x.shape[0], classes]);
    };
    const built: ModelForward = {
      forward,
      outputName,
      outputIndex: index,
      numClasses: classes,
      space: adapted.space,
      readsFrom: adapted.readsFrom,
    };
    if (this.labels !== undefined && this.labels.length === classes) built.labels = this.labels;
    this.forwards.set(key, built);
    return built;
  }

  splitAt(layer: string, choice: OutputChoice = {}): LayerSplit {
    const requested = choice.outputSpace ?? this.sidecar?.outputSpace;
    if (requested === 'probabilities') throw new IgxError('E_FLAG', '--layer reads the model output as it is or its logits; --output-space probabilities is not supported with it');
    const [h, w, c] = this.inputShape;
    const split = this.adapter.splitAt(layer, this.resolveOutputIndex(choice.output ?? this.sidecar?.output), requested, this.inputRank === 3 ? [1, h, w] : [1, h, w, c]);
    // Layer IG feeds [b, h, w, c] images, as the forward does; a rank-3 model takes [b, h, w].
    return this.inputRank === 3 ? { ...split, head: (x) => split.head(tf.reshape(x, [x.shape[0] as number, h, w])) } : split;
  }

  listSplitLayers(): string[] {
    return this.adapter.listSplitPoints(this.resolveOutputIndex(this.sidecar?.output));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.forwards.clear();
    this.adapter.dispose();
  }
}

/**
 * Loads a TensorFlow.js graph or layers model from disk: `path` is a folder (with model.json, or exactly
 * one model JSON) or a model JSON file; an igx.json beside it is read and checked. A folder holding a
 * TensorFlow SavedModel (saved_model.pb or .pbtxt) is converted in memory (format 'savedmodel'; `options`
 * picks its signature, tags and input). An .onnx file, or a folder holding exactly one, is converted in
 * memory too (format 'onnx', NHWC input). Uses the current tfjs backend. Errors are IgxError:
 * E_MODEL_NOT_FOUND, E_MODEL_INVALID, E_MODEL_PATH, E_CONFIG, E_MODEL_OUTPUT (the sidecar's output),
 * E_UNSUPPORTED_OP; for SavedModels also E_MODEL_SIGNATURE and E_MODEL_CHECKSUM.
 */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const savedModelDir = await resolveSavedModelDir(path);
  const saved = savedModelDir === undefined ? undefined : await readSavedModelFiles(savedModelDir, options);
  // An .onnx file (or a folder holding one) is converted in memory; its igx.json may give an open input size.
  const onnxPath = saved === undefined ? await resolveOnnxPath(path) : undefined;
  const onnxSidecar = onnxPath === undefined ? undefined : await readSidecarFile(dirname(onnxPath));
  const onnx = onnxPath === undefined ? undefined : await readOnnxFiles(onnxPath, { inputShape: onnxSidecar?.sidecar.inputShape });
  // A Keras .keras/.h5 file becomes a layers model in memory, before any model.json is looked for.
  const kerasKind = saved === undefined && onnx === undefined ? await detectKerasFile(path) : undefined;
  const files =
    saved !== undefined
      ? saved.files
      : onnx !== undefined
        ? onnx.files
        : kerasKind !== undefined
          ? await readKerasFiles(path, kerasKind)
          : await readModelFiles(await resolveModelJsonPath(path));
  const modelJsonPath = files.modelJsonPath;
  const sidecar = onnxSidecar ?? (await readSidecarFile(files.modelDir));
  const adapter =
    savedModelDir !== undefined ? await loadConvertedAdapter(files, 'savedmodel') : onnx !== undefined ? await loadConvertedAdapter(files, 'onnx') : await loadAdapter(files);
  let model: DiskModel | undefined;
  try {
    const inputShape = resolveInputShape(adapter, modelJsonPath, sidecar);
    model = new DiskModel(resolve(path), files, adapter, inputShape, sidecar, saved?.isRawPixelInput);
    model.checkSidecarOutput(sidecar);
    if (sidecar?.labels !== undefined) {
      const { numClasses, outputName } = model.buildForward();
      if (numClasses !== sidecar.labels.length) {
        throw new IgxError(
          'E_CONFIG',
          `${sidecar.path}: field labels: ${sidecar.labels.length} labels, but output '${outputName}' of ${modelJsonPath} has ${numClasses} classes`,
        );
      }
    }
    return model;
  } catch (err) {
    if (model !== undefined) model.dispose();
    else adapter.dispose();
    throw err;
  }
}
