/**
 * `--config FILE` and `igx.config.json` in the working directory: the explain flags as JSON, merged under
 * the command line's flags. Keys are the flags in camelCase (`maxSteps`, `outputSpace`); unknown keys are
 * errors; every error names the file and the key.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { IgxError } from '../errors.js';
import { readRegularFile } from '../files/read-regular-file.js';
import { checkExplainFlags, type RawExplainFlags } from './explain-config.js';

export const CONFIG_FILE_NAME = 'igx.config.json';

/** The largest config file igx reads (16 MiB): 256 baselines with long paths are well under 2 MiB. */
export const MAX_CONFIG_BYTES = 2 ** 24;

const text = z.string();
const num = z.number();
const numOrText = z.union([num, text]).transform(String);
const list = z.union([z.array(num), text]).transform((v) => (Array.isArray(v) ? v.join(',') : v));

const ConfigFileSchema = z.strictObject({
  model: text.optional(),
  signature: text.optional(),
  layer: text.optional(),
  path: text.optional(),
  maxSigma: numOrText.optional(),
  smooth: numOrText.optional(),
  noise: numOrText.optional(),
  smoothKind: text.optional(),
  baselineDir: text.optional(),
  mask: z.boolean().optional(),
  blur: numOrText.optional(),
  threshold: numOrText.optional(),
  panel: z.boolean().optional(),
  html: z.boolean().optional(),
  tags: z.union([text, z.array(text)]).transform((v) => (Array.isArray(v) ? v.join(',') : v)).optional(),
  input: text.optional(),
  output: numOrText.optional(),
  outputSpace: text.optional(),
  target: numOrText.optional(),
  method: text.optional(),
  steps: numOrText.optional(),
  tolerance: numOrText.optional(),
  mapTolerance: numOrText.optional(),
  maxSteps: numOrText.optional(),
  baseline: z.union([text, z.array(text)]).transform((v) => (Array.isArray(v) ? v : [v])).optional(),
  baselineSamples: numOrText.optional(),
  seed: numOrText.optional(),
  batchSize: numOrText.optional(),
  preprocess: text.optional(),
  mean: list.optional(),
  std: list.optional(),
  resize: text.optional(),
  polarity: text.optional(),
  clipPercentile: numOrText.optional(),
  out: text.optional(),
  saveRaw: z.boolean().optional(),
  backend: text.optional(),
  failOnCompleteness: z.boolean().optional(),
  maxPixels: numOrText.optional(),
  workers: numOrText.optional(),
  maxMemory: numOrText.optional(),
});

/** Reads the config file named by --config, else ./igx.config.json if present; undefined if neither. */
export async function readConfigFile(path: string | undefined, cwd: string = process.cwd()): Promise<{ file: string; flags: RawExplainFlags } | undefined> {
  const file = path ?? join(cwd, CONFIG_FILE_NAME);
  if (path === undefined && !existsSync(file)) return undefined;
  // Only a regular file, and only up to a bound: readFile blocked for ever on a FIFO and read
  // /dev/urandom until the process held a gigabyte (hostile-input suite, issue 16).
  const raw = (await readRegularFile(file, { maxBytes: MAX_CONFIG_BYTES, code: 'E_CONFIG', what: 'config file' })).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new IgxError('E_CONFIG', `${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = ConfigFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw new IgxError('E_CONFIG', `${file}: unknown key ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`);
    const where = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new IgxError('E_CONFIG', `${file}: ${where}: ${issue.message}`);
  }
  const flags = parsed.data as RawExplainFlags;
  checkExplainFlags(flags, (key) => `${file}: ${key}`, 'E_CONFIG');
  return { file, flags };
}

/** Flags given on the command line win over the file's. */
export function mergeExplainFlags(fromFile: RawExplainFlags | undefined, fromFlags: RawExplainFlags): RawExplainFlags {
  const given = Object.fromEntries(Object.entries(fromFlags).filter(([, v]) => v !== undefined));
  return { ...(fromFile ?? {}), ...given };
}
