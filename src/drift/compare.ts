/**
 * Pairing and per-image verdicts. Pure: maps are read by the caller and passed in.
 */
import { posix } from 'node:path';
import { computeMapSimilarity, type MapSimilarity } from './metrics.js';
import { findManifestFailure, type AttributionMap, type LoadedRun, type Report, type RunEntry } from './runs.js';
import type { DriftImage, DriftReport, DriftThresholds, MapChoice, MapSource, NoiseKind } from './schema.js';

/**
 * Defaults for runs with fixed baselines, from the measurements in README.md (igx drift). The same model gives
 * exactly 1 on one backend and ≥ 0.99999 on every metric between the wasm and cpu backends; the images
 * a change leaves alone stay as close. The smallest whole-model change measured (0.25% weight noise)
 * gives SSIM ≤ 0.86 on every photo, and altering one class's output weights by 20% moves that class's
 * photos to SSIM 0.90 or below; 0.95 catches these with a wide margin over numeric noise.
 * A score change is reported but fails nothing by default: its units are the model's (probability or
 * logit), and in every measurement the maps had already flagged the images whose score moved.
 */
export const DETERMINISTIC_THRESHOLDS: DriftThresholds = {
  minSpearman: 0.95,
  minIou: 0.6,
  minSsim: 0.95,
  maxScoreDelta: null,
  failOnClassChange: false,
  topK: 10,
};

/**
 * Defaults for runs with random baselines (uniform, gaussian): under the seed-to-seed spread of the
 * same model with 4 gaussian samples (SSIM ≥ 0.37, Spearman ≥ 0.74, IoU ≥ 0.30 on every photo; at
 * only 8 steps SSIM ≥ 0.35, Spearman ≥ 0.60, IoU ≥ 0.23), above a 2%-noise model and another
 * architecture (SSIM ≤ 0.14) and the images whose class row was altered (SSIM ≤ 0.11). SSIM does
 * the separating; Spearman and IoU only catch maps that moved elsewhere altogether.
 */
export const RANDOM_BASELINE_THRESHOLDS: DriftThresholds = {
  ...DETERMINISTIC_THRESHOLDS,
  minSpearman: 0.5,
  minIou: 0.15,
  minSsim: 0.25,
};

export const RANDOM_BASELINE_KINDS = ['uniform', 'gaussian'];

/** random-baselines when any report of either run drew a random baseline. */
export function computeNoiseKind(runs: LoadedRun[]): NoiseKind {
  const isRandom = runs.some((r) => r.entries.some((e) => e.report?.baselines.some((b) => RANDOM_BASELINE_KINDS.includes(b.kind))));
  return isRandom ? 'random-baselines' : 'deterministic';
}

export function defaultThresholds(noise: NoiseKind): DriftThresholds {
  return noise === 'deterministic' ? DETERMINISTIC_THRESHOLDS : RANDOM_BASELINE_THRESHOLDS;
}

export interface DriftPair {
  key: string;
  baseline: RunEntry | null;
  current: RunEntry | null;
  /** For a side without a report: why, when that run's igx-run.json says (explain failed on it). */
  missingReason: string | null;
}

/** Every key in either run, sorted; a key in one run only pairs with null. */
export function buildPairs(baseline: LoadedRun, current: LoadedRun): DriftPair[] {
  const b = new Map(baseline.entries.map((e) => [e.key, e]));
  const c = new Map(current.entries.map((e) => [e.key, e]));
  const keys = [...new Set([...b.keys(), ...c.keys()])].sort();
  return keys.map((key) => {
    const be = b.get(key) ?? null;
    const ce = c.get(key) ?? null;
    const missingReason = be === null ? findManifestFailure(baseline.manifest, key) : ce === null ? findManifestFailure(current.manifest, key) : null;
    return { key, baseline: be, current: ce, missingReason };
  });
}

/** `a/cat` + report of a/cat.jpg → `a/cat.jpg`: the input's name under the key's folder. */
export function buildImageName(key: string, report: Report | null): string {
  if (report === null) return key;
  const dir = posix.dirname(key);
  const file = report.image.path.split(/[\\/]/).pop() ?? '';
  return file === '' ? key : dir === '.' ? file : `${dir}/${file}`;
}

/** Which maps to compare: raw when asked or (auto) when both runs saved them with the same shape. */
export function chooseMapSource(b: Report, c: Report, choice: MapChoice): MapSource | { error: string } {
  if (choice === 'grid') return 'grid';
  const both = b.outputs.raw !== null && c.outputs.raw !== null;
  const same = b.attribution.shape.every((d, i) => d === c.attribution.shape[i]);
  if (choice === 'raw') {
    if (!both) return { error: `--map raw: the ${b.outputs.raw === null ? 'baseline' : 'current'} run did not save raw attributions (explain --save-raw)` };
    if (!same) return { error: `--map raw: attribution shapes differ ([${b.attribution.shape.join(', ')}] vs [${c.attribution.shape.join(', ')}])` };
    return 'raw';
  }
  return both && same ? 'raw' : 'grid';
}

const fmt = (v: number): string => v.toFixed(3);

/** The thresholds a compared image crosses, as short sentences; empty means it passes. */
export function computeDriftReasons(sim: MapSimilarity, scoreDelta: number, classChanged: boolean, t: DriftThresholds): string[] {
  const reasons: string[] = [];
  if (sim.spearman < t.minSpearman) reasons.push(`spearman ${fmt(sim.spearman)} < ${fmt(t.minSpearman)}`);
  if (sim.iou < t.minIou) reasons.push(`top-${t.topK}% IoU ${fmt(sim.iou)} < ${fmt(t.minIou)}`);
  if (sim.ssim < t.minSsim) reasons.push(`ssim ${fmt(sim.ssim)} < ${fmt(t.minSsim)}`);
  if (t.maxScoreDelta !== null && Math.abs(scoreDelta) > t.maxScoreDelta) reasons.push(`score delta ${fmt(scoreDelta)} beyond ±${fmt(t.maxScoreDelta)}`);
  if (classChanged && t.failOnClassChange) reasons.push('top class changed');
  return reasons;
}

function side(entry: RunEntry, report: Report): NonNullable<DriftImage['baseline']> {
  return {
    report: entry.reportPath,
    imageSha256: report.image.sha256,
    modelSha256: report.model.sha256,
    prediction: { index: report.prediction.index, label: report.prediction.label, score: report.prediction.score },
    target: { index: report.target.index, label: report.target.label, score: report.target.score },
  };
}

/** Labels when both reports have them (class order may differ between models), else indices. */
export function computeClassChanged(b: Report, c: Report): boolean {
  const lb = b.prediction.label;
  const lc = c.prediction.label;
  if (lb !== null && lc !== null) return lb.trim().toLowerCase() !== lc.trim().toLowerCase();
  return b.prediction.index !== c.prediction.index;
}

export function buildErrorRow(pair: DriftPair, code: string, message: string): DriftImage {
  const b = pair.baseline?.report ?? null;
  const c = pair.current?.report ?? null;
  return {
    key: pair.key,
    image: buildImageName(pair.key, b ?? c),
    status: 'error',
    error: { code, message },
    baseline: pair.baseline && b ? side(pair.baseline, b) : null,
    current: pair.current && c ? side(pair.current, c) : null,
    map: null,
    similarity: null,
    classChanged: null,
    scoreDelta: null,
    reasons: [],
    panel: null,
  };
}

/**
 * Why a pair cannot be compared, or null when it can: one side missing, a report unusable, or the
 * input bytes differ (then the two reports explain different images).
 */
export function checkPair(pair: DriftPair): { code: string; message: string } | null {
  const why = pair.missingReason ? ` (explain failed on it there: ${pair.missingReason})` : '';
  if (pair.baseline === null) return { code: 'E_DRIFT_PAIR', message: `${pair.key}.ig.json: only in the current run${why}` };
  if (pair.current === null) return { code: 'E_DRIFT_PAIR', message: `${pair.key}.ig.json: only in the baseline run${why}` };
  for (const [which, e] of [['baseline', pair.baseline], ['current', pair.current]] as const) {
    if (e.error) return { code: e.error.code, message: `${which} run: ${e.error.message}` };
  }
  const b = pair.baseline.report!;
  const c = pair.current.report!;
  if (b.image.sha256 !== c.image.sha256) {
    return {
      code: 'E_DRIFT_PAIR',
      message: `${pair.key}: the input images differ (sha256 ${b.image.sha256.slice(0, 12)}… vs ${c.image.sha256.slice(0, 12)}…)`,
    };
  }
  return null;
}

/** The row for a pair whose maps were read. */
export function compareImage(
  pair: DriftPair,
  baselineMap: AttributionMap,
  currentMap: AttributionMap,
  thresholds: DriftThresholds,
): { row: DriftImage; similarity: MapSimilarity } {
  const b = pair.baseline!.report!;
  const c = pair.current!.report!;
  if (baselineMap.size !== currentMap.size || baselineMap.source !== currentMap.source) {
    throw new RangeError(`${pair.key}: maps of different sources or sizes`);
  }
  const similarity = computeMapSimilarity(baselineMap, currentMap, thresholds.topK);
  const classChanged = computeClassChanged(b, c);
  const scoreDelta = c.target.score - b.target.score;
  const reasons = computeDriftReasons(similarity, scoreDelta, classChanged, thresholds);
  const row: DriftImage = {
    key: pair.key,
    image: buildImageName(pair.key, b),
    status: reasons.length > 0 ? 'drift' : 'pass',
    error: null,
    baseline: side(pair.baseline!, b),
    current: side(pair.current!, c),
    map: { source: baselineMap.source, size: baselineMap.size },
    similarity,
    classChanged,
    scoreDelta,
    reasons,
    panel: null,
  };
  return { row, similarity };
}

function computeStat(values: number[]): { min: number; median: number; mean: number; max: number } | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, mean: s.reduce((a, v) => a + v, 0) / s.length, max: s[s.length - 1]! };
}

export function computeDriftSummary(rows: DriftImage[]): DriftReport['summary'] {
  const compared = rows.filter((r) => r.similarity !== null);
  const pick = (f: (r: DriftImage) => number): number[] => compared.map(f);
  return {
    images: rows.length,
    passed: rows.filter((r) => r.status === 'pass').length,
    drifted: rows.filter((r) => r.status === 'drift').length,
    errors: rows.filter((r) => r.status === 'error').length,
    classChanges: rows.filter((r) => r.classChanged === true).length,
    mapSources: { raw: compared.filter((r) => r.map?.source === 'raw').length, grid: compared.filter((r) => r.map?.source === 'grid').length },
    spearman: computeStat(pick((r) => r.similarity!.spearman)),
    iou: computeStat(pick((r) => r.similarity!.iou)),
    cosine: computeStat(pick((r) => r.similarity!.cosine)),
    ssim: computeStat(pick((r) => r.similarity!.ssim)),
    absScoreDelta: computeStat(pick((r) => Math.abs(r.scoreDelta ?? 0))),
  };
}

/**
 * How far below its thresholds an image is: the smallest margin (value − threshold) over the three
 * map similarities. Worst first means errors, then drifted, then the smallest margin.
 */
export function computeMargin(row: DriftImage, t: DriftThresholds): number {
  const s = row.similarity;
  if (s === null) return -Infinity;
  return Math.min(s.spearman - t.minSpearman, s.iou - t.minIou, s.ssim - t.minSsim);
}

export function sortWorstFirst(rows: DriftImage[], t: DriftThresholds): DriftImage[] {
  const rank = { error: 0, drift: 1, pass: 2 } as const;
  return [...rows].sort(
    (a, b) => rank[a.status] - rank[b.status] || computeMargin(a, t) - computeMargin(b, t) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}

/** Exit code of a drift run: 2 when an image could not be compared, else 1 when one drifted, else 0. */
export function computeDriftExitCode(summary: DriftReport['summary']): 0 | 1 | 2 {
  return summary.errors > 0 ? 2 : summary.drifted > 0 ? 1 : 0;
}
