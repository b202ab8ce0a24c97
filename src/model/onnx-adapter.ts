/** What loadModel needs to open an ONNX file like a graph model: the converted artifacts as ModelFiles. */
import { dirname } from 'node:path';
import { buildConvertedModelJson } from './converted-graph-adapter.js';
import type { ModelFiles } from './io-handler.js';
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
  const json = buildConvertedModelJson(a);
  return { files: { modelJsonPath: result.path, modelDir: dirname(result.path), json, weightFiles: [], sha256: result.sha256, artifacts: a }, result };
}
