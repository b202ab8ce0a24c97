/**
 * `igx inspect` for SavedModels: tag sets, signatures with their inputs and outputs, and the ops of each
 * signature's inference graph as igx would build it (without reading the variables).
 */
import { IgxError } from '../errors.js';
import { buildGraph, type GraphTensorSpec } from './build-graph.js';
import { listSignatures, readSavedModel, selectMetaGraph, tagsOf, type SignatureInfo } from './read-saved-model.js';

export interface InspectedTensor {
  key: string;
  /** The tensor's name in the SavedModel graph. */
  name: string;
  dtype: string;
  shape: number[] | undefined;
}

export interface InspectedSignature {
  name: string;
  /** The tag set of the MetaGraph that holds it. */
  tags: string[];
  methodName: string;
  inputs: InspectedTensor[];
  outputs: InspectedTensor[];
  /** Ops of the inference graph igx builds for it; empty when it cannot be built (see `error`). */
  opCounts: Record<string, number>;
  /** Ops among them that TensorFlow.js cannot run (synchronously). */
  unsupportedOps: Record<string, number>;
  /** Why the graph cannot be built, when it cannot. */
  error?: string;
}

export interface SavedModelInspection {
  /** saved_model.pb or saved_model.pbtxt. */
  path: string;
  tensorflowVersion: string | undefined;
  /** Every MetaGraph's tag set. */
  tags: string[][];
  signatures: InspectedSignature[];
  /** Ops of the default signature (serving_default under tags "serve", or the first listed). */
  opCounts: Record<string, number>;
}

function tensors(list: SignatureInfo['inputs']): InspectedTensor[] {
  return list.map((t) => ({ key: t.key, name: t.tensorName, dtype: t.dtype, shape: t.shape }));
}

/** Dtype and shape from the built graph where the signature names a tensor only (TF 0.12). */
function completed(list: InspectedTensor[], built: GraphTensorSpec[]): InspectedTensor[] {
  return list.map((t) => {
    const b = built.find((x) => x.key === t.key);
    return t.dtype === 'DT_INVALID' && b !== undefined ? { ...t, dtype: b.dtype, shape: b.shape } : t;
  });
}

/** Errors: E_MODEL_NOT_FOUND, E_MODEL_INVALID (the SavedModel protobuf does not parse). */
export async function inspectSavedModel(dir: string): Promise<SavedModelInspection> {
  const files = await readSavedModel(dir);
  const signatures: InspectedSignature[] = [];
  for (const mg of files.model.metaGraphs) {
    for (const sig of listSignatures(mg, files.path)) {
      const entry: InspectedSignature = {
        name: sig.name,
        tags: tagsOf(mg),
        methodName: sig.methodName,
        inputs: tensors(sig.inputs),
        outputs: tensors(sig.outputs),
        opCounts: {},
        unsupportedOps: {},
      };
      try {
        const built = buildGraph(mg, { file: files.path, signature: sig, variableKeys: new Map() });
        entry.opCounts = built.opCounts;
        entry.unsupportedOps = built.unsupported;
        entry.inputs = completed(entry.inputs, built.inputs);
        entry.outputs = completed(entry.outputs, built.outputs);
      } catch (err) {
        if (!(err instanceof IgxError)) throw err;
        entry.error = err.message;
      }
      signatures.push(entry);
    }
  }
  let defaultMg;
  try {
    defaultMg = selectMetaGraph(files.model, undefined, files.path);
  } catch {
    defaultMg = files.model.metaGraphs[0];
  }
  const defaultTags = defaultMg === undefined ? [] : tagsOf(defaultMg);
  const sameTags = (s: InspectedSignature): boolean => s.tags.length === defaultTags.length && s.tags.every((t, i) => t === defaultTags[i]);
  const chosen = signatures.find((s) => sameTags(s) && s.name === 'serving_default') ?? signatures.find(sameTags) ?? signatures[0];
  return {
    path: files.path,
    tensorflowVersion: files.model.metaGraphs[0]?.metaInfoDef?.tensorflowVersion || undefined,
    tags: files.model.metaGraphs.map(tagsOf),
    signatures,
    opCounts: chosen?.opCounts ?? {},
  };
}
