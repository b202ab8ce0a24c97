/**
 * The drift use case: two explain runs → config guard → per-image comparison → drift.json, drift.md,
 * drift.junit.xml and panels. Returns data and writes files; never prints (the CLI does).
 */
import { DRIFT_FILES, DRIFT_PANEL_SUFFIX } from '../report/run-layout.js';
import { readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { IgxError } from '../errors.js';
import { IGX_VERSION } from '../package-info.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { buildErrorRow, buildPairs, checkPair, chooseMapSource, compareImage, computeDriftExitCode, computeDriftSummary, computeNoiseKind, defaultThresholds } from './compare.js';
import { buildRunConfig, compareRunConfigs, type GuardedConfig } from './config-guard.js';
import { buildDriftMarkdown, buildDriftPanel, buildJunitXml, DEFAULT_WORST_ROWS, renderDriftPanelPng } from './outputs.js';
import { buildGridMap, readRawMap, readRun, type AttributionMap, type LoadedRun, type RunEntry } from './runs.js';
import { DRIFT_SCHEMA_VERSION, DriftReportSchema, type DriftImage, type DriftReport, type DriftThresholds, type MapChoice, type NoiseKind } from './schema.js';
import { ensureDir } from '../files/ensure-dir.js';

export interface DriftOptions {
  baseline: string;
  current: string;
  /** Output folder; created if missing. */
  out: string;
  thresholds?: Partial<DriftThresholds>;
  map?: MapChoice;
  allowConfigChange?: boolean;
  /** Rows of the worst-images table in drift.md. */
  worstRows?: number;
}

export interface DriftResult {
  report: DriftReport;
  markdown: string;
  /** 0 no drift, 1 an image drifted, 2 an image could not be compared. */
  exitCode: 0 | 1 | 2;
  files: { json: string; markdown: string; junit: string; panels: string[] };
}

export { DRIFT_FILES };

async function readMap(entry: RunEntry, source: 'raw' | 'grid'): Promise<AttributionMap> {
  const report = entry.report!;
  return source === 'raw' ? readRawMap(entry, report) : buildGridMap(report);
}

const isFinite = (m: AttributionMap): boolean => [...m.signed, ...m.magnitude].every((v) => Number.isFinite(v));

/** Panels left by an earlier drift run in the same folder would pass for this run's. */
async function removeOldPanels(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await removeOldPanels(path);
    else if (e.isFile() && e.name.endsWith(DRIFT_PANEL_SUFFIX)) await rm(path, { force: true });
  }
}

/**
 * Caveats: a run whose manifest says it did not finish, and random baselines without raw maps
 * (pooling before |·| lets per-pixel noise cancel into the magnitudes).
 */
export function buildDriftWarnings(noise: NoiseKind, rows: DriftImage[], runs: { which: string; run: LoadedRun }[]): string[] {
  const warnings: string[] = [];
  for (const { which, run } of runs) {
    const status = run.manifest?.status;
    if (status !== undefined && status !== 'finished') warnings.push(`the ${which} run's igx-run.json says it did not finish (status ${status})`);
  }
  const grid = rows.filter((r) => r.map?.source === 'grid').length;
  if (noise === 'random-baselines' && grid > 0) {
    warnings.push(
      `${grid} image(s) with random baselines were compared on the reports' 32×32 grids: seed noise alone can fall below the thresholds there; explain with --save-raw`,
    );
  }
  return warnings;
}

/** drift.json lists the settings a run records; one it does not (null) is left out. */
const recordedOnly = (config: GuardedConfig): Record<string, string> =>
  Object.fromEntries(Object.entries(config).filter((e): e is [string, string] => e[1] !== null));

/** E_DRIFT_CONFIG unless the runs' guarded settings agree or --allow-config-change; the differences. */
function guardConfigs(baseline: LoadedRun, current: LoadedRun, allowConfigChange: boolean | undefined) {
  const b = buildRunConfig(baseline);
  const c = buildRunConfig(current);
  const differences = compareRunConfigs(b.config, c.config);
  if (differences.length > 0 && !allowConfigChange) {
    const list = differences.map((d) => `${d.field}: ${d.baseline} → ${d.current}`).join('; ');
    throw new IgxError(
      'E_DRIFT_CONFIG',
      `the runs were explained with different settings, so their attributions are not comparable (--allow-config-change compares them anyway): ${list}`,
    );
  }
  return { b, c, differences };
}

interface Panel {
  path: string;
  baseline: AttributionMap;
  current: AttributionMap;
}

/** One pair of reports → its row: compared, or an error row saying why it could not be. */
async function comparePair(pair: ReturnType<typeof buildPairs>[number], mapChoice: MapChoice, thresholds: DriftThresholds): Promise<{ row: DriftImage; panel?: Panel }> {
  const problem = checkPair(pair);
  if (problem) return { row: buildErrorRow(pair, problem.code, problem.message) };
  const source = chooseMapSource(pair.baseline!.report!, pair.current!.report!, mapChoice);
  if (typeof source !== 'string') return { row: buildErrorRow(pair, 'E_DRIFT_REPORT', `${pair.key}: ${source.error}`) };
  let bm: AttributionMap;
  let cm: AttributionMap;
  try {
    bm = await readMap(pair.baseline!, source);
    cm = await readMap(pair.current!, source);
  } catch (err) {
    return { row: buildErrorRow(pair, 'E_DRIFT_REPORT', (err as Error).message) };
  }
  if (!isFinite(bm) || !isFinite(cm)) {
    return { row: buildErrorRow(pair, 'E_DRIFT_REPORT', `${pair.key}: the ${isFinite(bm) ? 'current' : 'baseline'} attributions hold NaN or infinite values`) };
  }
  const { row } = compareImage(pair, bm, cm, thresholds);
  if (row.status !== 'drift') return { row };
  row.panel = `${DRIFT_FILES.panels}/${pair.key}${DRIFT_PANEL_SUFFIX}`;
  return { row, panel: { path: row.panel, baseline: bm, current: cm } };
}

/** Panels, JUnit and Markdown, then drift.json last: its presence says the other files are this run's. */
async function writeDriftFiles(out: string, report: DriftReport, markdown: string, panels: Panel[]): Promise<DriftResult['files']> {
  const files = {
    json: join(out, DRIFT_FILES.json),
    markdown: join(out, DRIFT_FILES.markdown),
    junit: join(out, DRIFT_FILES.junit),
    panels: panels.map((p) => join(out, ...p.path.split('/'))),
  };
  await ensureDir(out).catch((err: NodeJS.ErrnoException) => {
    throw new IgxError('E_WRITE', `--out ${out}: cannot create the folder (${err.code ?? err.message})`);
  });
  await removeOldPanels(join(out, DRIFT_FILES.panels));
  for (const [i, p] of panels.entries()) {
    const file = files.panels[i]!;
    await ensureDir(dirname(file)).catch((err: NodeJS.ErrnoException) => {
      throw new IgxError('E_WRITE', `${dirname(file)}: cannot create the folder (${err.code ?? err.message})`);
    });
    await writeFileAtomic(file, await renderDriftPanelPng(buildDriftPanel(p.baseline, p.current)));
  }
  await writeFileAtomic(files.junit, buildJunitXml(report));
  await writeFileAtomic(files.markdown, markdown);
  await writeFileAtomic(files.json, `${JSON.stringify(report, null, 2)}\n`);
  return files;
}

export async function runDrift(options: DriftOptions): Promise<DriftResult> {
  const mapChoice = options.map ?? 'auto';
  const baseline = await readRun(options.baseline);
  const current = await readRun(options.current);
  const noise = computeNoiseKind([baseline, current]);
  const given = Object.fromEntries(Object.entries(options.thresholds ?? {}).filter(([, v]) => v !== undefined));
  const thresholds: DriftThresholds = { ...defaultThresholds(noise), ...given };
  const { b, c, differences } = guardConfigs(baseline, current, options.allowConfigChange);

  const rows: DriftImage[] = [];
  const panels: Panel[] = [];
  for (const pair of buildPairs(baseline, current)) {
    const { row, panel } = await comparePair(pair, mapChoice, thresholds);
    rows.push(row);
    if (panel) panels.push(panel);
  }

  const report: DriftReport = DriftReportSchema.parse({
    schemaVersion: DRIFT_SCHEMA_VERSION,
    igxVersion: IGX_VERSION,
    baseline: { path: options.baseline, reports: baseline.entries.length, configSource: b.source, config: recordedOnly(b.config) },
    current: { path: options.current, reports: current.entries.length, configSource: c.source, config: recordedOnly(c.config) },
    noise,
    thresholds,
    mapChoice,
    warnings: buildDriftWarnings(noise, rows, [{ which: 'baseline', run: baseline }, { which: 'current', run: current }]),
    configDifferences: differences,
    summary: computeDriftSummary(rows),
    images: rows,
  } satisfies DriftReport);
  const markdown = buildDriftMarkdown(report, options.worstRows ?? DEFAULT_WORST_ROWS);
  const files = await writeDriftFiles(options.out, report, markdown, panels);
  return { report, markdown, exitCode: computeDriftExitCode(report.summary), files };
}
