/**
 * Every file name an igx run writes, once: the writers (explain, evaluate, batch, gallery, drift) and
 * the readers (drift, gallery, resume, merge) import these, so they cannot disagree.
 */
import { basename, extname } from 'node:path';

/** Per image, after its stem (photo.jpg → photo, or a/photo where the output mirrors an input tree). */
export const IMAGE_SUFFIXES = {
  heatmap: '.ig.png',
  overlay: '.overlay.png',
  report: '.ig.json',
  raw: '.ig.npy',
  mask: '.mask.png',
  panel: '.panel.png',
  evaluate: '.evaluate.json',
} as const;
export type ImageOutput = keyof typeof IMAGE_SUFFIXES;

/** A report file: what drift and the gallery look for under a run folder. */
export const REPORT_SUFFIX = IMAGE_SUFFIXES.report;

/** Per run folder. */
export const RUN_FILES = { manifest: 'igx-run.json', gallery: 'index.html' } as const;

/** One shard's manifest: igx-run.shard-I-of-N.json. */
export const shardManifestName = (index: number, count: number): string => `igx-run.shard-${index}-of-${count}.json`;
export const isShardManifestName = (name: string): boolean => /^igx-run\.shard-\d+-of-\d+\.json$/.test(name);

/** igx drift's outputs, in its --out folder; a drift panel per image under `panels`. */
export const DRIFT_FILES = { json: 'drift.json', markdown: 'drift.md', junit: 'drift.junit.xml', panels: 'panels' } as const;
export const DRIFT_PANEL_SUFFIX = '.drift.png';

/** The stem of an image's outputs: `outputStem` when given (a path under --out), else the image's base name. */
export function computeOutputStem(imagePath: string, outputStem?: string): string {
  return outputStem ?? basename(imagePath, extname(imagePath));
}

/** The output files of one image, by kind. */
export function buildImageOutputNames(imagePath: string, outputStem?: string): Record<ImageOutput, string> {
  const stem = computeOutputStem(imagePath, outputStem);
  return Object.fromEntries(Object.entries(IMAGE_SUFFIXES).map(([k, suffix]) => [k, `${stem}${suffix}`])) as Record<ImageOutput, string>;
}

/** A report's stem: a/photo.ig.json → a/photo. */
export const stripReportSuffix = (reportPath: string): string => reportPath.slice(0, -REPORT_SUFFIX.length);
