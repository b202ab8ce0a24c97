/**
 * SavedModel → TensorFlow.js graph model (model.json topology + weights), in memory or on disk.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import { IgxError, isIgxError } from '../errors.js';
import { IGX_VERSION } from '../package-info.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { buildGraph, describeUnsupported, type BuiltGraph, type GraphTensorSpec } from './build-graph.js';
import type { MetaGraphDefMsg } from './messages.js';
import { readSavedModel, selectMetaGraph, selectSignature, tagsOf, type SignatureInfo, type SignatureTensor } from './read-saved-model.js';
import { TensorBundle } from './tensor-bundle.js';
import { dtypeName, tfjsDtypeOf, type TensorValue } from './tensor-value.js';
import { resolveVariableKeys } from './variables.js';
import { ensureDir } from '../files/ensure-dir.js';

export interface ConvertOptions {
  /** Signature key; default serving_default (or the only signature). */
  signature?: string;
  /** MetaGraph tag set; default ["serve"] (or the only MetaGraph). */
  tags?: string[];
  /** Signature input keys to feed; default all. Outputs that need another input fail with E_MODEL_SIGNATURE. */
  inputs?: string[];
  /** Signature output keys to compute; default all. */
  outputs?: string[];
  /**
   * Without `outputs`: leave out the outputs that need an input not in `inputs`, instead of failing
   * (loadModel's --input on a multi-input signature).
   */
  computableOutputsOnly?: boolean;
  /**
   * Feed integer inputs as float32 where the model only casts them to float (uint8 images): what
   * Integrated Gradients needs, since it interpolates between baseline and input. Off by default, so
   * a converted model takes what the SavedModel takes. See SignatureTensorSummary.castFrom and
   * integerConsumers.
   */
  floatInputs?: boolean;
}

export interface SignatureTensorSummary {
  /** The tensor in the converted graph model ("x:0"). */
  name: string;
  /** The signature's key. */
  key: string;
  /** TensorFlow dtype name ("DT_FLOAT"). */
  dtype: string;
  /** -1 for unknown dims; undefined for unknown rank. */
  shape: number[] | undefined;
  /** With `floatInputs`: the SavedModel's integer dtype of an input now fed as float32 ("DT_UINT8"). */
  castFrom?: string;
  /** With `floatInputs`: the nodes ("name (Op)") that read an integer input as integers, so it stayed integer. */
  integerConsumers?: string[];
}

export interface SignatureSummary {
  name: string;
  inputs: SignatureTensorSummary[];
  outputs: SignatureTensorSummary[];
}

export interface ConvertResult {
  /** A graph model: modelTopology, weightSpecs and all weights in one ArrayBuffer, signature. */
  artifacts: tf.io.ModelArtifacts;
  signature: SignatureSummary;
  /** Ops of the converted graph, by name. */
  opCounts: Record<string, number>;
  /** The MetaGraph's tags. */
  tags: string[];
  /** saved_model.pb (or .pbtxt), absolute. */
  savedModelPath: string;
  tensorflowVersion: string | undefined;
}

/** Where `restrict` looks, for its message: 'input' or 'output' of signature `sig` in `file`. */
interface RestrictContext {
  what: string;
  sig: SignatureInfo;
  file: string;
}

function restrict(list: SignatureTensor[], wanted: string[] | undefined, { what, sig, file }: RestrictContext): SignatureTensor[] {
  if (wanted === undefined) return list;
  return wanted.map((key) => {
    const found = list.find((t) => t.key === key);
    if (found === undefined) {
      throw new IgxError(
        'E_MODEL_SIGNATURE',
        `${file}: signature '${sig.name}' has no ${what} '${key}'; its ${what}s are ${list.map((t) => `'${t.key}'`).join(', ')}`,
      );
    }
    return found;
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function toSummary(t: GraphTensorSpec): SignatureTensorSummary {
  const summary: SignatureTensorSummary = { name: t.name, key: t.key, dtype: t.dtype, shape: t.shape };
  if (t.castFrom !== undefined) summary.castFrom = t.castFrom;
  if (t.integerConsumers !== undefined) summary.integerConsumers = t.integerConsumers;
  return summary;
}

/** Fills each variable Const from the checkpoint, checking dtype and shape against the variable node. */
async function readVariables(built: BuiltGraph, bundle: TensorBundle | undefined, file: string): Promise<Map<string, TensorValue>> {
  const wanted: { name: string; variable: string; key: string; dtype: number; shape: number[] | undefined }[] = [];
  for (const [name, src] of built.consts) {
    if (src.kind !== 'variable') continue;
    if (bundle === undefined) {
      throw new IgxError('E_MODEL_INVALID', `${file}: the graph reads variable '${src.variable}', but the SavedModel has no variables/variables.index`);
    }
    if (src.key === undefined) {
      throw new IgxError(
        'E_MODEL_INVALID',
        `${bundle.indexPath}: no checkpoint entry found for variable '${src.variable}' (neither the object graph, the restore ops nor its name lead to one)`,
      );
    }
    wanted.push({ name, variable: src.variable, key: src.key, dtype: src.dtype, shape: src.shape });
  }
  const out = new Map<string, TensorValue>();
  if (wanted.length === 0 || bundle === undefined) return out;
  const values = await bundle.readMany([...new Set(wanted.map((w) => w.key))]);
  for (const w of wanted) {
    const value = values.get(w.key) as TensorValue;
    const entry = bundle.entry(w.key);
    const expected = tfjsDtypeOf(w.dtype);
    if (expected !== undefined && expected !== value.dtype) {
      throw new IgxError(
        'E_MODEL_INVALID',
        `${bundle.indexPath}: '${w.key}' holds ${dtypeName(entry?.dtype ?? 0)}, but variable '${w.variable}' is ${dtypeName(w.dtype)}`,
      );
    }
    const shape = w.shape;
    if (shape !== undefined && shape.every((d) => d >= 0) && (shape.length !== value.shape.length || shape.some((d, i) => d !== value.shape[i]))) {
      throw new IgxError(
        'E_MODEL_INVALID',
        `${bundle.indexPath}: '${w.key}' has shape [${value.shape.join(',')}], but variable '${w.variable}' has shape [${shape.join(',')}]`,
      );
    }
    out.set(w.name, value);
  }
  return out;
}

function encodeValue(value: TensorValue): Uint8Array {
  if (value.dtype === 'string') {
    // tfjs's string weights: each element as a uint32 little-endian byte length, then the bytes.
    const parts = value.data as Uint8Array[];
    const total = parts.reduce((n, p) => n + 4 + p.length, 0);
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    let pos = 0;
    for (const p of parts) {
      view.setUint32(pos, p.length, true);
      out.set(p, pos + 4);
      pos += 4 + p.length;
    }
    return out;
  }
  const data = value.data as Float32Array | Int32Array | Uint8Array;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Lays the Consts' values out as one weight buffer and writes each Const's value attr. */
function buildWeights(built: BuiltGraph, variables: Map<string, TensorValue>): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const byName = new Map(built.nodes.map((n) => [n.name, n]));
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const [name, src] of built.consts) {
    const value = src.kind === 'value' ? src.value : variables.get(name);
    if (value === undefined) continue;
    specs.push({ name, shape: [...value.shape], dtype: value.dtype });
    parts.push(encodeValue(value));
    const node = byName.get(name);
    if (node !== undefined) {
      const type = { float32: 'DT_FLOAT', int32: 'DT_INT32', bool: 'DT_BOOL', string: 'DT_STRING' }[value.dtype];
      const tensorShape = value.shape.length === 0 ? {} : { dim: value.shape.map((d) => ({ size: String(d) })) };
      node.attr = { value: { tensor: { dtype: type, tensorShape } }, dtype: { type } };
    }
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const data = new Uint8Array(total);
  let pos = 0;
  for (const p of parts) {
    data.set(p, pos);
    pos += p.length;
  }
  return { specs, data: data.buffer };
}

interface Prepared {
  files: Awaited<ReturnType<typeof readSavedModel>>;
  mg: MetaGraphDefMsg;
  signature: SignatureInfo;
}

async function prepare(dir: string, options: ConvertOptions): Promise<Prepared> {
  const files = await readSavedModel(dir);
  const mg = selectMetaGraph(files.model, options.tags, files.path);
  const full = selectSignature(mg, options.signature, files.path);
  const signature: SignatureInfo = {
    ...full,
    inputs: restrict(full.inputs, options.inputs, { what: 'input', sig: full, file: files.path }),
    outputs: restrict(full.outputs, options.outputs, { what: 'output', sig: full, file: files.path }),
  };
  if (signature.outputs.length === 0) {
    throw new IgxError('E_MODEL_SIGNATURE', `${files.path}: signature '${signature.name}' has no outputs to compute`);
  }
  return { files, mg, signature };
}

/**
 * Reads the SavedModel in `dir` and turns one signature into a graph model that tfjs-converter loads
 * (tf.io.fromMemory(result.artifacts)). Errors (IgxError): E_MODEL_NOT_FOUND, E_MODEL_INVALID,
 * E_MODEL_SIGNATURE (unknown tags, signature, input or output), E_MODEL_CHECKSUM (corrupt variables),
 * E_UNSUPPORTED_OP (ops TensorFlow.js cannot run, each named with its count).
 */
export async function convertSavedModel(dir: string, options: ConvertOptions = {}): Promise<ConvertResult> {
  const { files, mg, signature } = await prepare(dir, options);
  const bundle = (await exists(`${files.variablesPrefix}.index`)) ? await TensorBundle.open(files.variablesPrefix) : undefined;
  const variableKeys = await resolveVariableKeys(mg, bundle);
  if (options.computableOutputsOnly === true && options.outputs === undefined) {
    // One trial build per output (cheap: no weights are read) finds those the fed inputs suffice for.
    signature.outputs = signature.outputs.filter((output) => {
      try {
        buildGraph(mg, { file: files.path, signature: { ...signature, outputs: [output] }, variableKeys });
        return true;
      } catch (err) {
        if (isIgxError(err) && err.code === 'E_MODEL_SIGNATURE') return false;
        throw err;
      }
    });
    if (signature.outputs.length === 0) {
      throw new IgxError(
        'E_MODEL_SIGNATURE',
        `${files.path}: no output of signature '${signature.name}' can be computed from input${signature.inputs.length === 1 ? '' : 's'} ${signature.inputs.map((i) => `'${i.key}'`).join(', ')} alone`,
      );
    }
  }
  const built = buildGraph(mg, { file: files.path, signature, variableKeys, floatInputs: options.floatInputs === true });
  if (Object.keys(built.unsupported).length > 0) {
    throw new IgxError(
      'E_UNSUPPORTED_OP',
      `${files.path}: signature '${signature.name}' uses ops that TensorFlow.js cannot run (synchronously): ${describeUnsupported(built.unsupported)}`,
    );
  }
  const variables = await readVariables(built, bundle, files.path);
  const { specs, data } = buildWeights(built, variables);
  const tfVersion = mg.metaInfoDef?.tensorflowVersion || undefined;
  const sigJson = (list: GraphTensorSpec[]): Record<string, unknown> =>
    Object.fromEntries(
      list.map((t) => [
        t.key,
        { name: t.name, dtype: t.dtype, tensorShape: t.shape === undefined ? { unknownRank: true } : { dim: t.shape.map((d) => ({ size: String(d) })) } },
      ]),
    );
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: {
      node: built.nodes,
      library: {},
      versions: built.producer === undefined ? {} : { producer: built.producer },
    },
    format: 'graph-model',
    generatedBy: tfVersion === undefined ? 'TensorFlow SavedModel' : `TensorFlow ${tfVersion}`,
    convertedBy: `igx ${IGX_VERSION}`,
    weightSpecs: specs,
    weightData: data,
    signature: { inputs: sigJson(built.inputs), outputs: sigJson(built.outputs) },
    userDefinedMetadata: { savedModel: { signature: signature.name, tags: tagsOf(mg) } },
  };
  return {
    artifacts,
    signature: { name: signature.name, inputs: built.inputs.map(toSummary), outputs: built.outputs.map(toSummary) },
    opCounts: built.opCounts,
    tags: tagsOf(mg),
    savedModelPath: files.path,
    tensorflowVersion: tfVersion,
  };
}

/** Largest weight shard `writeGraphModel` writes, as tensorflowjs_converter does. */
export const SHARD_BYTES = 4 * 1024 * 1024;

export interface WrittenGraphModel {
  modelJsonPath: string;
  weightPaths: string[];
}

/**
 * Writes graph-model artifacts as OUT_DIR/model.json plus group1-shardNofM.bin weight shards of at most
 * 4 MiB (`shardBytes`); each file goes to a temporary name first and is renamed into place, model.json last. E_WRITE.
 */
export async function writeGraphModel(
  artifacts: tf.io.ModelArtifacts,
  outDir: string,
  options: { shardBytes?: number } = {},
): Promise<WrittenGraphModel> {
  const shardBytes = options.shardBytes ?? SHARD_BYTES;
  const dir = resolve(outDir);
  try {
    await ensureDir(dir);
  } catch (err) {
    throw new IgxError('E_WRITE', `cannot create '${dir}': ${(err as Error).message}`, { cause: err });
  }
  const wd = artifacts.weightData;
  const buffers = wd === undefined ? [] : Array.isArray(wd) ? wd : [wd];
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const all = new Uint8Array(total);
  let pos = 0;
  for (const b of buffers) {
    all.set(new Uint8Array(b), pos);
    pos += b.byteLength;
  }
  const count = Math.max(1, Math.ceil(total / shardBytes));
  const names = Array.from({ length: total === 0 ? 0 : count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
  const weightPaths: string[] = [];
  for (const [i, name] of names.entries()) {
    const path = join(dir, name);
    await writeFileAtomic(path, all.subarray(i * shardBytes, Math.min(total, (i + 1) * shardBytes)));
    weightPaths.push(path);
  }
  const modelJson = {
    format: artifacts.format ?? 'graph-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: names, weights: artifacts.weightSpecs ?? [] }],
    signature: artifacts.signature,
    userDefinedMetadata: artifacts.userDefinedMetadata,
  };
  const modelJsonPath = join(dir, 'model.json');
  await writeFileAtomic(modelJsonPath, JSON.stringify(modelJson));
  // Shards of an earlier, larger conversion into the same folder would only mislead.
  const stale = (await readdir(dir)).filter((n) => /^group1-shard\d+of\d+\.bin$/.test(n) && !names.includes(n));
  for (const n of stale) await rm(join(dir, n), { force: true });
  return { modelJsonPath, weightPaths };
}
