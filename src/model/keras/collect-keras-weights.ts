/**
 * Reads a Keras file's weights in the order and under the names tfjs-layers' loader matches: every
 * weight of the model built from the translated config (its `originalName`, e.g. conv2d/kernel), paired
 * with the HDF5 dataset Keras wrote for it, shapes checked.
 *
 * - Keras 2 (.h5): model_weights/<layer>/ lists its datasets in the `weight_names` attribute
 *   ('conv2d/kernel:0'); a nested model's group lists all of its layers' weights.
 * - Keras 3 (model.weights.h5): layers/<snake_case class>[_<n>]/vars/<i>, numbered per class in the
 *   container's layer order (Keras' saving_lib never uses layer names), trainable variables first, as
 *   tfjs-layers orders a layer's weights; nested models nest: layers/functional/layers/conv2d/vars.
 *   Keras 2.13–2.15 wrote `_layer_checkpoint_dependencies` where Keras 3 writes `layers`, and walked a
 *   dict that lists each layer with weights twice ("layer_with_weights-k", then "layer-i"), counting
 *   both: its second Conv2D is conv2d_2. Saved on Windows, the first separator is a backslash
 *   (`_layer_checkpoint_dependencies\conv2d`).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { LayersModel, type LayerVariable } from '@tensorflow/tfjs-layers';
import { IgxError } from '../../errors.js';
import { readH5StringList, type H5Dataset, type H5File } from './open-h5.js';
import { listConfigLayers } from './translate-keras-config.js';

type Layer = LayersModel['layers'][number];

export interface KerasWeights {
  specs: tf.io.WeightsManifestEntry[];
  values: Float32Array[];
}

interface Pair {
  layer: string;
  weight: LayerVariable;
  dataset: H5Dataset;
}

const showShape = (s: readonly (number | null)[]): string => `[${s.join(',')}]`;

/** Keras' naming.to_snake_case: Conv2D → conv2d, BatchNormalization → batch_normalization, ReLU → re_lu. */
export function toSnakeCase(className: string): string {
  return className
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

function readPairs(pairs: Pair[], file: string, out: KerasWeights): void {
  for (const { layer, weight, dataset } of pairs) {
    const expected = weight.shape;
    if (dataset.shape.length !== expected.length || dataset.shape.some((d, i) => d !== expected[i])) {
      throw new IgxError(
        'E_MODEL_INVALID',
        `${file}: layer '${layer}' weight ${weight.originalName}: the file holds ${showShape(dataset.shape)} (${dataset.path}), the model config implies ${showShape(expected)}`,
      );
    }
    out.specs.push({ name: weight.originalName, shape: [...dataset.shape], dtype: 'float32' });
    out.values.push(dataset.readFloat32());
  }
}

function countMismatch(file: string, layer: Layer, held: number, where: string): IgxError {
  return new IgxError(
    'E_MODEL_INVALID',
    `${file}: layer '${layer.name}' (${layer.getClassName()}): the file holds ${held} weight${held === 1 ? '' : 's'} in ${where}, the model config implies ${layer.weights.length}`,
  );
}

function isContainer(layer: Layer): layer is LayersModel {
  return layer instanceof LayersModel;
}

interface Keras3Walk {
  h5: H5File;
  file: string;
  /** 'layers', or Keras 2.13–2.15's '_layer_checkpoint_dependencies'. */
  word: string;
  /** What joins `word` and the layer's group: '/', or '\\' in files saved on Windows. */
  separator: string;
  /** Keras 2.13–2.15: a layer with weights takes two numbers of its class. */
  isListedTwice: boolean;
  /** Where the weights go, in the order the walk meets them. */
  out: KerasWeights;
}

function collectKeras3Layer(walk: Keras3Walk, layer: Layer, path: string): void {
  const varsPath = `${path}/vars`;
  const names = (walk.h5.keys(varsPath) ?? []).filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
  if (names.length !== layer.weights.length) throw countMismatch(walk.file, layer, names.length, varsPath);
  const pairs = layer.weights.map((weight, i) => {
    const dataset = walk.h5.dataset(`${varsPath}/${names[i]}`);
    if (dataset === undefined) throw countMismatch(walk.file, layer, i, varsPath);
    return { layer: layer.name, weight, dataset };
  });
  readPairs(pairs, walk.file, walk.out);
}

function collectKeras3Container(walk: Keras3Walk, model: LayersModel, config: unknown, prefix: string): void {
  const used = new Map<string, number>();
  for (const entry of listConfigLayers(config)) {
    const base = toSnakeCase(entry.className);
    const n = used.get(base);
    if (entry.className === 'InputLayer' && walk.isListedTwice) continue; // Keras 2's Sequential.layers leaves it out
    const layer = entry.className === 'InputLayer' ? undefined : model.getLayer(entry.name);
    const slots = walk.isListedTwice && layer !== undefined && layer.weights.length > 0 ? 2 : 1;
    used.set(base, (n ?? -1) + slots);
    const path = `${prefix}${walk.word}${walk.separator}${n === undefined ? base : `${base}_${n + 1}`}`;
    if (layer === undefined) continue;
    if (isContainer(layer)) collectKeras3Container(walk, layer, entry.config, `${path}/`);
    else if (layer.weights.length > 0) collectKeras3Layer(walk, layer, path);
  }
}

/** Keras 3 model.weights.h5 → weights of `model`, built from `config` (the untranslated Keras config). */
export function collectKeras3Weights(options: { h5: H5File; file: string; model: LayersModel; config: unknown }): KerasWeights {
  const { h5, file, model, config } = options;
  const root = h5.keys('') ?? [];
  const legacy = '_layer_checkpoint_dependencies';
  const isLegacy = !root.includes('layers') && root.some((k) => k === legacy || k.startsWith(`${legacy}\\`));
  const separator = root.some((k) => k.startsWith(`${isLegacy ? legacy : 'layers'}\\`)) ? '\\' : '/';
  const out: KerasWeights = { specs: [], values: [] };
  collectKeras3Container({ h5, file, word: isLegacy ? legacy : 'layers', separator, isListedTwice: isLegacy, out }, model, config, '');
  return out;
}

/** weight_names, or weight_names0, weight_names1, … when Keras split a long list across attributes. */
function readWeightNames(h5: H5File, group: string): string[] {
  const whole = h5.attr(group, 'weight_names');
  if (whole !== undefined) return readH5StringList(whole);
  const names: string[] = [];
  for (let i = 0; ; i++) {
    const part = h5.attr(group, `weight_names${i}`);
    if (part === undefined) return names;
    names.push(...readH5StringList(part));
  }
}

/** 'model/conv2d/kernel:0' → candidate keys to match a tfjs originalName ('conv2d/kernel'). */
function nameKeys(name: string): string[] {
  const parts = name.replace(/:\d+$/, '').split('/');
  const keys = [parts.join('/'), parts.slice(-2).join('/')];
  if (parts.length > 2) keys.push(`${parts[0]}/${parts[parts.length - 1]}`); // layer/cell/kernel → layer/kernel
  return keys;
}

/** Pairs a layer's tfjs weights with its datasets by name, else (names Keras 3 shortened to 'kernel') by order. */
function pairKeras2Layer(h5: H5File, file: string, layer: Layer, group: string): Pair[] {
  const names = readWeightNames(h5, group);
  const byKey = new Map<string, string>();
  for (const n of names) for (const k of nameKeys(n)) if (!byKey.has(k)) byKey.set(k, n);
  const matched = layer.weights.map((w) => nameKeys(w.originalName).map((k) => byKey.get(k)).find((n) => n !== undefined));
  const chosen = matched.every((n) => n !== undefined) && new Set(matched).size === matched.length ? (matched as string[]) : names;
  if (chosen.length !== layer.weights.length) throw countMismatch(file, layer, names.length, group);
  return layer.weights.map((weight, i) => {
    const path = `${group}/${chosen[i]}`;
    const dataset = h5.dataset(path);
    if (dataset === undefined) throw new IgxError('E_MODEL_INVALID', `${file}: layer '${layer.name}' lists weight ${chosen[i]}, but ${path} is not in the file`);
    return { layer: layer.name, weight, dataset };
  });
}

/** Keras 2 .h5 (model_weights group) → weights of `model`. */
export function collectKeras2Weights(options: { h5: H5File; file: string; model: LayersModel; group: string }): KerasWeights {
  const { h5, file, model, group } = options;
  const out: KerasWeights = { specs: [], values: [] };
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const path = `${group}/${layer.name}`;
    if (h5.keys(path) === undefined) throw new IgxError('E_MODEL_INVALID', `${file}: layer '${layer.name}' has ${layer.weights.length} weights in the config but no group ${path}`);
    readPairs(pairKeras2Layer(h5, file, layer, path), file, out);
  }
  return out;
}
