/**
 * The config guard: attributions are only comparable when both runs explained the same thing the same
 * way. Each guarded field is rendered as text, per run, and the texts compared. The fields cover the
 * settings of role 'attribution' in config/run-settings.ts, no more and no fewer (tested); the others
 * do not change what is attributed.
 */
import type { AttributionSetting } from '../config/run-settings.js';
import type { LoadedRun, Report, RunManifest } from './runs.js';

type ManifestConfig = RunManifest['config'];

/** One line of the guard: how the settings it covers read in a report and in igx-run.json. */
interface GuardField {
  /** The run settings (config/run-settings.ts) this field covers. */
  settings: readonly AttributionSetting[];
  /** From one report; null where reports do not record it (then only manifests are compared). */
  fromReport: (report: Report) => string | null;
  /** From igx-run.json as the user gave it; undefined keeps the reports' value. */
  fromManifest?: (config: ManifestConfig, fromReports: string | null) => string | undefined;
}

const formatSmoothing = (s: { kind: string; samples: number; sigma: number } | null | undefined): string =>
  s == null ? 'none' : `${s.kind} ×${s.samples}, noise ${s.sigma}`;

/**
 * The guarded fields, in the order they are listed. Together they cover every setting of role
 * 'attribution' in RUN_SETTINGS (a test holds the two lists together).
 */
export const GUARD = {
  method: { settings: ['method'], fromReport: (r) => r.method, fromManifest: (c) => c.method },
  path: { settings: ['path'], fromReport: (r) => r.path?.kind ?? 'straight', fromManifest: (c) => c.path },
  'max sigma': {
    settings: ['maxSigma'],
    fromReport: (r) => (r.path?.kind === 'blur' ? String(r.path.maxSigma) : 'n/a'),
    fromManifest: (c) => (c.path === undefined ? undefined : c.path === 'blur' ? String(c.maxSigma) : 'n/a'),
  },
  smoothing: { settings: ['smooth'], fromReport: (r) => formatSmoothing(r.smoothing), fromManifest: (c) => (c.path === undefined ? undefined : formatSmoothing(c.smooth)) },
  layer: { settings: ['layer'], fromReport: (r) => r.layer?.name ?? 'none', fromManifest: (c) => (c.path === undefined ? undefined : (c.layer ?? 'none')) },
  steps: {
    settings: ['steps', 'tolerance', 'mapTolerance', 'maxSteps'],
    fromReport: (r) => (r.adaptive ? formatAdaptive(r.adaptive) : String(r.steps)),
    fromManifest: (c) => (typeof c.steps === 'number' ? String(c.steps) : c.tolerance !== undefined && c.maxSteps !== undefined ? formatAdaptive({ tolerance: c.tolerance, mapTolerance: c.mapTolerance, maxSteps: c.maxSteps }) : undefined),
  },
  baselines: {
    settings: ['baselines', 'baselineSamples', 'baselineDir'],
    fromReport: (r) => formatBaselines(r.baselines.map((b) => b.spec)),
    fromManifest: (c) => {
      if (c.baselines === undefined) return undefined;
      const samples = c.baselineSamples ?? 1;
      return formatBaselines(c.baselines.flatMap((s) => Array<string>(RANDOM_SPEC.test(s) ? samples : 1).fill(s)));
    },
  },
  target: { settings: ['target'], fromReport: formatTarget, fromManifest: (c) => (c.target === undefined ? undefined : /^\d+$/.test(c.target) ? c.target : c.target.trim().toLowerCase()) },
  // Preprocessing, resize and output space stay the reports': the manifest may leave them to the
  // model's igx.json, and the reports hold what was actually used.
  preprocess: { settings: ['preprocess'], fromReport: (r) => `mean ${formatNumbers(r.preprocess.mean)} std ${formatNumbers(r.preprocess.std)}` },
  resize: { settings: ['resize'], fromReport: (r) => r.preprocess.resize },
  'output space': { settings: ['outputSpace'], fromReport: (r) => r.model.output.space },
  // As given (--output): the resolved name may change with the model version (Keras numbers its layers).
  output: { settings: ['output'], fromReport: () => null, fromManifest: (c) => (c.output === undefined ? 'default (the last)' : String(c.output)) },
  signature: {
    settings: ['signature', 'tags', 'input'],
    fromReport: () => null,
    fromManifest: (c) => `${c.signature ?? 'default'}, tags ${(c.tags ?? ['default']).join(',')}, input ${c.input ?? 'default'}`,
  },
} as const satisfies Record<string, GuardField>;

export type GuardedField = keyof typeof GUARD;
export const GUARDED_FIELDS = Object.keys(GUARD) as GuardedField[];
/** Each field's value; null where the run does not record it. */
export type GuardedConfig = Record<GuardedField, string | null>;

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

const formatAdaptive = (a: { tolerance: number; mapTolerance?: number | null; maxSteps: number }): string =>
  `adaptive (tolerance ${a.tolerance}${a.mapTolerance == null ? '' : `, map ${a.mapTolerance}`}, max ${a.maxSteps})`;

const formatNumbers = (l: number[]): string => `[${l.join(', ')}]`;

function formatTarget(report: Report): string {
  const t = report.target;
  if (t.rule === 'top') return 'top';
  if (t.rule === 'difference') return `${t.index}-${t.minus?.index ?? '?'}`;
  if (t.rule === 'label') return (t.label ?? String(t.index)).toLowerCase();
  return String(t.index);
}

/** The guarded settings one report was made with. */
export function buildReportConfig(report: Report): GuardedConfig {
  return Object.fromEntries(GUARDED_FIELDS.map((f) => [f, GUARD[f].fromReport(report)])) as GuardedConfig;
}

/** igx-run.json's settings as the user gave them (a target label stays a label even if the class order changed), over the reports'. */
export function buildManifestConfig(manifest: Pick<RunManifest, 'config'>, fromReports: GuardedConfig): GuardedConfig {
  const out = { ...fromReports };
  for (const f of GUARDED_FIELDS) {
    const field: GuardField = GUARD[f];
    const value = field.fromManifest?.(manifest.config, fromReports[f]);
    if (value !== undefined) out[f] = value;
  }
  return out;
}

/** A run's guarded settings: each field's distinct values over its reports, joined by " | ". */
export function buildRunConfig(run: LoadedRun): { config: GuardedConfig; source: 'igx-run.json' | 'reports' } {
  const values = new Map<GuardedField, (string | null)[]>(GUARDED_FIELDS.map((f) => [f, []]));
  for (const e of run.entries) {
    if (e.report === null) continue;
    const c = buildReportConfig(e.report);
    for (const f of GUARDED_FIELDS) {
      const seen = values.get(f)!;
      if (!seen.includes(c[f])) seen.push(c[f]);
    }
  }
  const join = (seen: (string | null)[]): string | null => (seen.includes(null) ? null : seen.join(' | '));
  const fromReports = Object.fromEntries(GUARDED_FIELDS.map((f) => [f, join(values.get(f)!)])) as GuardedConfig;
  return run.manifest ? { config: buildManifestConfig(run.manifest, fromReports), source: 'igx-run.json' } : { config: fromReports, source: 'reports' };
}

/** The fields whose values differ; a field one run does not record is not compared. */
export function compareRunConfigs(baseline: GuardedConfig, current: GuardedConfig): ConfigDifference[] {
  return GUARDED_FIELDS.flatMap((f) => {
    const [b, c] = [baseline[f], current[f]];
    return b === null || c === null || b === c ? [] : [{ field: f, baseline: b, current: c }];
  });
}
