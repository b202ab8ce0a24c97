import { createHash } from 'node:crypto';
import type { ExplainConfig } from './explain-config.js';
import { HASHED_SETTINGS, type RunSetting } from './run-settings.js';

/** JSON with object keys sorted, so equal values always give equal text. */
export function stringifyCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stringifyCanonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stringifyCanonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * How a hashed setting enters the hash, where not as it is: the model by its sha256 (not its path), the
 * blur sigma only where the path blurs, and open values as null. (Kept as the hash always read them, so
 * `--resume` still recognises runs of earlier versions.)
 */
const HASH_VALUES: Partial<Record<RunSetting, (config: ExplainConfig) => unknown>> = {
  model: () => undefined,
  maxSigma: (c) => (c.path === 'blur' ? c.maxSigma : undefined),
  steps: (c) => c.steps ?? null,
  preprocess: (c) => c.preprocess ?? null,
  resize: (c) => c.resize ?? null,
};

/**
 * The settings that decide an image's outputs (RUN_SETTINGS: all but execution), with the model's
 * identity: a resumed or sharded run with other execution settings still reuses finished images.
 */
export function buildOutcomeConfig(config: ExplainConfig, modelSha256: string): Record<string, unknown> {
  const entries = HASHED_SETTINGS.map((k) => [k, (HASH_VALUES[k] ?? ((c: ExplainConfig) => c[k]))(config)] as const);
  return { modelSha256, ...Object.fromEntries(entries) };
}

export function computeConfigHash(config: ExplainConfig, modelSha256: string): string {
  return createHash('sha256').update(stringifyCanonical(buildOutcomeConfig(config, modelSha256))).digest('hex');
}
