/**
 * An `igx explain` output folder as drift sees it: every `*.ig.json` under it (at any depth, so both
 * the flat layout and one that mirrors the input tree work), keyed by its path relative to the folder,
 * and the explain settings the config guard compares — from `igx-run.json` when the run has one.
 */
import { REPORT_SUFFIX, RUN_FILES, stripReportSuffix } from '../report/run-layout.js';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';
import { computeAttributionGrid, computeChannelSum } from '../numeric/attribution-summary.js';
import { IgxError } from '../errors.js';
import { REPORT_SCHEMA_VERSION } from '../report/schema.js';
import type { ComparedGrids } from './metrics.js';
import { decodeNpy } from '../report/npy.js';
import type { MapSource } from './schema.js';

export { REPORT_SUFFIX };

const ClassScore = z.looseObject({ index: z.number().int().nonnegative(), label: z.string().nullable(), score: z.number() });

/**
 * The fields of a `*.ig.json` report (src/report/schema.ts) that drift reads, and only those: the
 * baseline run is often an artifact of an older igx, so fields added since must not make it unusable.
 * A report of another schemaVersion is refused, since its fields may mean something else.
 */
export const DriftInputReportSchema = z.looseObject({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  model: z.looseObject({ sha256: z.string(), output: z.looseObject({ space: z.string() }) }),
  image: z.looseObject({ path: z.string(), sha256: z.string() }),
  preprocess: z.looseObject({ mean: z.array(z.number()), std: z.array(z.number()), resize: z.string() }),
  prediction: ClassScore,
  target: z.looseObject({
    rule: z.string(),
    index: z.number().int().nonnegative(),
    label: z.string().nullable(),
    score: z.number(),
    minus: ClassScore.nullable(),
  }),
  method: z.string(),
  // Reports of igx versions before Blur/Guided IG, SmoothGrad and layer IG lack these: straight IG, none.
  path: z.looseObject({ kind: z.string(), maxSigma: z.number().nullable() }).optional(),
  smoothing: z.looseObject({ kind: z.string(), samples: z.number().int(), sigma: z.number() }).nullable().optional(),
  layer: z.looseObject({ name: z.string() }).nullable().optional(),
  steps: z.number().int().positive(),
  // mapTolerance: reports before --map-tolerance lack it (completeness only).
  adaptive: z.looseObject({ tolerance: z.number(), mapTolerance: z.number().nullable().optional(), maxSteps: z.number().int() }).nullable(),
  baselines: z.array(z.looseObject({ kind: z.string(), spec: z.string(), sample: z.number().int().nonnegative() })),
  attribution: z.looseObject({
    shape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
    grid: z.looseObject({ size: z.number().int().positive(), values: z.array(z.number()) }),
  }),
  outputs: z.looseObject({ raw: z.string().nullable() }),
});
export type Report = z.infer<typeof DriftInputReportSchema>;
export const RUN_MANIFEST = RUN_FILES.manifest;

export interface RunEntry {
  /** The report's path relative to the run folder, / separated, without `.ig.json`. */
  key: string;
  /** The report file relative to the run folder, / separated. */
  reportPath: string;
  /** Absolute folder of the report (its outputs are named relative to it). */
  dir: string;
  report: Report | null;
  /** Why the report is unusable, when it is. */
  error: { code: 'E_DRIFT_REPORT'; message: string } | null;
}

export interface LoadedRun {
  /** As given. */
  path: string;
  entries: RunEntry[];
  manifest: RunManifest | null;
}

/**
 * The part of igx-run.json (src/report/manifest.ts) drift reads: the normalised explain config
 * (ExplainConfig) for the guard, the run's status, and the rows that say why an input has no report.
 * Other fields may come and go; a config field left out (undefined in ExplainConfig) falls back to
 * the reports.
 */
export const RunManifestSchema = z.looseObject({
  status: z.string().optional(),
  config: z.looseObject({
    method: z.string().optional(),
    steps: z.number().int().positive().nullable().optional(),
    tolerance: z.number().optional(),
    mapTolerance: z.number().optional(),
    maxSteps: z.number().int().positive().optional(),
    baselines: z.array(z.string()).optional(),
    baselineSamples: z.number().int().positive().optional(),
    target: z.string().optional(),
    path: z.string().optional(),
    maxSigma: z.number().optional(),
    smooth: z.looseObject({ samples: z.number().int(), sigma: z.number(), kind: z.string() }).optional(),
    layer: z.string().optional(),
    output: z.union([z.string(), z.number()]).optional(),
    signature: z.string().optional(),
    tags: z.array(z.string()).optional(),
    input: z.string().optional(),
  }),
  rows: z
    .array(
      z.looseObject({
        relPath: z.string(),
        status: z.string(),
        error: z.looseObject({ code: z.string(), message: z.string() }).nullable().optional(),
      }),
    )
    .optional(),
});
export type RunManifest = z.infer<typeof RunManifestSchema>;

const toPosix = (p: string): string => p.split(sep).join('/');

/** Report files under `root`, relative and / separated, sorted. Symbolic links are not followed. */
export async function findReportFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      // Hidden names are writeFileAtomic's temporary files.
      else if (e.isFile() && e.name.endsWith(REPORT_SUFFIX) && !e.name.startsWith('.')) found.push(toPosix(relative(root, path)));
    }
  };
  await walk(root);
  return found.sort();
}

/** Why the run has no report for `key` (an input path without its extension), if its manifest says. */
export function findManifestFailure(manifest: RunManifest | null, key: string): string | null {
  const row = manifest?.rows?.find((r) => r.status === 'failed' && r.relPath.replace(/\.[^./]*$/, '') === key);
  if (!row) return null;
  return row.error ? `${row.error.code}: ${row.error.message}` : 'failed';
}

export async function readRunManifest(root: string): Promise<RunManifest | null> {
  let text: string;
  try {
    text = await readFile(join(root, RUN_MANIFEST), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new IgxError('E_DRIFT_RUN', `${join(root, RUN_MANIFEST)}: cannot read it (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new IgxError('E_DRIFT_RUN', `${join(root, RUN_MANIFEST)}: not JSON (${(err as Error).message})`);
  }
  const parsed = RunManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new IgxError('E_DRIFT_RUN', `${join(root, RUN_MANIFEST)}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** One report file → an entry; an unreadable or invalid report becomes an entry with an error. */
export async function readRunEntry(root: string, reportPath: string): Promise<RunEntry> {
  const file = join(root, ...reportPath.split('/'));
  const key = stripReportSuffix(reportPath);
  const dir = join(file, '..');
  const fail = (message: string): RunEntry => ({ key, reportPath, dir, report: null, error: { code: 'E_DRIFT_REPORT', message } });
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    return fail(`${reportPath}: cannot read the report (${(err as Error).message})`);
  }
  const parsed = DriftInputReportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail(`${reportPath}: not a valid igx report (${issue.path.join('.') || '(root)'}: ${issue.message})`);
  }
  return { key, reportPath, dir, report: parsed.data, error: null };
}

/** Throws E_DRIFT_RUN when the folder is missing or holds no reports: nothing there to compare. */
export async function readRun(path: string): Promise<LoadedRun> {
  let isDir = false;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw new IgxError('E_DRIFT_RUN', `${path}: no such run folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (!isDir) throw new IgxError('E_DRIFT_RUN', `${path}: not a folder; expected an igx explain output folder`);
  const files = await findReportFiles(path);
  if (files.length === 0) throw new IgxError('E_DRIFT_RUN', `${path}: no *${REPORT_SUFFIX} reports in it; is it an igx explain output folder?`);
  const manifest = await readRunManifest(path);
  const entries: RunEntry[] = [];
  for (const f of files) entries.push(await readRunEntry(path, f));
  return { path, entries, manifest };
}

/** Cells per side of the compared grids: the reports' grid size. */
export const GRID_SIZE = 32;

/** The grids drift compares for one image (metrics.ts), and what they were made from. */
export interface AttributionMap extends ComparedGrids {
  source: MapSource;
  signed: Float64Array;
  magnitude: Float64Array;
}

/**
 * From the report alone: G is its 32 × 32 grid; A is |G|. Pooling before taking magnitudes lets
 * opposite signs in a cell cancel, so with random baselines A is noisier than from raw attributions.
 */
export function buildGridMap(report: Report): AttributionMap {
  const { size, values } = report.attribution.grid;
  if (values.length !== size * size) throw new Error(`the grid has ${values.length} values, expected ${size}×${size}`);
  const signed = Float64Array.from(values);
  return { source: 'grid', size, signed, magnitude: signed.map(Math.abs) };
}

/**
 * From the .ig.npy: G is the attributions summed over channels and area-pooled to 32 × 32 (the same
 * numbers as the report's grid); A is |channel sum| area-pooled, so per-pixel sign noise adds up
 * instead of cancelling.
 */
export async function readRawMap(entry: RunEntry, report: Report): Promise<AttributionMap> {
  const name = report.outputs.raw;
  if (name === null) throw new Error(`${entry.reportPath}: the run did not save raw attributions (--save-raw)`);
  const file = join(entry.dir, name);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new Error(`${entry.reportPath}: cannot read its raw attributions ${name} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let npy;
  try {
    npy = decodeNpy(bytes);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`);
  }
  const [h, w, c] = report.attribution.shape;
  if (npy.shape.length !== 3 || npy.shape[0] !== h || npy.shape[1] !== w || npy.shape[2] !== c) {
    throw new Error(`${name}: shape (${npy.shape.join(', ')}) does not match the report's [${h}, ${w}, ${c}]`);
  }
  return buildRawGrids(npy.data, h, w, c);
}

/** G and A of HWC attributions. */
export function buildRawGrids(attributions: Float32Array, height: number, width: number, channels: number): AttributionMap {
  const magnitude = Float32Array.from(computeChannelSum(attributions, height, width, channels), Math.abs);
  return {
    source: 'raw',
    size: GRID_SIZE,
    signed: Float64Array.from(computeAttributionGrid(attributions, [height, width, channels], GRID_SIZE)),
    magnitude: Float64Array.from(computeAttributionGrid(magnitude, [height, width, 1], GRID_SIZE)),
  };
}
