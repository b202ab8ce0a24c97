/**
 * Reads a TensorFlow.js model from disk without tfjs-node: model.json plus the weight files its manifest
 * names (any file names, relative to the model folder and contained in it), checked against the
 * manifest's byte total before anything is handed to TensorFlow.js.
 */
import { readRegularFile } from '../files/read-regular-file.js';
import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { IgxError } from '../errors.js';
import { computeWeightBytes, parseModelJson, type ModelJson } from './model-json.js';

export interface WeightFile {
  /** As written in the manifest. */
  manifestPath: string;
  /** Absolute. */
  path: string;
  bytes: number;
  group: number;
}

export interface ModelFiles {
  modelJsonPath: string;
  modelDir: string;
  json: ModelJson;
  weightFiles: WeightFile[];
  /** sha256 hex of model.json bytes followed by every weight file's bytes, in manifest order. */
  sha256: string;
  artifacts: tf.io.ModelArtifacts;
}

/** Whether `target` lies strictly inside `dir` (both absolute). */
export function isInside(dir: string, target: string): boolean {
  const rel = relative(dir, target);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** A manifest path → an absolute path inside modelDir, or IgxError E_MODEL_PATH. */
export function resolveWeightPath(modelDir: string, manifestPath: string, jsonName: string): string {
  const refuse = (why: string): never => {
    throw new IgxError(
      'E_MODEL_PATH',
      `${jsonName}: weight path ${JSON.stringify(manifestPath)} ${why}; weight files must lie inside the model folder ${modelDir}`,
    );
  };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(manifestPath)) refuse('is a URL');
  if (isAbsolute(manifestPath) || /^[a-z]:[\\/]/i.test(manifestPath)) refuse('is absolute');
  const target = resolve(modelDir, manifestPath);
  if (!isInside(modelDir, target)) refuse('resolves outside the model folder');
  return target;
}

async function statWeight(file: string, manifestPath: string, jsonName: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile()) {
      throw new IgxError('E_MODEL_INVALID', `${jsonName}: weight file ${manifestPath} (${file}) is not a regular file`);
    }
    return s.size;
  } catch (err) {
    if (err instanceof IgxError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? (err as Error).message})`;
    throw new IgxError('E_MODEL_INVALID', `${jsonName}: weight file ${manifestPath} (${file}) ${why}`, { cause: err });
  }
}

/**
 * Reads and checks model.json and its weights. Errors (all IgxError): E_MODEL_NOT_FOUND (model.json
 * unreadable), E_MODEL_INVALID (malformed JSON or manifest, missing shard, byte total that does not match
 * the weight specs), E_MODEL_PATH (a weight path outside the model folder, also through symlinks).
 */
type WeightGroups = NonNullable<ModelJson['weightsManifest']>;

/** The weight files the manifest names: inside the model folder, links included, each a regular file. */
async function locateWeightFiles(modelDir: string, groups: WeightGroups, jsonName: string): Promise<WeightFile[]> {
  const realDir = await realpath(modelDir);
  const weightFiles: WeightFile[] = [];
  for (const [g, group] of groups.entries()) {
    if (group.weights.length > 0 && group.paths.length === 0) {
      throw new IgxError('E_MODEL_INVALID', `${jsonName}: field weightsManifest[${g}].paths is empty but the group lists ${group.weights.length} weights`);
    }
    for (const p of group.paths) weightFiles.push({ manifestPath: p, path: resolveWeightPath(modelDir, p, jsonName), bytes: 0, group: g });
  }
  for (const w of weightFiles) {
    w.bytes = await statWeight(w.path, w.manifestPath, jsonName);
    const real = await realpath(w.path);
    if (!isInside(realDir, real)) {
      throw new IgxError('E_MODEL_PATH', `${jsonName}: weight path ${JSON.stringify(w.manifestPath)} is a link to ${real}, outside the model folder ${modelDir}`);
    }
  }
  return weightFiles;
}

/** Each group's files must hold exactly the bytes its weight specs need (at least, with strings). */
function checkGroupSizes(groups: WeightGroups, weightFiles: WeightFile[], jsonName: string): void {
  for (const [g, group] of groups.entries()) {
    const files = weightFiles.filter((w) => w.group === g);
    const actual = files.reduce((sum, w) => sum + w.bytes, 0);
    const sizes = group.weights.map(computeWeightBytes);
    const known = sizes.reduce<number>((sum, b) => sum + (b ?? 0), 0);
    const hasStrings = sizes.some((b) => b === undefined);
    if (hasStrings ? actual < known : actual !== known) {
      const names = files.map((w) => w.manifestPath).join(', ');
      throw new IgxError(
        'E_MODEL_INVALID',
        `${jsonName}: weight file${files.length > 1 ? 's' : ''} ${names} of weightsManifest[${g}] hold${files.length > 1 ? '' : 's'} ${actual} bytes, ` +
          `but the group's ${group.weights.length} weight specs need ${hasStrings ? 'at least ' : ''}${known} bytes`,
      );
    }
  }
}

/** The weight bytes, one ArrayBuffer per file (tfjs reads weights across file boundaries), hashed after the JSON. */
async function readWeightBytes(weightFiles: WeightFile[], jsonBytes: Buffer, jsonName: string): Promise<{ buffers: ArrayBuffer[]; sha256: string }> {
  const hash = createHash('sha256').update(jsonBytes);
  const buffers: ArrayBuffer[] = [];
  for (const w of weightFiles) {
    let data: Buffer;
    try {
      data = await readFile(w.path);
    } catch (err) {
      throw new IgxError('E_MODEL_INVALID', `${jsonName}: weight file ${w.manifestPath} cannot be read (${(err as Error).message})`, { cause: err });
    }
    if (data.byteLength !== w.bytes) throw new IgxError('E_MODEL_INVALID', `${jsonName}: weight file ${w.manifestPath} changed size while being read`);
    hash.update(data);
    // Without copying when the Buffer owns its whole ArrayBuffer.
    const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    buffers.push((owned ? data.buffer : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) as ArrayBuffer);
  }
  return { buffers, sha256: hash.digest('hex') };
}

/** The largest model.json igx parses (256 MiB): topologies are megabytes; the weights live beside it. */
export const MAX_MODEL_JSON_BYTES = 2 ** 28;

export async function readModelFiles(modelJsonPath: string): Promise<ModelFiles> {
  const modelDir = dirname(modelJsonPath);
  const jsonName = modelJsonPath;
  const jsonBytes = await readRegularFile(modelJsonPath, { maxBytes: MAX_MODEL_JSON_BYTES, code: 'E_MODEL_INVALID', missingCode: 'E_MODEL_NOT_FOUND', what: 'model JSON' });
  const json = parseModelJson(jsonBytes.toString('utf8'), jsonName);
  const groups = json.weightsManifest ?? [];
  // Paths first (cheap, and a security check), then sizes, then bytes.
  const weightFiles = await locateWeightFiles(modelDir, groups, jsonName);
  checkGroupSizes(groups, weightFiles, jsonName);
  const { buffers, sha256 } = await readWeightBytes(weightFiles, jsonBytes, jsonName);
  const weightSpecs = groups.flatMap((group) => group.weights) as tf.io.WeightsManifestEntry[];
  const modelJson = json as unknown as tf.io.ModelJSON;
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts =
      json.weightsManifest === undefined
        ? tf.io.getModelArtifactsForJSONSync(modelJson)
        : tf.io.getModelArtifactsForJSONSync(modelJson, weightSpecs, buffers as tf.io.WeightData);
  } catch (err) {
    throw new IgxError('E_MODEL_INVALID', `${jsonName}: ${(err as Error).message}`, { cause: err });
  }
  return { modelJsonPath, modelDir, json, weightFiles, sha256, artifacts };
}

/** An IOHandler for tf.loadGraphModel / tf.loadLayersModel that reads a model JSON from disk. */
export function createFileIOHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    load: async () => (await readModelFiles(modelJsonPath)).artifacts,
  };
}

/** An IOHandler over files already read (so loadModel reads every byte once). */
export function createMemoryIOHandler(files: ModelFiles): tf.io.IOHandler {
  return { load: async () => files.artifacts };
}
