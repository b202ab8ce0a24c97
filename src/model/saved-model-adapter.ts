/** What loadModel needs to open a SavedModel like a graph model: the converted artifacts as ModelFiles. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { IgxError } from '../errors.js';
import { buildConvertedModelJson } from './converted-graph-adapter.js';
import type { ModelFiles } from './io-handler.js';
import { convertSavedModel, type ConvertResult } from '../savedmodel/convert.js';
import type { SavedModelLoadOptions } from '../savedmodel/read-saved-model.js';

async function hashFiles(paths: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const p of paths) {
    await new Promise<void>((ok, fail) => {
      createReadStream(p)
        .on('data', (chunk) => hash.update(chunk))
        .on('end', () => ok())
        .on('error', fail);
    });
  }
  return hash.digest('hex');
}

export interface SavedModelFilesResult {
  files: ModelFiles;
  result: ConvertResult;
  /**
   * The image input is an integer tensor (uint8 pixels, cast to float inside the model) now fed as
   * float32: the model takes raw 0..255 pixel values, so its default preprocessing is 'raw'.
   */
  isRawPixelInput: boolean;
}

/**
 * Converts the SavedModel in `dir` and presents it as ModelFiles: modelJsonPath is saved_model.pb, the
 * model JSON is the converted graph model's, and sha256 covers saved_model.pb then variables/ (index, then
 * data shards, by name). An integer image input that the model only casts to float is fed as float32
 * (Integrated Gradients interpolates pixel values). Errors as convertSavedModel, and E_UNSUPPORTED_OP
 * for an integer input the model computes with as integers.
 */
export async function readSavedModelFiles(dir: string, options: SavedModelLoadOptions = {}): Promise<SavedModelFilesResult> {
  const result = await convertSavedModel(dir, {
    signature: options.signature,
    tags: options.tags,
    inputs: options.input === undefined ? undefined : [options.input],
    computableOutputsOnly: true,
    floatInputs: true,
  });
  const inputs = result.signature.inputs;
  if (inputs.length > 1) {
    throw new IgxError(
      'E_MODEL_SIGNATURE',
      `${result.savedModelPath}: signature '${result.signature.name}' has ${inputs.length} inputs (${inputs.map((i) => `'${i.key}'`).join(', ')}); pick the image input with --input`,
    );
  }
  const consumers = inputs[0]?.integerConsumers;
  if (inputs[0] !== undefined && consumers !== undefined) {
    const shown = consumers.slice(0, 3).join(', ') + (consumers.length > 3 ? ` and ${consumers.length - 3} more` : '');
    throw new IgxError(
      'E_UNSUPPORTED_OP',
      `${result.savedModelPath}: signature '${result.signature.name}' input '${inputs[0].key}' is ${inputs[0].dtype} and ${shown} compute${consumers.length === 1 ? 's' : ''} with it as integers; ` +
        'Integrated Gradients interpolates between baseline and image, so it needs a float input (or an integer one that the model only casts to float)',
    );
  }
  const modelDir = resolve(dir);
  const variablesDir = join(modelDir, 'variables');
  let variableFiles: string[] = [];
  try {
    const names = (await readdir(variablesDir)).filter((n) => n.startsWith('variables.')).sort();
    variableFiles = names.map((n) => join(variablesDir, n));
  } catch {
    // no variables folder: nothing to hash
  }
  const sha256 = await hashFiles([result.savedModelPath, ...variableFiles]);
  const a = result.artifacts;
  const json = buildConvertedModelJson(a);
  return {
    files: { modelJsonPath: result.savedModelPath, modelDir, json, weightFiles: [], sha256, artifacts: a },
    result,
    isRawPixelInput: inputs[0]?.castFrom !== undefined,
  };
}
