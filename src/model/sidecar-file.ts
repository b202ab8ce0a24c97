/**
 * Reads the optional `igx.json` beside a model and the labels it names. Every problem is an IgxError
 * E_CONFIG naming the file and the field.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { PRESETS } from '../image/preprocess.js';
import { SidecarSchema, type Sidecar } from './sidecar.js';
import { IgxError } from '../errors.js';
import { readRegularFile } from '../files/read-regular-file.js';
import { isInside } from './io-handler.js';
import { formatIssuePath } from './model-json.js';

export const SIDECAR_FILE = 'igx.json';

/** The largest igx.json or labels file igx reads (16 MiB). */
const MAX_SIDECAR_BYTES = 2 ** 24;

export interface SidecarFile {
  path: string;
  sidecar: Sidecar;
  /** The labels, read from the file the sidecar names or given inline. */
  labels?: string[];
}

/** What a field takes, for zod's terse union messages. */
const FIELD_HINTS: Record<string, string> = {
  preprocess: `one of ${PRESETS.map((p) => JSON.stringify(p)).join(', ')}, or {"mean": [...], "std": [...]}`,
  labels: 'a list of class names, or a path (relative to the model folder) to a JSON list of them',
  output: 'an output name or a non-negative output index',
};

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    // JSON.parse reads deeper nesting than JSON.stringify can write back (a 100k-deep array).
    text = Array.isArray(value) ? '[…]' : typeof value === 'object' ? '{…}' : String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** Parses sidecar text; `file` names it in errors. */
export function parseSidecar(text: string, file: string): Sidecar {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new IgxError('E_CONFIG', `${file}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
  const parsed = SidecarSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue === undefined) throw new IgxError('E_CONFIG', `${file}: invalid sidecar`);
    if (issue.code === 'unrecognized_keys') {
      const known = Object.keys(SidecarSchema.shape).join(', ');
      throw new IgxError('E_CONFIG', `${file}: unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (known fields: ${known})`);
    }
    const field = issue.path[0];
    const hint = issue.code === 'invalid_union' && typeof field === 'string' && issue.path.length === 1 ? FIELD_HINTS[field] : undefined;
    throw new IgxError(
      'E_CONFIG',
      `${file}: field ${formatIssuePath(issue.path)}: ${hint === undefined ? issue.message : `expected ${hint}`}; found ${describeValue(valueAt(raw, issue.path))}`,
    );
  }
  return parsed.data;
}

async function readLabelsFile(modelDir: string, given: string, sidecarPath: string): Promise<string[]> {
  const fail = (why: string, cause?: unknown): never => {
    throw new IgxError('E_CONFIG', `${sidecarPath}: field labels: ${JSON.stringify(given)} ${why}`, { cause });
  };
  if (isAbsolute(given)) fail('must be a path relative to the model folder');
  const file = resolve(modelDir, given);
  if (!isInside(modelDir, file)) fail(`resolves outside the model folder ${modelDir}`);
  try {
    if (!isInside(await realpath(modelDir), await realpath(file))) fail(`links outside the model folder ${modelDir}`);
  } catch (err) {
    if (err instanceof IgxError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    fail(code === 'ENOENT' ? `names no file (${file})` : `cannot be read (${code ?? (err as Error).message})`, err);
  }
  const text = (await readRegularFile(file, { maxBytes: MAX_SIDECAR_BYTES, code: 'E_CONFIG', what: 'labels file' })).toString('utf8');
  if (!given.toLowerCase().endsWith('.json')) {
    // One label per line.
    const lines = text.split(/\r?\n/);
    while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop();
    return lines;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    fail(`is not valid JSON (${(err as Error).message})`, err);
  }
  if (!Array.isArray(raw) || !raw.every((x) => typeof x === 'string')) {
    fail(`must hold a JSON list of strings; found ${Array.isArray(raw) ? 'a list with non-strings' : typeof raw}`);
  }
  return raw as string[];
}

/** The sidecar of a model folder, or undefined when it has none. */
export async function readSidecarFile(modelDir: string): Promise<SidecarFile | undefined> {
  const path = join(modelDir, SIDECAR_FILE);
  let text: string;
  try {
    text = (await readRegularFile(path, { maxBytes: MAX_SIDECAR_BYTES, code: 'E_CONFIG', what: 'sidecar' })).toString('utf8');
  } catch (err) {
    if ((err as IgxError).cause !== undefined && ((err as IgxError).cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const sidecar = parseSidecar(text, path);
  if (sidecar.labels === undefined) return { path, sidecar };
  const labels = typeof sidecar.labels === 'string' ? await readLabelsFile(modelDir, sidecar.labels, path) : sidecar.labels;
  if (labels.length === 0) throw new IgxError('E_CONFIG', `${path}: field labels: the label list is empty`);
  return { path, sidecar, labels };
}
