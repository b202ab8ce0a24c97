import { createHash } from 'node:crypto';
import type { ExplainConfig } from './explain-config.js';

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
 * The settings that decide an image's outputs, with the model's identity. Where files go, how many workers
 * and which backend run it, and how progress is shown do not change what is computed, so they stay out:
 * a resumed or sharded run with other such settings still reuses finished images.
 */
export function buildOutcomeConfig(config: ExplainConfig, modelSha256: string): Record<string, unknown> {
  return {
    modelSha256,
    signature: config.signature,
    tags: config.tags,
    input: config.input,
    output: config.output,
    outputSpace: config.outputSpace,
    target: config.target,
    method: config.method,
    path: config.path,
    layer: config.layer,
    maxSigma: config.path === 'blur' ? config.maxSigma : undefined,
    smooth: config.smooth,
    baselineDir: config.baselineDir,
    mask: config.mask,
    panel: config.panel,
    steps: config.steps ?? null,
    tolerance: config.tolerance,
    maxSteps: config.maxSteps,
    baselines: config.baselines,
    baselineSamples: config.baselineSamples,
    seed: config.seed,
    preprocess: config.preprocess ?? null,
    resize: config.resize ?? null,
    polarity: config.polarity,
    clipPercentile: config.clipPercentile,
    saveRaw: config.saveRaw,
    maxPixels: config.maxPixels,
  };
}

export function computeConfigHash(config: ExplainConfig, modelSha256: string): string {
  return createHash('sha256').update(stringifyCanonical(buildOutcomeConfig(config, modelSha256))).digest('hex');
}
