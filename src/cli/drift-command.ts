import { Option, type Command } from 'commander';
import { z } from 'zod';
import { formatFlagIssue } from '../config/explain-config.js';
import { DETERMINISTIC_THRESHOLDS as D, RANDOM_BASELINE_THRESHOLDS as R } from '../drift/compare.js';
import { DEFAULT_WORST_ROWS } from '../drift/outputs.js';
import { runDrift, type DriftOptions } from '../drift/run-drift.js';
import { MAP_CHOICES } from '../drift/schema.js';
import { IgxError } from '../errors.js';
import type { CommandContext } from './io.js';

/** The flags of `igx drift` as commander hands them over. */
export interface RawDriftFlags {
  out?: string;
  minSpearman?: string;
  minIou?: string;
  minSsim?: string;
  maxScoreDelta?: string;
  failOnClassChange?: boolean;
  topK?: string;
  map?: string;
  allowConfigChange?: boolean;
  worst?: string;
}

const real = (lo: number, hi: number, loOpen = false) =>
  z
    .string()
    .refine((s) => s.trim() !== '' && Number.isFinite(Number(s)) && (loOpen ? Number(s) > lo : Number(s) >= lo) && Number(s) <= hi, {
      message: `expected a number ${loOpen ? '>' : '≥'} ${lo} and ≤ ${hi}`,
    })
    .transform(Number);

const DRIFT_FLAG_SCHEMA = z.strictObject({
  out: z.string().min(1).optional(),
  minSpearman: real(-1, 1).optional(),
  minIou: real(0, 1).optional(),
  minSsim: real(-1, 1).optional(),
  maxScoreDelta: real(0, Number.MAX_VALUE).optional(),
  failOnClassChange: z.boolean().optional(),
  topK: real(0, 100, true).optional(),
  map: z.enum(MAP_CHOICES, { message: `expected one of ${MAP_CHOICES.join(', ')}` }).optional(),
  allowConfigChange: z.boolean().optional(),
  worst: z.string().regex(/^\d+$/, { message: 'expected a whole number ≥ 0' }).transform(Number).optional(),
});

/** Validates the flags; throws E_FLAG with one line naming the flag. */
export function parseDriftFlags(baseline: string, current: string, raw: RawDriftFlags): DriftOptions {
  const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const parsed = DRIFT_FLAG_SCHEMA.safeParse(defined);
  if (!parsed.success) throw new IgxError('E_FLAG', formatFlagIssue(parsed.error.issues[0]!, defined));
  const f = parsed.data;
  return {
    baseline,
    current,
    out: f.out ?? 'igx-drift',
    // Flags not given take the defaults of the runs' noise kind, known once the runs are read.
    thresholds: {
      minSpearman: f.minSpearman,
      minIou: f.minIou,
      minSsim: f.minSsim,
      maxScoreDelta: f.maxScoreDelta,
      failOnClassChange: f.failOnClassChange,
      topK: f.topK,
    },
    map: f.map ?? 'auto',
    allowConfigChange: f.allowConfigChange ?? false,
    worstRows: f.worst ?? DEFAULT_WORST_ROWS,
  };
}

export function registerDriftCommand(program: Command, ctx: CommandContext): void {
  const { io, c, say, run } = ctx;
  const both = (k: 'minSpearman' | 'minIou' | 'minSsim'): string => `default ${D[k]}; ${R[k]} with random baselines`;
  program
    .command('drift')
    .description('compare two igx explain output folders (old model, new model) and fail when attributions drift')
    .argument('<baseline>', 'the reference run: an igx explain --out folder')
    .argument('<current>', 'the run to check, made with the same images and explain settings')
    .option('-o, --out <dir>', 'where drift.json, drift.md, drift.junit.xml and panels/ go', 'igx-drift')
    .option('--min-spearman <x>', `drift below this Spearman rank correlation of the magnitude grids (${both('minSpearman')})`)
    .option('--min-iou <x>', `drift below this IoU of the top-k% cells of the magnitude grids (${both('minIou')})`)
    .option('--min-ssim <x>', `drift below this SSIM of the signed grids (${both('minSsim')})`)
    .option('--max-score-delta <x>', 'drift when the target score F(x) moves by more than x, in the model\'s output units (default: reported only)')
    .option('--fail-on-class-change', 'drift when the top class changed (default: reported only)')
    .option('--top-k <percent>', `k of the top-k% IoU, in percent of the grid's cells (default ${D.topK})`)
    .addOption(new Option('--map <source>', 'raw: the .ig.npy files (explain --save-raw); grid: the reports\' 32x32 grids; auto: raw when both runs have them').choices(MAP_CHOICES as unknown as string[]).default('auto'))
    .option('--allow-config-change', 'compare runs explained with different settings (listed in the outputs)')
    .option('--worst <n>', `rows of passing images in the worst-images table (default ${DEFAULT_WORST_ROWS})`)
    .option('--json', 'print drift.json on stdout instead of the Markdown summary')
    .option('-q, --quiet', 'print only errors')
    .action(async (baseline: string, current: string, opts: RawDriftFlags & { json?: boolean; quiet?: boolean }) => {
      const { json, quiet, ...flags } = opts;
      const result = await runDrift(parseDriftFlags(baseline, current, flags));
      const s = result.report.summary;
      if (json) io.stdout.write(`${JSON.stringify(result.report, null, 2)}\n`);
      else if (!quiet) io.stdout.write(result.markdown);
      if (!quiet || result.exitCode !== 0) {
        for (const r of result.report.images) {
          if (r.status === 'error') say(`${c.red('error')} ${r.image}: ${r.error?.message ?? ''} [${r.error?.code ?? ''}]`);
        }
        const colour = result.exitCode === 0 ? c.green : c.red;
        say(
          `${colour(result.exitCode === 0 ? 'ok' : 'drift')}: ${s.images} images, ${s.drifted} drifted, ${s.errors} could not be compared → ${result.files.json}`,
        );
      }
      run.code = result.exitCode;
    });
}
