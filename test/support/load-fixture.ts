/**
 * Test-only loader for the fixture models: reads model.json and its shards (concatenated in manifest
 * order) and loads them from memory, so engine tests do not depend on src/model's loader.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

interface ModelJson {
  format?: string;
  modelTopology: { node?: unknown[] } & Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

export type FixtureModel =
  | { kind: 'graph'; model: GraphModel; dispose(): void }
  | { kind: 'layers'; model: LayersModel; dispose(): void };

/** `name` is a folder of fixtures/models; `file` the model JSON in it (default model.json). */
export async function loadFixtureModel(name: string, file = 'model.json'): Promise<FixtureModel> {
  const dir = join(FIXTURES, 'models', name);
  const json = JSON.parse(await readFile(join(dir, file), 'utf8')) as ModelJson;
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(await readFile(join(dir, p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler = tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData });
  if (json.format === 'graph-model' || Array.isArray(json.modelTopology.node)) {
    const model = await loadGraphModel(handler);
    return { kind: 'graph', model, dispose: () => model.dispose() };
  }
  const model = await loadLayersModel(handler);
  return { kind: 'layers', model, dispose: () => model.dispose() };
}
