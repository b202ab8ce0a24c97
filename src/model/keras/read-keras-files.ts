/**
 * A Keras `.keras` (Keras 3 zip) or `.h5` (Keras 2 HDF5) file → igx's ModelFiles for a tfjs layers
 * model, in memory: the config translated to the Keras 2 JSON tfjs-layers reads, and the weights named
 * and ordered as tfjs-layers' loader matches them. loadModel takes it from there like any model.json.
 */
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { models, type LayersModel } from '@tensorflow/tfjs-layers';
import { IgxError } from '../../errors.js';
import type { ModelFiles } from '../io-handler.js';
import { registerKerasExtras } from '../keras-extras.js';
import type { ModelJson } from '../model-json.js';
import { collectKeras2Weights, collectKeras3Weights, type KerasWeights } from './collect-keras-weights.js';
import { openH5, readH5String, type H5File } from './open-h5.js';
import { MAX_JSON_BYTES, MAX_WEIGHTS_BYTES, readKerasArchive } from './read-keras-archive.js';
import { translateKerasConfig } from './translate-keras-config.js';

export type KerasFileKind = 'keras' | 'h5';

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const EXTENSIONS: Record<string, KerasFileKind> = { '.keras': 'keras', '.h5': 'h5', '.hdf5': 'h5' };

const startsWith = (bytes: Uint8Array, magic: number[]): boolean => magic.every((b, i) => bytes[i] === b);

/**
 * 'keras' or 'h5' when `path` is a file shaped (zip or HDF5 signature) or else named like one, else
 * undefined. The signature wins: tf.keras 2.x wrote HDF5 under any name, `.keras` included.
 */
export async function detectKerasFile(path: string): Promise<KerasFileKind | undefined> {
  let handle;
  try {
    if (!(await stat(path)).isFile()) return undefined;
    handle = await open(path, 'r');
    const head = new Uint8Array(8);
    await handle.read(head, 0, 8, 0);
    if (startsWith(head, ZIP_MAGIC)) return 'keras';
    if (startsWith(head, HDF5_MAGIC)) return 'h5';
    return EXTENSIONS[extname(path).toLowerCase()];
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

interface KerasSource {
  /** The Keras model config as the file holds it. */
  config: unknown;
  h5: H5File;
  collect: (model: LayersModel) => KerasWeights;
}

function readKeras3(bytes: Uint8Array, file: string): KerasSource {
  const archive = readKerasArchive(bytes, file);
  const h5 = openH5(archive.weights, `${file} (model.weights.h5)`);
  return { config: archive.config, h5, collect: (model) => collectKeras3Weights({ h5, file, model, config: archive.config }) };
}

function readKeras2(bytes: Uint8Array, file: string): KerasSource {
  const h5 = openH5(bytes, file);
  const text = readH5String(h5.attr('', 'model_config'));
  if (text === undefined) {
    const what = h5.attr('', 'layer_names') !== undefined ? 'holds only weights (model.save_weights)' : 'has no model_config attribute';
    throw new IgxError('E_MODEL_INVALID', `${file}: ${what}; save the whole model with model.save('model.h5') or model.save('model.keras')`);
  }
  if (text.length > MAX_JSON_BYTES) throw new IgxError('E_MODEL_INVALID', `${file}: model_config is ${text.length} bytes, more than the ${MAX_JSON_BYTES} igx reads`);
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new IgxError('E_MODEL_INVALID', `${file}: model_config is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  // Keras 2 keeps weights in model_weights/; a file from Keras 3's legacy h5 saving does too.
  const group = h5.keys('model_weights') !== undefined ? 'model_weights' : '';
  return { config, h5, collect: (model) => collectKeras2Weights({ h5, file, model, group }) };
}

/** Builds the model once, without its weights, to learn the names and shapes tfjs-layers will load. */
async function buildProbe(topology: Record<string, unknown>, file: string): Promise<LayersModel> {
  registerKerasExtras();
  try {
    return await models.modelFromJSON({ modelTopology: topology as tf.io.ModelJSON['modelTopology'] } as tf.io.ModelJSON);
  } catch (err) {
    if (err instanceof IgxError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const code = /unknown (layer|activation|initializer|regularizer|constraint)|not supported|not implemented/i.test(message) ? 'E_UNSUPPORTED_OP' : 'E_MODEL_INVALID';
    throw new IgxError(code, `${file}: TensorFlow.js cannot build the model from its config: ${message.split('\n')[0]}`, { cause: err });
  }
}

function concatWeights(values: Float32Array[]): ArrayBuffer {
  const total = values.reduce((n, v) => n + v.length, 0);
  const all = new Float32Array(total);
  let pos = 0;
  for (const v of values) {
    all.set(v, pos);
    pos += v.length;
  }
  return all.buffer;
}

async function readBytes(path: string): Promise<Buffer> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new IgxError('E_MODEL_NOT_FOUND', `${path}: cannot read the model file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  if (size > MAX_WEIGHTS_BYTES) throw new IgxError('E_MODEL_INVALID', `${path}: ${size} bytes is more than the ${MAX_WEIGHTS_BYTES} igx reads`);
  return readFile(path);
}

/**
 * Reads `path` (kind from detectKerasFile) as ModelFiles: json {format: 'layers-model', modelTopology,
 * weightsManifest}, modelJsonPath = the file, modelDir = its folder (so igx.json beside it is read),
 * sha256 of the file's bytes. E_MODEL_INVALID (damaged file, weights-only .h5, shapes that disagree with
 * the config), E_UNSUPPORTED_OP (Lambda, custom or unknown layer classes).
 */
export async function readKerasFiles(path: string, kind: KerasFileKind): Promise<ModelFiles> {
  const file = resolve(path);
  const bytes = await readBytes(file);
  const source = kind === 'keras' ? readKeras3(bytes, file) : readKeras2(bytes, file);
  const modelTopology = translateKerasConfig(source.config, { file });
  const probe = await buildProbe(modelTopology, file);
  let weights: KerasWeights;
  try {
    weights = source.collect(probe);
  } finally {
    probe.dispose();
  }
  const weightData = concatWeights(weights.values);
  const json = { format: 'layers-model', generatedBy: `igx from ${kind === 'keras' ? 'Keras 3 .keras' : 'Keras .h5'}`, modelTopology, weightsManifest: [{ paths: [], weights: weights.specs }] };
  const artifacts: tf.io.ModelArtifacts = { format: 'layers-model', generatedBy: json.generatedBy, modelTopology, weightSpecs: weights.specs, weightData };
  return {
    modelJsonPath: file,
    modelDir: dirname(file),
    json: json as unknown as ModelJson,
    weightFiles: [],
    sha256: createHash('sha256').update(bytes).digest('hex'),
    artifacts,
  };
}
