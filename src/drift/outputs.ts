/**
 * What drift hands to people and CI: a Markdown summary (for $GITHUB_STEP_SUMMARY or a terminal),
 * JUnit XML (one test case per image) and, per drifted image, a PNG panel. The build* functions are
 * pure; renderDriftPanelPng encodes with sharp.
 */
import sharp from 'sharp';
import { divergingColor, percentile } from '../render/colormap.js';
import { computeMargin, sortWorstFirst } from './compare.js';
import type { AttributionMap } from './runs.js';
import type { DriftImage, DriftReport } from './schema.js';

/** Rows of the worst-images table when --worst is not given. */
export const DEFAULT_WORST_ROWS = 10;

const num = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined ? '–' : v.toFixed(digits));
/** +0.123 / −0.123; a change that rounds to zero shows as 0.000, without a sign. */
const signed = (v: number | null): string => {
  if (v === null) return '–';
  const text = Math.abs(v).toFixed(3);
  return Number(text) === 0 ? text : `${v > 0 ? '+' : '−'}${text}`;
};

/** Text safe inside a Markdown table cell. */
export function escapeMarkdownCell(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/([\\|*_`[\]<>#])/g, '\\$1');
}

const shortLabel = (c: { index: number; label: string | null }): string => (c.label === null ? `#${c.index}` : (c.label.split(',')[0] ?? c.label).trim());

function classCell(row: DriftImage): string {
  if (row.baseline === null || row.current === null) return '–';
  const b = escapeMarkdownCell(shortLabel(row.baseline.prediction));
  return row.classChanged ? `**${b} → ${escapeMarkdownCell(shortLabel(row.current.prediction))}**` : b;
}

const STATUS_TEXT = { pass: 'pass', drift: '**DRIFT**', error: '**ERROR**' } as const;

/** The Markdown summary: verdict, thresholds, the worst images, aggregate statistics. */
export function buildDriftMarkdown(report: DriftReport, worstRows = DEFAULT_WORST_ROWS): string {
  const { summary: s, thresholds: t } = report;
  const lines: string[] = [];
  const verdict =
    s.errors > 0 ? `${s.errors} of ${s.images} images could not be compared` + (s.drifted > 0 ? `, ${s.drifted} drifted` : '')
    : s.drifted > 0 ? `${s.drifted} of ${s.images} images drifted`
    : `no drift in ${s.images} images`;
  lines.push(`## igx drift: ${verdict}`, '');
  lines.push(
    `Baseline \`${escapeMarkdownCell(report.baseline.path)}\` (${report.baseline.reports} reports) · current \`${escapeMarkdownCell(report.current.path)}\` (${report.current.reports} reports) · maps compared: ${s.mapSources.raw} raw, ${s.mapSources.grid} 32×32 grid`,
    '',
    `Thresholds (${report.noise === 'deterministic' ? 'fixed baselines' : 'random baselines'}): Spearman ≥ ${num(t.minSpearman, 2)} · top-${t.topK}% IoU ≥ ${num(t.minIou, 2)} · SSIM ≥ ${num(t.minSsim, 2)} · score Δ ${t.maxScoreDelta === null ? 'reported only' : `within ±${t.maxScoreDelta}`} · class change ${t.failOnClassChange ? 'fails' : 'reported only'}`,
    '',
  );
  for (const w of report.warnings) lines.push(`> Warning: ${escapeMarkdownCell(w)}`, '');
  if (report.configDifferences.length > 0) {
    lines.push('Config differences (allowed by `--allow-config-change`):', '');
    for (const d of report.configDifferences) lines.push(`- ${d.field}: ${escapeMarkdownCell(d.baseline)} → ${escapeMarkdownCell(d.current)}`);
    lines.push('');
  }
  const worst = sortWorstFirst(report.images, t);
  // Every failing row is listed; passing ones only up to the limit.
  const failing = worst.filter((r) => r.status !== 'pass').length;
  const shown = worst.slice(0, Math.max(worstRows, failing));
  lines.push(`### ${shown.length === worst.length ? 'Images, worst first' : `Worst ${shown.length} of ${worst.length} images`}`, '');
  lines.push('| status | image | Spearman | IoU | cosine | SSIM | top class | score Δ | why |', '|---|---|---:|---:|---:|---:|---|---:|---|');
  for (const r of shown) {
    const why = r.status === 'error' ? `${r.error?.code ?? ''}: ${r.error?.message ?? ''}` : r.reasons.join('; ');
    const sim = r.similarity;
    lines.push(
      `| ${STATUS_TEXT[r.status]} | ${escapeMarkdownCell(r.image)} | ${num(sim?.spearman)} | ${num(sim?.iou)} | ${num(sim?.cosine)} | ${num(sim?.ssim)} | ${classCell(r)} | ${signed(r.scoreDelta)} | ${escapeMarkdownCell(why)} |`,
    );
  }
  lines.push('', '### Aggregate over compared images', '', '| metric | min | median | mean | max |', '|---|---:|---:|---:|---:|');
  const stats: [string, DriftReport['summary']['spearman']][] = [
    ['Spearman (magnitude grid)', s.spearman],
    [`top-${t.topK}% IoU (magnitude grid)`, s.iou],
    ['cosine (signed grid)', s.cosine],
    ['SSIM (signed grid)', s.ssim],
    ['absolute score Δ', s.absScoreDelta],
  ];
  for (const [name, st] of stats) lines.push(`| ${name} | ${num(st?.min)} | ${num(st?.median)} | ${num(st?.mean)} | ${num(st?.max)} |`);
  lines.push('', `${s.passed} passed · ${s.drifted} drifted · ${s.errors} errors · ${s.classChanges} top-class changes`);
  if (s.drifted > 0) lines.push('', 'Panels (baseline | current | current − baseline, one colour scale) are in `panels/` beside drift.json.');
  return `${lines.join('\n')}\n`;
}

/**
 * Text as XML 1.0 character data or attribute value: the five special characters escaped, line
 * breaks and tabs as character references in attributes, and characters XML cannot hold (controls,
 * lone surrogates, U+FFFE/U+FFFF) replaced by U+FFFD.
 */
export function escapeXml(text: string, isAttribute = true): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const isAllowed =
      cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
    if (!isAllowed) out += '\ufffd';
    else if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '"') out += '&quot;';
    else if (ch === "'") out += '&apos;';
    else if (isAttribute && cp === 0xa) out += '&#10;';
    else if (isAttribute && cp === 0xd) out += '&#13;';
    else if (isAttribute && cp === 0x9) out += '&#9;';
    else out += ch;
  }
  return out;
}

function describeRow(r: DriftImage): string {
  const sim = r.similarity;
  const parts = [
    `spearman=${num(sim?.spearman)} iou=${num(sim?.iou)} cosine=${num(sim?.cosine)} ssim=${num(sim?.ssim)}`,
    `map=${r.map ? `${r.map.size}x${r.map.size} grids from ${r.map.source}` : '–'}`,
    `top class: ${r.baseline ? shortLabel(r.baseline.prediction) : '–'} -> ${r.current ? shortLabel(r.current.prediction) : '–'}`,
    `score delta=${signed(r.scoreDelta)}`,
  ];
  if (r.panel) parts.push(`panel: ${r.panel}`);
  return parts.join('\n');
}

/** JUnit XML: one <testcase> per image; <failure> for drift, <error> for images that could not be compared. */
export function buildJunitXml(report: DriftReport): string {
  const s = report.summary;
  const counts = `tests="${s.images}" failures="${s.drifted}" errors="${s.errors}" skipped="0"`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="igx drift" ${counts}>`,
    `  <testsuite name="${escapeXml(`igx drift ${report.baseline.path} -> ${report.current.path}`)}" ${counts}>`,
  ];
  for (const r of report.images) {
    const open = `    <testcase classname="igx.drift" name="${escapeXml(r.image)}"`;
    if (r.status === 'pass') {
      lines.push(`${open}/>`);
    } else if (r.status === 'drift') {
      lines.push(
        `${open}>`,
        `      <failure type="drift" message="${escapeXml(r.reasons.join('; '))}">${escapeXml(describeRow(r), false)}</failure>`,
        '    </testcase>',
      );
    } else {
      lines.push(
        `${open}>`,
        `      <error type="${escapeXml(r.error?.code ?? 'error')}" message="${escapeXml(r.error?.message ?? '')}"/>`,
        '    </testcase>',
      );
    }
  }
  lines.push('  </testsuite>', '</testsuites>');
  return `${lines.join('\n')}\n`;
}

export interface DriftPanel {
  rgb: Uint8Array;
  width: number;
  height: number;
  /** |attribution| drawn at full colour in all three tiles. */
  scale: number;
}

/** Pixels between tiles, and the height of the colour bar under them. */
const PANEL_GAP = 8;
const PANEL_BAR = 12;
/** Grids are enlarged by whole pixels to at least this size. */
const PANEL_MIN_TILE = 224;

/**
 * baseline | current | current − baseline of the signed grids G, all three with the blue–white–red
 * map on one scale: the 99th percentile of the non-zero |values| of both grids together. Under them a
 * colour bar from −scale (left) to +scale (right).
 */
export function buildDriftPanel(baseline: AttributionMap, current: AttributionMap): DriftPanel {
  const n = baseline.size;
  if (current.size !== n) throw new RangeError('panel grids differ in size');
  const b = Float64Array.from(baseline.signed);
  const c = Float64Array.from(current.signed);
  const diff = c.map((v, i) => v - b[i]!);
  const magnitudes = [...b, ...c].map(Math.abs).filter((m) => m > 0 && Number.isFinite(m));
  const scale = magnitudes.length === 0 ? 0 : percentile(magnitudes, 99);
  const zoom = Math.max(1, Math.ceil(PANEL_MIN_TILE / n));
  const tile = n * zoom;
  const width = 3 * tile + 2 * PANEL_GAP;
  const height = tile + PANEL_GAP + PANEL_BAR;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  const put = (x: number, y: number, [r, g, bl]: [number, number, number]): void => {
    const o = 3 * (y * width + x);
    rgb[o] = r;
    rgb[o + 1] = g;
    rgb[o + 2] = bl;
  };
  [b, c, diff].forEach((values, t) => {
    const x0 = t * (tile + PANEL_GAP);
    for (let y = 0; y < tile; y += 1) {
      for (let x = 0; x < tile; x += 1) {
        const v = values[Math.floor(y / zoom) * n + Math.floor(x / zoom)]!;
        put(x0 + x, y, divergingColor(scale > 0 ? v / scale : 0));
      }
    }
  });
  for (let x = 0; x < width; x += 1) {
    const colour = divergingColor((2 * x) / (width - 1) - 1);
    for (let y = tile + PANEL_GAP; y < height; y += 1) put(x, y, colour);
  }
  return { rgb, width, height, scale };
}

export async function renderDriftPanelPng(panel: DriftPanel): Promise<Buffer> {
  const { rgb, width, height } = panel;
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** One line per image for a terminal (the CLI prints them). */
export function buildDriftLine(r: DriftImage, t: DriftReport['thresholds']): string {
  if (r.status === 'error') return `${r.image}: ${r.error?.message ?? ''} [${r.error?.code ?? ''}]`;
  const s = r.similarity!;
  const tail = r.status === 'drift' ? ` — ${r.reasons.join('; ')}` : ` (margin ${num(computeMargin(r, t))})`;
  return `${r.image}: spearman ${num(s.spearman)} · IoU ${num(s.iou)} · cosine ${num(s.cosine)} · SSIM ${num(s.ssim)} · score Δ ${signed(r.scoreDelta)}${tail}`;
}
