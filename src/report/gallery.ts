/**
 * `igx gallery RUN`: one self-contained index.html for an explain run — a row per report (*.ig.json)
 * with its thumbnails (panel, overlay, heatmap: whichever exist, referenced relatively), target, score,
 * completeness error, the faithfulness AUCs when `<stem>.evaluate.json` is there, and the drift status
 * when a drift.json is given or found in the run. Sortable in the page; no network assets.
 */
import { IMAGE_SUFFIXES, REPORT_SUFFIX, RUN_FILES, stripReportSuffix } from './run-layout.js';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { IgxError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic-write.js';

export interface GalleryRow {
  /** The report's path relative to the run, without `.ig.json`, with / separators. */
  key: string;
  image: string;
  label: string | null;
  targetIndex: number;
  score: number;
  completenessError: number | null;
  method: string;
  /** Relative paths (from index.html) of the pictures, best first. */
  pictures: { kind: 'panel' | 'overlay' | 'heatmap'; src: string }[];
  faithfulness: { deletionAuc: number; deletionRandomAuc: number; insertionAuc: number; insertionRandomAuc: number } | null;
  drift: { status: string; spearman: number | null } | null;
}

const toPosix = (p: string): string => p.split(sep).join('/');

async function findReports(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith(REPORT_SUFFIX)) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

interface DriftLike {
  images?: { key?: string; status?: string; similarity?: { spearman?: number } | null }[];
}

/** Rows of a run folder; `driftPath` (or RUN/drift.json when present) adds the drift column. */
export async function collectGalleryRows(runDir: string, driftPath?: string): Promise<GalleryRow[]> {
  let reports: string[];
  try {
    reports = await findReports(runDir);
  } catch (err) {
    throw new IgxError('E_GALLERY_RUN', `${runDir}: cannot read the run folder (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  if (reports.length === 0) throw new IgxError('E_GALLERY_RUN', `${runDir}: no *${REPORT_SUFFIX} reports in the folder`);
  const driftFile = driftPath ?? (existsSync(join(runDir, 'drift.json')) ? join(runDir, 'drift.json') : undefined);
  const drift = new Map<string, { status: string; spearman: number | null }>();
  if (driftFile) {
    const d = JSON.parse(await readFile(driftFile, 'utf8')) as DriftLike;
    for (const img of d.images ?? []) {
      if (img.key) drift.set(img.key, { status: img.status ?? '?', spearman: img.similarity?.spearman ?? null });
    }
  }
  const rows: GalleryRow[] = [];
  for (const path of reports) {
    const report = JSON.parse(await readFile(path, 'utf8')) as {
      image: { path: string };
      target: { index: number; label: string | null; score: number };
      completeness: { relativeError: number | null };
      method: string;
      outputs: { heatmap: string; overlay: string };
    };
    const stem = stripReportSuffix(path);
    const named = (kind: 'panel' | 'evaluate'): string => `${stem}${IMAGE_SUFFIXES[kind]}`;
    const key = toPosix(relative(runDir, stem));
    const rel = (file: string): string => toPosix(relative(runDir, join(dirname(path), file)));
    const pictures: GalleryRow['pictures'] = [];
    if (existsSync(named('panel'))) pictures.push({ kind: 'panel', src: toPosix(relative(runDir, named('panel'))) });
    if (existsSync(join(dirname(path), report.outputs.overlay))) pictures.push({ kind: 'overlay', src: rel(report.outputs.overlay) });
    if (existsSync(join(dirname(path), report.outputs.heatmap))) pictures.push({ kind: 'heatmap', src: rel(report.outputs.heatmap) });
    let faithfulness: GalleryRow['faithfulness'] = null;
    if (existsSync(named('evaluate'))) {
      const e = JSON.parse(await readFile(named('evaluate'), 'utf8')) as {
        deletion: { attribution: { auc: number }; random: { auc: number } };
        insertion: { attribution: { auc: number }; random: { auc: number } };
      };
      faithfulness = {
        deletionAuc: e.deletion.attribution.auc,
        deletionRandomAuc: e.deletion.random.auc,
        insertionAuc: e.insertion.attribution.auc,
        insertionRandomAuc: e.insertion.random.auc,
      };
    }
    rows.push({
      key,
      image: report.image.path,
      label: report.target.label,
      targetIndex: report.target.index,
      score: report.target.score,
      completenessError: report.completeness.relativeError,
      method: report.method,
      pictures,
      faithfulness,
      drift: drift.get(key) ?? null,
    });
  }
  return rows;
}

const escapeHtml = (s: string): string =>
  s.replace(/[<>&'"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&quot;' })[ch] as string);
/** A relative path as a URL path: each segment percent-encoded. */
const href = (p: string): string => p.split('/').map(encodeURIComponent).join('/');
const num = (v: number | null, digits = 4): string => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));

const STYLE = `
body{font-family:system-ui,sans-serif;margin:16px;background:#fff;color:#111}
h1{font-size:20px;margin:0 0 8px}
p.meta{color:#555;margin:0 0 12px}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:6px 8px;text-align:left;vertical-align:middle}
th.sortable{cursor:pointer;user-select:none;background:#f4f4f4}
th.sortable:after{content:' \\2195';color:#999}
td.pics img{height:112px;margin-right:4px;image-rendering:auto;border:1px solid #ccc}
td.num{font-variant-numeric:tabular-nums}
.pass{color:#060}.drift{color:#b00;font-weight:bold}.error{color:#b60}
.bad{color:#b00}
`;

const SCRIPT = `
(function(){
  var table=document.getElementById('rows');
  var heads=document.querySelectorAll('th.sortable');
  heads.forEach(function(th){
    th.addEventListener('click',function(){
      var key=th.getAttribute('data-key');
      var dir=th.getAttribute('data-dir')==='asc'?'desc':'asc';
      heads.forEach(function(h){h.removeAttribute('data-dir');});
      th.setAttribute('data-dir',dir);
      var rows=Array.prototype.slice.call(table.querySelectorAll('tr'));
      rows.sort(function(a,b){
        var x=parseFloat(a.getAttribute('data-'+key)),y=parseFloat(b.getAttribute('data-'+key));
        if(isNaN(x))x=Infinity;if(isNaN(y))y=Infinity;
        return dir==='asc'?x-y:y-x;
      });
      rows.forEach(function(r){table.appendChild(r);});
    });
  });
})();
`;

/** The page for `rows`; `title` heads it. Pure: no files read. */
export function buildGalleryHtml(rows: GalleryRow[], title: string): string {
  const hasFaith = rows.some((r) => r.faithfulness);
  const hasDrift = rows.some((r) => r.drift);
  const head = [
    '<th>pictures</th>',
    '<th>image</th>',
    '<th>target</th>',
    '<th class="sortable" data-key="score">score</th>',
    '<th class="sortable" data-key="completeness">completeness error</th>',
    ...(hasFaith ? ['<th class="sortable" data-key="deletion">deletion AUC (random)</th>', '<th class="sortable" data-key="insertion">insertion AUC (random)</th>'] : []),
    ...(hasDrift ? ['<th class="sortable" data-key="spearman">drift (spearman)</th>'] : []),
  ].join('');
  const body = rows
    .map((r) => {
      const f = r.faithfulness;
      const attrs = [
        `data-key-name="${escapeHtml(r.key)}"`,
        `data-score="${r.score}"`,
        `data-completeness="${r.completenessError ?? 'NaN'}"`,
        `data-deletion="${f?.deletionAuc ?? 'NaN'}"`,
        `data-insertion="${f?.insertionAuc ?? 'NaN'}"`,
        `data-spearman="${r.drift?.spearman ?? 'NaN'}"`,
      ].join(' ');
      const pics = r.pictures.map((p) => `<img src="${escapeHtml(href(p.src))}" alt="${p.kind} of ${escapeHtml(r.key)}" title="${p.kind}">`).join('');
      const cells = [
        `<td class="pics">${pics || '–'}</td>`,
        `<td>${escapeHtml(r.key)}<br><small>${escapeHtml(r.method)}</small></td>`,
        `<td>${escapeHtml(r.label ?? String(r.targetIndex))}</td>`,
        `<td class="num">${num(r.score)}</td>`,
        `<td class="num">${r.completenessError === null ? '–' : `${(100 * r.completenessError).toFixed(2)} %`}</td>`,
        ...(hasFaith
          ? [
              `<td class="num${f && f.deletionAuc >= f.deletionRandomAuc ? ' bad' : ''}">${f ? `${num(f.deletionAuc, 3)} (${num(f.deletionRandomAuc, 3)})` : '–'}</td>`,
              `<td class="num${f && f.insertionAuc <= f.insertionRandomAuc ? ' bad' : ''}">${f ? `${num(f.insertionAuc, 3)} (${num(f.insertionRandomAuc, 3)})` : '–'}</td>`,
            ]
          : []),
        ...(hasDrift ? [`<td class="${escapeHtml(r.drift?.status ?? '')}">${r.drift ? `${escapeHtml(r.drift.status)} (${num(r.drift.spearman, 3)})` : '–'}</td>`] : []),
      ];
      return `<tr ${attrs}>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1><p class="meta">${rows.length} image(s). Click a grey column header to sort.</p>
<table><thead><tr>${head}</tr></thead><tbody id="rows">
${body}
</tbody></table><script>${SCRIPT}</script></body></html>
`;
}

/** Writes RUN/index.html; returns its path and the rows. */
export async function writeGallery(runDir: string, options: { driftPath?: string; title?: string } = {}): Promise<{ file: string; rows: GalleryRow[] }> {
  const rows = await collectGalleryRows(runDir, options.driftPath);
  const file = join(runDir, RUN_FILES.gallery);
  await writeFileAtomic(file, buildGalleryHtml(rows, options.title ?? `igx run ${runDir}`));
  return { file, rows };
}
