/**
 * The on-disk model.json of a TensorFlow.js model: its structure (checked with zod so that a malformed
 * file is named with the field that is wrong), its format, and the bytes its weight manifest describes.
 */
import { z } from 'zod';
import { IgxError } from '../errors.js';
import type { ModelFormat } from './types.js';

/** Bytes per stored element: the quantized dtype when there is one, else the weight's dtype. */
const BYTES_PER_ELEMENT: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

const WeightEntrySchema = z.looseObject({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32', 'bool', 'string', 'complex64']),
  quantization: z
    .looseObject({
      dtype: z.enum(['uint8', 'uint16', 'float16']),
      scale: z.number().optional(),
      min: z.number().optional(),
    })
    .optional(),
});
export type WeightEntry = z.infer<typeof WeightEntrySchema>;

const WeightGroupSchema = z.looseObject({
  paths: z.array(z.string().min(1)),
  weights: z.array(WeightEntrySchema),
});
export type WeightGroup = z.infer<typeof WeightGroupSchema>;

export const ModelJsonSchema = z.looseObject({
  format: z.string().optional(),
  generatedBy: z.string().optional(),
  convertedBy: z.string().nullable().optional(),
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(WeightGroupSchema).optional(),
  signature: z.record(z.string(), z.unknown()).optional(),
  userDefinedMetadata: z.record(z.string(), z.unknown()).optional(),
  modelInitializer: z.record(z.string(), z.unknown()).optional(),
  initializerSignature: z.record(z.string(), z.unknown()).optional(),
  trainingConfig: z.record(z.string(), z.unknown()).optional(),
});
export type ModelJson = z.infer<typeof ModelJsonSchema>;

/** `a.b[2].c` for a zod issue path. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

/** Parses and checks model.json text; `file` names it in errors. Throws IgxError E_MODEL_INVALID. */
export function parseModelJson(text: string, file: string): ModelJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new IgxError('E_MODEL_INVALID', `${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = ModelJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? formatIssuePath(issue.path) : '(top level)';
    throw new IgxError(
      'E_MODEL_INVALID',
      `${file}: field ${where}: ${issue?.message ?? 'invalid'} (expected a TensorFlow.js model.json with modelTopology and weightsManifest)`,
    );
  }
  return parsed.data;
}

/** Whether parsed JSON looks like a TensorFlow.js model (used to pick the model JSON in a folder). */
export function looksLikeModelJson(raw: unknown): boolean {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const o = raw as Record<string, unknown>;
  return (
    (typeof o.modelTopology === 'object' && o.modelTopology !== null) ||
    o.format === 'graph-model' ||
    o.format === 'layers-model'
  );
}

export function detectFormat(json: ModelJson, file: string): ModelFormat {
  const topo = json.modelTopology;
  if (json.format === 'graph-model') return 'graph';
  if (json.format === 'layers-model') return 'layers';
  if (Array.isArray(topo.node)) return 'graph';
  if ('model_config' in topo || 'class_name' in topo || 'config' in topo) return 'layers';
  throw new IgxError(
    'E_MODEL_INVALID',
    `${file}: cannot tell the model format: format is ${json.format === undefined ? 'absent' : JSON.stringify(json.format)} ` +
      `and modelTopology has neither "node" (graph model) nor "class_name"/"model_config" (layers model)`,
  );
}

/** Stored bytes of one weight, or undefined for string weights (their size is in the data). */
export function computeWeightBytes(entry: WeightEntry): number | undefined {
  if (entry.dtype === 'string' && entry.quantization === undefined) return undefined;
  const elements = entry.shape.reduce((a, b) => a * b, 1);
  const dtype = entry.quantization?.dtype ?? entry.dtype;
  const size = BYTES_PER_ELEMENT[dtype];
  return size === undefined ? undefined : elements * size;
}
