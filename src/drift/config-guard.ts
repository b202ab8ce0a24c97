/**
 * The config guard: attributions are only comparable when both runs explained the same thing the same
 * way. Each guarded setting is rendered as text, per run, and the texts compared. Seed, batch size,
 * backend and heatmap display settings are not guarded: they do not change what is attributed (the
 * seed changes random baselines' draws, which is noise the thresholds allow for).
 */
import type { LoadedRun, Report, RunManifest } from './runs.js';

/** Guarded settings, in the order they are listed. */
export const GUARDED_FIELDS = ['method', 'steps', 'baselines', 'target', 'preprocess', 'resize', 'output space'] as const;
export type GuardedField = (typeof GUARDED_FIELDS)[number];
export type GuardedConfig = Record<GuardedField, string>;

export interface ConfigDifference {
  field: string;
  baseline: string;
  current: string;
}

const RANDOM_SPEC = /^\s*(uniform|gaussian)(\s*$|:)/;

/** Consecutive equal specs collapse: [gaussian, gaussian, black] → "gaussian ×2, black". */
export function formatBaselines(specs: string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < specs.length; ) {
    let j = i + 1;
    while (j < specs.length && specs[j] === specs[i]) j += 1;
    parts.push(j - i > 1 ? `${specs[i]} ×${j - i}` : String(specs[i]));
    i = j;
  }
  return parts.join(', ');
}

const formatSteps = (steps: number | null, tolerance: number, maxSteps: number): string =>
  steps === null ? `adaptive (tolerance ${tolerance}, max ${maxSteps})` : String(steps);

const formatNumbers = (l: number[]): string => `[${l.join(', ')}]`;

/** The guarded settings one report was made with. */
export function buildReportConfig(report: Report): GuardedConfig {
  const t = report.target;
  const target =
    t.rule === 'top' ? 'top'
    : t.rule === 'difference' ? `${t.index}-${t.minus?.index ?? '?'}`
    : t.rule === 'label' ? (t.label ?? String(t.index)).toLowerCase()
    : String(t.index);
  return {
    method: report.method,
    steps: report.adaptive ? formatSteps(null, report.adaptive.tolerance, report.adaptive.maxSteps) : String(report.steps),
    baselines: formatBaselines(report.baselines.map((b) => b.spec)),
    target,
    preprocess: `mean ${formatNumbers(report.preprocess.mean)} std ${formatNumbers(report.preprocess.std)}`,
    resize: report.preprocess.resize,
    'output space': report.model.output.space,
  };
}

/**
 * Overrides from igx-run.json for the settings as the user gave them (a target label stays a label
 * even if the class order changed). Preprocessing, resize and output space stay the reports': the
 * manifest may leave them to the model's igx.json, and the reports hold what was actually used.
 */
export function buildManifestConfig(manifest: RunManifest, fromReports: GuardedConfig): GuardedConfig {
  const c = manifest.config;
  const out = { ...fromReports };
  if (c.method !== undefined) out.method = c.method;
  if (typeof c.steps === 'number') out.steps = String(c.steps);
  else if (c.tolerance !== undefined && c.maxSteps !== undefined) out.steps = formatSteps(null, c.tolerance, c.maxSteps);
  if (c.baselines !== undefined) {
    const samples = c.baselineSamples ?? 1;
    out.baselines = formatBaselines(c.baselines.flatMap((s) => Array<string>(RANDOM_SPEC.test(s) ? samples : 1).fill(s)));
  }
  if (c.target !== undefined) out.target = /^\d+$/.test(c.target) ? c.target : c.target.trim().toLowerCase();
  return out;
}

/** A run's guarded settings: each field's distinct values over its reports, joined by " | ". */
export function buildRunConfig(run: LoadedRun): { config: GuardedConfig; source: 'igx-run.json' | 'reports' } {
  const values = new Map<GuardedField, string[]>(GUARDED_FIELDS.map((f) => [f, []]));
  for (const e of run.entries) {
    if (e.report === null) continue;
    const c = buildReportConfig(e.report);
    for (const f of GUARDED_FIELDS) {
      const seen = values.get(f)!;
      if (!seen.includes(c[f])) seen.push(c[f]);
    }
  }
  const fromReports = Object.fromEntries(GUARDED_FIELDS.map((f) => [f, values.get(f)!.join(' | ')])) as GuardedConfig;
  return run.manifest ? { config: buildManifestConfig(run.manifest, fromReports), source: 'igx-run.json' } : { config: fromReports, source: 'reports' };
}

export function compareRunConfigs(baseline: GuardedConfig, current: GuardedConfig): ConfigDifference[] {
  return GUARDED_FIELDS.filter((f) => baseline[f] !== current[f]).map((f) => ({ field: f, baseline: baseline[f], current: current[f] }));
}
