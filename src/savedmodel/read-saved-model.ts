/**
 * Reading a SavedModel folder: saved_model.pb (binary) or saved_model.pbtxt (text format, through
 * protobufjs's text-format extension), the MetaGraph for a tag set, and its signatures.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import textformat from 'protobufjs/ext/textformat.js';
import { IgxError } from '../errors.js';
import type { MetaGraphDefMsg, SavedModelMsg, SignatureDefMsg, TensorInfoMsg } from './messages.js';
import { protoType } from './proto.js';
import { dtypeName, readShape } from './tensor-value.js';

export const SAVED_MODEL_PB = 'saved_model.pb';
export const SAVED_MODEL_PBTXT = 'saved_model.pbtxt';
/** The signature key TensorFlow's exporters give the main function. */
export const DEFAULT_SIGNATURE = 'serving_default';
export const DEFAULT_TAGS: readonly string[] = ['serve'];
/** TF2 lists its initializer as a signature; it is no model function. */
const INIT_OP_SIGNATURE = '__saved_model_init_op';

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Whether `path` is a folder holding saved_model.pb or saved_model.pbtxt (so loadModel can branch). */
export async function isSavedModelDir(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isDirectory()) return false;
  } catch {
    return false;
  }
  return (await isFile(join(path, SAVED_MODEL_PB))) || (await isFile(join(path, SAVED_MODEL_PBTXT)));
}

export interface SavedModelFiles {
  /** Absolute folder. */
  dir: string;
  /** saved_model.pb or saved_model.pbtxt, absolute. */
  path: string;
  model: SavedModelMsg;
  /** `DIR/variables/variables`: the checkpoint prefix. */
  variablesPrefix: string;
}

/**
 * Reads and parses the SavedModel protobuf in `dir`. Errors: E_MODEL_NOT_FOUND (no such folder, or no
 * saved_model.pb/.pbtxt in it), E_MODEL_INVALID (does not parse: truncated, corrupt, or not a SavedModel).
 */
export async function readSavedModel(dirGiven: string): Promise<SavedModelFiles> {
  const dir = resolve(dirGiven);
  try {
    if (!(await stat(dir)).isDirectory()) {
      throw new IgxError('E_MODEL_NOT_FOUND', `${dirGiven}: not a folder; a SavedModel is a folder with ${SAVED_MODEL_PB} and variables/`);
    }
  } catch (err) {
    if (err instanceof IgxError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new IgxError('E_MODEL_NOT_FOUND', `${dirGiven}: ${code === 'ENOENT' ? 'no such folder' : `cannot be read (${code})`}`, { cause: err });
  }
  const pb = join(dir, SAVED_MODEL_PB);
  const pbtxt = join(dir, SAVED_MODEL_PBTXT);
  const SavedModel = protoType('SavedModel');
  let model: SavedModelMsg;
  let path: string;
  if (await isFile(pb)) {
    path = pb;
    const bytes = await readFile(pb);
    try {
      model = SavedModel.decode(bytes) as unknown as SavedModelMsg;
    } catch (err) {
      throw new IgxError(
        'E_MODEL_INVALID',
        `${pb}: does not parse as a SavedModel protobuf (${(err as Error).message}); the file is truncated or not a SavedModel`,
        { cause: err },
      );
    }
  } else if (await isFile(pbtxt)) {
    path = pbtxt;
    const text = await readFile(pbtxt, 'utf8');
    try {
      // Through the binary form, so the message has the same defaults (empty lists) as a decoded .pb.
      model = SavedModel.decode(SavedModel.encode(textformat.fromText(SavedModel, text)).finish()) as unknown as SavedModelMsg;
    } catch (err) {
      throw new IgxError(
        'E_MODEL_INVALID',
        `${pbtxt}: does not parse as a SavedModel in text format (${(err as Error).message}); convert it to ${SAVED_MODEL_PB} if it uses fields igx does not know`,
        { cause: err },
      );
    }
  } else {
    throw new IgxError(
      'E_MODEL_NOT_FOUND',
      `${dirGiven}: not a SavedModel folder: it has neither ${SAVED_MODEL_PB} nor ${SAVED_MODEL_PBTXT}`,
    );
  }
  if (model.metaGraphs.length === 0 || model.metaGraphs.every((mg) => mg.graphDef === null)) {
    throw new IgxError('E_MODEL_INVALID', `${path}: field meta_graphs: expected at least one MetaGraphDef with a graph_def, found none`);
  }
  return { dir, path, model, variablesPrefix: join(dir, 'variables', 'variables') };
}

export function tagsOf(mg: MetaGraphDefMsg): string[] {
  return [...(mg.metaInfoDef?.tags ?? [])];
}

const showTags = (tags: readonly string[]): string => `[${tags.join(',')}]`;

/**
 * The MetaGraph whose tag set equals `tags` (order aside). Without `tags`: the one tagged exactly
 * "serve", else the only one. E_MODEL_SIGNATURE lists the tag sets when none matches.
 */
export function selectMetaGraph(model: SavedModelMsg, tags: readonly string[] | undefined, file: string): MetaGraphDefMsg {
  const wanted = new Set(tags ?? DEFAULT_TAGS);
  const match = model.metaGraphs.find((mg) => {
    const t = new Set(tagsOf(mg));
    return t.size === wanted.size && [...wanted].every((x) => t.has(x));
  });
  if (match !== undefined) return match;
  if (tags === undefined && model.metaGraphs.length === 1) return model.metaGraphs[0] as MetaGraphDefMsg;
  throw new IgxError(
    'E_MODEL_SIGNATURE',
    `${file}: no MetaGraph tagged ${showTags([...wanted])}; its tag sets are ${model.metaGraphs.map((mg) => showTags(tagsOf(mg))).join(', ')} (pick one with --tags)`,
  );
}

export interface SignatureTensor {
  /** The signature's key for the tensor. */
  key: string;
  /** The tensor's name in the SavedModel graph ("serving_default_x:0"). */
  tensorName: string;
  /** "DT_FLOAT" */
  dtype: string;
  dtypeEnum: number;
  /** -1 for unknown dims; undefined for unknown rank. */
  shape: number[] | undefined;
}

export interface SignatureInfo {
  name: string;
  methodName: string;
  inputs: SignatureTensor[];
  outputs: SignatureTensor[];
}

function readTensors(map: Record<string, TensorInfoMsg>, file: string, where: string): SignatureTensor[] {
  return Object.keys(map)
    .sort()
    .map((key) => {
      const info = map[key] as TensorInfoMsg;
      if (info.encoding !== undefined && info.encoding !== 'name') {
        throw new IgxError('E_MODEL_INVALID', `${file}: ${where} '${key}' is a ${info.encoding} tensor; igx reads dense tensors only`);
      }
      return { key, tensorName: info.name, dtype: dtypeName(info.dtype), dtypeEnum: info.dtype, shape: readShape(info.tensorShape) };
    });
}

function toSignature(name: string, def: SignatureDefMsg, file: string): SignatureInfo {
  return {
    name,
    methodName: def.methodName,
    inputs: readTensors(def.inputs, file, `signature '${name}' input`),
    outputs: readTensors(def.outputs, file, `signature '${name}' output`),
  };
}

/** Signature names, less TF2's initializer pseudo-signature, sorted. */
export function signatureNames(mg: MetaGraphDefMsg): string[] {
  return Object.keys(mg.signatureDef)
    .filter((n) => n !== INIT_OP_SIGNATURE)
    .sort();
}

export function listSignatures(mg: MetaGraphDefMsg, file: string): SignatureInfo[] {
  return signatureNames(mg).map((n) => toSignature(n, mg.signatureDef[n] as SignatureDefMsg, file));
}

/**
 * The named signature; without a name, serving_default, else the only one. E_MODEL_SIGNATURE lists the
 * signatures when none matches.
 */
export function selectSignature(mg: MetaGraphDefMsg, name: string | undefined, file: string): SignatureInfo {
  const names = signatureNames(mg);
  const chosen = name ?? (names.includes(DEFAULT_SIGNATURE) || names.length !== 1 ? DEFAULT_SIGNATURE : names[0]);
  const def = chosen === undefined || chosen === INIT_OP_SIGNATURE ? undefined : mg.signatureDef[chosen];
  if (names.length === 0) {
    // tf.saved_model.save of a module whose __call__ is no tf.function keeps only variables.
    throw new IgxError(
      'E_MODEL_SIGNATURE',
      `${file}: the SavedModel has no signatures, so there is no function to run; re-export it with one (tf.saved_model.save(module, dir, signatures=...), a @tf.function __call__, or Keras's model.export(dir))`,
    );
  }
  if (def === undefined || chosen === undefined) {
    throw new IgxError(
      'E_MODEL_SIGNATURE',
      `${file}: no signature '${chosen ?? DEFAULT_SIGNATURE}'; its signatures are ${names.length === 0 ? 'none' : names.map((n) => `'${n}'`).join(', ')} (pick one with --signature)`,
    );
  }
  return toSignature(chosen, def, file);
}

export interface SavedModelLoadOptions {
  /** Signature key (--signature); default serving_default. */
  signature?: string;
  /** MetaGraph tags (--tags); default serve. */
  tags?: string[];
  /** The signature input to feed the image to (--input), when the signature has several. */
  input?: string;
}

/** The SavedModel folder `path` names (the folder itself, or its saved_model.pb/.pbtxt), else undefined. */
export async function resolveSavedModelDir(path: string): Promise<string | undefined> {
  const abs = resolve(path);
  if (await isSavedModelDir(abs)) return abs;
  const name = basename(abs);
  if (name === SAVED_MODEL_PB || name === SAVED_MODEL_PBTXT) {
    try {
      if ((await stat(abs)).isFile()) return dirname(abs);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
