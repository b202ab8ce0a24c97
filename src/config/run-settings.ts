/**
 * What defines a run: every explain setting, once, with its bearing on the outputs. The config hash
 * (`--resume`, `igx merge`), the drift guard and the drift reader all derive from this table, and
 * TypeScript refuses an ExplainConfig field that is not in it.
 */
import type { ExplainConfig } from './explain-config.js';

export const SETTING_ROLES = ['model', 'attribution', 'sampling', 'rendering', 'execution'] as const;
/**
 * - model: the model under test, hashed by its sha256; what drift compares, so never guarded.
 * - attribution: changes the attributions; hashed and guarded by drift.
 * - sampling: changes random draws only (random baselines, SmoothGrad noise); hashed, not guarded: drift's
 *   thresholds for random baselines allow for that noise.
 * - rendering: changes files beside the attributions, not the attributions; hashed, not guarded.
 * - execution: where and how the work runs; neither (results are byte-identical across them, tested).
 */
export type SettingRole = (typeof SETTING_ROLES)[number];

export const RUN_SETTINGS = {
  model: 'model',
  signature: 'attribution',
  tags: 'attribution',
  input: 'attribution',
  output: 'attribution',
  outputSpace: 'attribution',
  target: 'attribution',
  method: 'attribution',
  path: 'attribution',
  maxSigma: 'attribution',
  smooth: 'attribution',
  layer: 'attribution',
  steps: 'attribution',
  tolerance: 'attribution',
  mapTolerance: 'attribution',
  maxSteps: 'attribution',
  baselines: 'attribution',
  baselineSamples: 'attribution',
  baselineDir: 'attribution',
  preprocess: 'attribution',
  resize: 'attribution',
  seed: 'sampling',
  mask: 'rendering',
  panel: 'rendering',
  polarity: 'rendering',
  clipPercentile: 'rendering',
  saveRaw: 'rendering',
  maxPixels: 'rendering',
  html: 'execution',
  out: 'execution',
  backend: 'execution',
  workers: 'execution',
  batchSize: 'execution',
  maxMemoryBytes: 'execution',
  failOnCompleteness: 'execution',
  allowEmpty: 'execution',
} as const satisfies Record<keyof ExplainConfig, SettingRole>;

export type RunSetting = keyof typeof RUN_SETTINGS;
export type SettingsWithRole<R extends SettingRole> = { [K in RunSetting]: (typeof RUN_SETTINGS)[K] extends R ? K : never }[RunSetting];
/** The settings drift must guard. */
export type AttributionSetting = SettingsWithRole<'attribution'>;

export const settingsWithRole = <R extends SettingRole>(role: R): SettingsWithRole<R>[] =>
  (Object.keys(RUN_SETTINGS) as RunSetting[]).filter((k): k is SettingsWithRole<R> => RUN_SETTINGS[k] === role);

/** Settings that go into the config hash: all but execution. */
export const HASHED_SETTINGS: readonly RunSetting[] = (Object.keys(RUN_SETTINGS) as RunSetting[]).filter((k) => RUN_SETTINGS[k] !== 'execution');
