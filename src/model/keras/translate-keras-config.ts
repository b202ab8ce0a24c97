/**
 * Keras model configs (Keras 3, and Keras 2 as .h5 files hold them) → the Keras 2.x JSON that
 * tfjs-layers 4.22 deserializes (its `convertPythonicToTs` + `deserialize` read `class_name`/`config`
 * pairs, `batch_input_shape`, and functional `inbound_nodes` as [[[layer, node, tensor, kwargs], …]]).
 * Pure: JSON in, JSON out; layers tfjs-layers cannot build are refused here with their name and class.
 */
import * as tf from '@tensorflow/tfjs-core';
import { IgxError } from '../../errors.js';
import { INFERENCE_IDENTITY_CLASS, KEEPDIMS_POOLING_CLASS, KERAS3_HARD_SIGMOID, registerKerasExtras } from '../keras-extras.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Layers whose config holds Python code: no JSON reader can rebuild them. */
const PYTHON_CODE_LAYERS = new Set(['Lambda', 'TFOpLambda', 'SlicingOpLambda']);
/** Keras 3 class names that tfjs-layers registers under another name. */
const CLASS_RENAMES: Record<string, string> = { Functional: 'Model' };
const CONTAINER_CLASSES = new Set(['Functional', 'Model', 'Sequential']);
/** Policies whose variables are float32; igx computes in float32 whatever the policy's compute dtype. */
const FLOAT32_POLICIES = new Set(['float32', 'mixed_float16', 'mixed_bfloat16']);

export const SAVEDMODEL_ADVICE = "re-export it from Keras with model.export('folder') (a SavedModel) and pass that folder to igx";

export interface TranslateContext {
  /** For messages: the .keras/.h5 file. */
  file: string;
  /** The config is Keras 3's (its objects name their `module`): some names mean other functions there. */
  isKeras3?: boolean;
}

/** Keras 3 activations that tfjs-layers lacks, or has under the name with Keras 2's meaning. */
const KERAS3_ACTIVATIONS: Record<string, string> = { hard_sigmoid: KERAS3_HARD_SIGMOID, silu: 'swish' };

/** Keras' data augmentation: random only while training, the identity at inference (what igx explains). */
const AUGMENTATION_LAYERS = new Set([
  'RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation', 'RandomContrast', 'RandomBrightness', 'RandomHue',
  'RandomSaturation', 'RandomGrayscale', 'RandomColorJitter', 'RandomSharpness', 'RandomShear', 'RandomPosterization',
  'RandomInvert', 'RandomErasing', 'RandomGaussianBlur', 'RandomPerspective', 'RandomElasticTransform',
]);
const GLOBAL_POOLING_2D: Record<string, 'average' | 'max'> = { GlobalAveragePooling2D: 'average', GlobalMaxPooling2D: 'max' };

/** Keras 3 serializes objects as {module, class_name, config, registered_name}; Keras 2 as {class_name, config}. */
function isSerializedObject(v: Json): v is JsonObject {
  return isObject(v) && typeof v.class_name === 'string' && 'config' in v;
}

function translatePolicy(v: JsonObject, ctx: TranslateContext, where: string): string {
  const name = isObject(v.config) && typeof v.config.name === 'string' ? v.config.name : undefined;
  if (name !== undefined && FLOAT32_POLICIES.has(name)) return 'float32';
  throw new IgxError('E_UNSUPPORTED_OP', `${ctx.file}: ${where} has dtype policy ${JSON.stringify(name ?? v)}; igx runs float32 models`);
}

/** L1/L2 regularizers: tfjs-layers knows only L1L2 (they do nothing at inference; kept for a faithful topology). */
function translateRegularizer(v: JsonObject): Json {
  const config = isObject(v.config) ? v.config : {};
  if (v.class_name === 'L2') return { class_name: 'L1L2', config: { l1: 0, l2: config.l2 ?? 0.01 } };
  if (v.class_name === 'L1') return { class_name: 'L1L2', config: { l1: config.l1 ?? 0.01, l2: 0 } };
  if (v.class_name === 'L1L2') return { class_name: 'L1L2', config: { l1: config.l1 ?? 0, l2: config.l2 ?? 0 } };
  return null;
}

function translateValue(key: string, v: Json, ctx: TranslateContext, where: string): Json {
  if (key === 'dtype' && isObject(v)) return translatePolicy(v, ctx, where);
  if (/_regularizer$/.test(key) && isObject(v)) return translateRegularizer(v);
  // Constraints only act while training; tfjs-layers lacks some of Keras 3's.
  if (/_constraint$/.test(key)) return null;
  if (key === 'activation' && isObject(v) && v.class_name === 'function' && typeof v.config === 'string') return translateValue(key, v.config, ctx, where);
  if (key === 'activation' && typeof v === 'string' && ctx.isKeras3 === true) return KERAS3_ACTIVATIONS[v] ?? v;
  if (isSerializedObject(v)) return { class_name: v.class_name as string, config: translateValue('config', v.config as Json, ctx, where) };
  if (Array.isArray(v)) return v.map((item) => translateValue('', item, ctx, where));
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, item] of Object.entries(v)) out[k] = translateValue(k, item, ctx, where);
    return out;
  }
  return v;
}

/** A layer's `config`: dtype policies, initializers, regularizers, `batch_shape`. */
function translateLayerConfig(config: JsonObject, ctx: TranslateContext, where: string): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'batch_shape') out.batch_input_shape = v;
    else out[k] = translateValue(k, v, ctx, where);
  }
  return out;
}

function checkLayerClass(entry: JsonObject, ctx: TranslateContext): void {
  const cls = String(entry.class_name);
  const name = isObject(entry.config) && typeof entry.config.name === 'string' ? entry.config.name : String(entry.name ?? '?');
  const module = typeof entry.module === 'string' ? entry.module : undefined;
  const refuse = (why: string): never => {
    throw new IgxError('E_UNSUPPORTED_OP', `${ctx.file}: layer '${name}' (${cls}) ${why}; ${SAVEDMODEL_ADVICE}`);
  };
  if (PYTHON_CODE_LAYERS.has(cls)) refuse('is Python code that only Keras can run');
  if ((module !== undefined && module !== 'keras' && !module.startsWith('keras.')) || (typeof entry.registered_name === 'string' && entry.registered_name.includes('>'))) {
    refuse(`is a custom class from ${module ?? String(entry.registered_name)}`);
  }
  if (CONTAINER_CLASSES.has(cls)) return;
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  if (!(cls in known)) refuse('is not a layer TensorFlow.js can build');
}

/** One functional node: Keras 3 {args, kwargs} → Keras 2 [[layer, node, tensor, kwargs], …]. */
function translateNode(node: Json, ctx: TranslateContext, where: string): Json {
  if (Array.isArray(node)) return node; // already Keras 2
  if (!isObject(node)) throw new IgxError('E_MODEL_INVALID', `${ctx.file}: layer '${where}' has an inbound node that is neither a list nor {args, kwargs}`);
  const inbound: Json[] = [];
  const collect = (v: Json): void => {
    if (Array.isArray(v)) v.forEach(collect);
    else if (isObject(v) && v.class_name === '__keras_tensor__' && isObject(v.config) && Array.isArray(v.config.keras_history)) inbound.push(v.config.keras_history);
    else if (isObject(v)) Object.values(v).forEach(collect);
  };
  collect(node.args ?? []);
  const kwargs = isObject(node.kwargs) ? node.kwargs : {};
  const kwargTensors: Json[] = [];
  const before = inbound.length;
  collect(kwargs);
  kwargTensors.push(...inbound.splice(before));
  if (kwargTensors.length > 0) {
    throw new IgxError('E_UNSUPPORTED_OP', `${ctx.file}: layer '${where}' takes a tensor as a keyword argument (${Object.keys(kwargs).join(', ')}), which TensorFlow.js layers cannot express; ${SAVEDMODEL_ADVICE}`);
  }
  const plainKwargs = translateValue('kwargs', kwargs, ctx, where);
  return inbound.map((h) => [...(h as Json[]).slice(0, 3), plainKwargs]);
}

/** input_layers / output_layers: Keras 3 writes one tensor as [name, 0, 0] or several as a dict. */
function translateEnds(v: Json | undefined): Json {
  if (Array.isArray(v) && typeof v[0] === 'string') return [v];
  if (isObject(v)) return Object.values(v);
  return v ?? [];
}

/**
 * Layers whose Keras meaning tfjs-layers would get wrong: training-only augmentation becomes the identity,
 * global pooling with keepdims igx's own layer; grouped convolutions and other keepdims are refused
 * (tfjs-layers would build them and compute something else).
 */
function substituteLayer(entry: JsonObject, ctx: TranslateContext): JsonObject {
  const cls = String(entry.class_name);
  const config = isObject(entry.config) ? entry.config : {};
  const name = typeof config.name === 'string' ? config.name : String(entry.name ?? '?');
  const keep = { name: config.name ?? name, trainable: false };
  if (AUGMENTATION_LAYERS.has(cls)) return { ...entry, class_name: INFERENCE_IDENTITY_CLASS, config: keep, module: 'keras' };
  if (typeof config.groups === 'number' && config.groups > 1) {
    throw new IgxError('E_UNSUPPORTED_OP', `${ctx.file}: layer '${name}' (${cls}) is a grouped convolution (groups=${config.groups}), which TensorFlow.js layers cannot build; ${SAVEDMODEL_ADVICE}`);
  }
  if (config.keepdims === true) {
    const mode = GLOBAL_POOLING_2D[cls];
    if (mode === undefined) throw new IgxError('E_UNSUPPORTED_OP', `${ctx.file}: layer '${name}' (${cls}) keeps its reduced dims (keepdims), which TensorFlow.js layers ignore; ${SAVEDMODEL_ADVICE}`);
    return { ...entry, class_name: KEEPDIMS_POOLING_CLASS, config: { ...keep, mode, data_format: config.data_format ?? 'channels_last' }, module: 'keras' };
  }
  return entry;
}

function translateLayerEntry(original: Json, ctx: TranslateContext): JsonObject {
  if (!isSerializedObject(original)) throw new IgxError('E_MODEL_INVALID', `${ctx.file}: a layer entry has no class_name and config`);
  const entry = substituteLayer(original, ctx);
  checkLayerClass(entry, ctx);
  const cls = entry.class_name as string;
  const config = entry.config as JsonObject;
  const name = typeof config.name === 'string' ? config.name : String(entry.name ?? '?');
  const out: JsonObject = {
    class_name: CLASS_RENAMES[cls] ?? cls,
    config: CONTAINER_CLASSES.has(cls) ? translateContainerConfig(cls, config, ctx) : translateLayerConfig(config, ctx, `layer '${name}'`),
  };
  if ('name' in entry) out.name = entry.name as Json;
  if (Array.isArray(entry.inbound_nodes)) out.inbound_nodes = entry.inbound_nodes.map((n) => translateNode(n, ctx, name));
  return out;
}

/** A Sequential's first layer must carry its input shape for tfjs-layers, as Keras 3's build_config does. */
function withSequentialInput(layers: JsonObject[], original: Json[], config: JsonObject): JsonObject[] {
  const first = layers[0];
  if (first === undefined || first.class_name === 'InputLayer') return layers;
  const firstConfig = first.config as JsonObject;
  if (firstConfig.batch_input_shape !== undefined) return layers;
  const build = (original[0] as JsonObject).build_config;
  const shape = (isObject(build) ? build.input_shape : undefined) ?? config.build_input_shape;
  if (!Array.isArray(shape)) return layers;
  return [{ ...first, config: { ...firstConfig, batch_input_shape: shape } }, ...layers.slice(1)];
}

/**
 * Keras reads the input shape of a Sequential's first layer only; a later layer's `input_shape` (left
 * over from an edit) is ignored there, but tfjs-layers checks it and warns on every call.
 */
function withoutLaterInputShapes(layers: JsonObject[]): JsonObject[] {
  return layers.map((layer, i) => {
    const config = layer.config as JsonObject;
    if (i === 0 || config.batch_input_shape === undefined) return layer;
    const { batch_input_shape: _ignored, ...rest } = config;
    return { ...layer, config: rest };
  });
}

function translateContainerConfig(cls: string, config: JsonObject, ctx: TranslateContext): JsonObject {
  const original = Array.isArray(config.layers) ? config.layers : [];
  const layers = original.map((l) => translateLayerEntry(l, ctx));
  const out: JsonObject = { name: config.name ?? cls.toLowerCase() };
  if (cls === 'Sequential') {
    out.layers = withoutLaterInputShapes(withSequentialInput(layers, original, config));
    return out;
  }
  out.layers = layers;
  out.input_layers = translateEnds(config.input_layers);
  out.output_layers = translateEnds(config.output_layers);
  return out;
}

/**
 * A whole model config ({class_name: 'Sequential' | 'Functional' | 'Model', config}) → tfjs-layers'
 * modelTopology. E_UNSUPPORTED_OP for Lambda, custom and unknown layer classes; E_MODEL_INVALID for a
 * config that is no model.
 */
export function translateKerasConfig(config: unknown, ctx: TranslateContext): JsonObject {
  const model = isObject(config) && isObject(config.model_config) ? config.model_config : config;
  if (!isSerializedObject(model as Json) || !CONTAINER_CLASSES.has(String((model as JsonObject).class_name))) {
    const cls = isObject(model) ? String(model.class_name) : typeof model;
    throw new IgxError('E_UNSUPPORTED_OP', `${ctx.file}: the model is a ${cls}, not a Sequential or functional model; ${SAVEDMODEL_ADVICE}`);
  }
  registerKerasExtras(); // the classes substituteLayer writes must be known to checkLayerClass
  const m = model as JsonObject;
  const cls = m.class_name as string;
  const keras3 = { ...ctx, isKeras3: ctx.isKeras3 ?? typeof m.module === 'string' };
  // Keras 2.0–2.1 wrote a Sequential's config as the bare list of its layers.
  const containerConfig = Array.isArray(m.config) ? { name: 'sequential', layers: m.config } : (m.config as JsonObject);
  return { class_name: CLASS_RENAMES[cls] ?? cls, config: translateContainerConfig(cls, containerConfig, keras3) };
}

/** The Keras class name of each layer of a container config, in order (Keras 3 names weight groups by it). */
export function listConfigLayers(config: unknown): { name: string; className: string; config: unknown }[] {
  const model = isObject(config) && isObject(config.model_config) ? config.model_config : config;
  const inner = isObject(model) ? model.config : undefined;
  const layers = Array.isArray(inner) ? inner : isObject(inner) && Array.isArray(inner.layers) ? inner.layers : [];
  return layers.filter(isObject).map((l) => ({
    name: isObject(l.config) && typeof l.config.name === 'string' ? l.config.name : String(l.name ?? ''),
    className: String(l.class_name),
    config: l,
  }));
}
