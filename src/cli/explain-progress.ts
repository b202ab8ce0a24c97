/**
 * What `igx explain` shows while a batch runs: a progress bar on a terminal, else a periodic plain line;
 * one line per image (ok, skip, error) and its warnings; NDJSON rows on stdout with --json.
 */
import cliProgress from 'cli-progress';
import type { BatchEvent } from '../batch/run-batch.js';
import type { Report } from '../report/schema.js';
import type { ManifestRow } from '../report/manifest.js';
import { toOneLine } from '../errors.js';
import type { CommandContext } from './io.js';

/** Milliseconds between plain progress lines where no bar is drawn. */
const PLAIN_LINE_INTERVAL_MS = 10000;

export interface ProgressOptions {
  json: boolean;
  quiet: boolean;
  /** The completeness tolerance, named on the line of an image above it. */
  tolerance: number;
  /** Default 10 s. */
  plainLineIntervalMs?: number;
}

export class ExplainProgress {
  readonly started = Date.now();
  /** Images whose completeness error is above the tolerance. */
  incomplete = 0;
  /** Images whose map's estimated error is above the map tolerance (report convergence). */
  unconverged = 0;
  private done = 0;
  private found = 0;
  /** All the run's inputs, once the counting walk has finished. */
  private total: number | undefined;
  private lastPlainLineMs = Date.now();
  private readonly bar: cliProgress.SingleBar | undefined;

  constructor(
    private readonly ctx: CommandContext,
    private readonly options: ProgressOptions,
  ) {
    const showBar = Boolean(ctx.io.stderr.isTTY) && !options.json && !options.quiet;
    this.bar = showBar
      ? new cliProgress.SingleBar(
          {
            stream: ctx.io.stderr as NodeJS.WriteStream,
            format: '[{bar}] {value}/{total} images | {file} {points} | {rate} img/s | ETA {eta_formatted}',
            hideCursor: true,
            etaBuffer: 20,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  }

  private rate(): string {
    return (this.done / Math.max(1e-3, (Date.now() - this.started) / 1000)).toFixed(2);
  }

  stop(): void {
    this.bar?.stop();
  }

  readonly onEvent = (e: BatchEvent): void => {
    const { c, say } = this.ctx;
    switch (e.type) {
      case 'start':
        if (!this.options.quiet) say(c.dim(`igx: run root ${e.runRoot}; manifest ${e.manifestPath}`));
        this.bar?.start(0, 0, { file: '', points: '', rate: '0.00' });
        break;
      case 'discovered':
        this.found = e.count;
        if (this.total === undefined) this.bar?.setTotal(this.found);
        break;
      case 'total':
        this.total = e.count;
        this.bar?.setTotal(e.count);
        break;
      case 'image-start':
        this.bar?.update(this.done, { file: e.path, points: '', rate: this.rate() });
        break;
      case 'progress':
        this.bar?.update(this.done, { file: e.path, points: `${e.progress.pointsDone}/${e.progress.pointsPlanned} pts`, rate: this.rate() });
        break;
      case 'row':
        this.onRow(e.row, e.result);
        break;
    }
  };

  private describeRow(row: ManifestRow, r: Report | undefined): string | undefined {
    const { c } = this.ctx;
    // File names and a model's labels come from outside: printed as one line, escapes made visible.
    const path = toOneLine(row.path);
    if (row.status === 'failed') return `${c.red('error')} ${path}: ${row.error?.message} [${row.error?.code}]`;
    if (row.status === 'skipped') return this.options.quiet ? undefined : c.dim(`skip ${path}: ${row.reason}`);
    if (this.options.quiet || !r) return undefined;
    const t = r.target;
    const minus = t.minus ? ` − ${toOneLine(t.minus.label ?? `class ${t.minus.index}`)}` : '';
    const error = r.completeness.relativeError === null ? 'n/a' : r.completeness.relativeError.toFixed(4);
    const above = r.completeness.isWithinTolerance ? '' : ` ${c.yellow(`(above the tolerance ${this.options.tolerance})`)}`;
    const m = r.convergence;
    const map = m.estimatedError === null ? '' : ` · estimated map error ${(m.isWithinTolerance ? c.green : c.yellow)(m.estimatedError.toFixed(4))}${m.isWithinTolerance ? '' : ` ${c.yellow(`(above ${m.tolerance})`)}`}`;
    return `${c.green('ok')} ${path}: ${toOneLine(t.label ?? `class ${t.index}`)}${minus} ${t.score.toFixed(4)} · ${r.steps} steps · completeness error ${(r.completeness.isWithinTolerance ? c.green : c.yellow)(error)}${above}${map}`;
  }

  private onRow(row: ManifestRow, result: Extract<BatchEvent, { type: 'row' }>['result']): void {
    const { io, c, say } = this.ctx;
    this.done += 1;
    const r = result?.report;
    if (r && !r.completeness.isWithinTolerance) this.incomplete += 1;
    if (r && r.convergence.isWithinTolerance === false) this.unconverged += 1;
    if (this.options.json) io.stdout.write(`${JSON.stringify(r ? { status: 'ok', ...r, files: result?.files } : { ...row })}\n`);
    const warnings = this.options.quiet || !r ? [] : r.warnings.map((w) => `${c.yellow('warning')} ${toOneLine(row.path)}: ${toOneLine(w)}`);
    for (const line of [this.describeRow(row, r), ...warnings]) {
      if (line === undefined) continue;
      // Over a bar: clear its line first; the next update redraws it below.
      if (this.bar) io.stderr.write(`\r\x1b[2K${line}\n`);
      else say(line);
    }
    this.bar?.update(this.done, { file: '', points: '', rate: this.rate() });
    if (!this.bar && !this.options.quiet && Date.now() - this.lastPlainLineMs > (this.options.plainLineIntervalMs ?? PLAIN_LINE_INTERVAL_MS)) {
      this.lastPlainLineMs = Date.now();
      say(c.dim(`igx: ${this.describeProgress()}`));
    }
  }

  /** "12/40 inputs done, 0.50 img/s, ETA 56 s", or "12 of ≥14 inputs done" while the total is not known yet. */
  describeProgress(): string {
    const rate = this.done / Math.max(1e-3, (Date.now() - this.started) / 1000);
    if (this.total === undefined) return `${this.done} of ≥${this.found} inputs done, ${rate.toFixed(2)} img/s`;
    const etaS = rate > 0 ? Math.round((this.total - this.done) / rate) : undefined;
    return `${this.done}/${this.total} inputs done, ${rate.toFixed(2)} img/s${etaS === undefined ? '' : `, ETA ${etaS} s`}`;
  }
}
