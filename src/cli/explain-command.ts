import type { ChalkInstance } from 'chalk';
import cliProgress from 'cli-progress';
import { Option, type Command } from 'commander';
import { METHODS } from '../attribution/types.js';
import { BACKENDS, parseExplainFlags, POLARITIES, type RawExplainFlags } from '../config/explain-config.js';
import { PRESETS, RESIZE_MODES } from '../config/sidecar.js';
import { isIgxError } from '../errors.js';
import { closeExplainSession, explainImage, openExplainSession, type ExplainResult } from '../explain.js';
import type { CliIo, CommandContext } from './io.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerExplainCommand(program: Command, ctx: CommandContext): void {
  const { io, c, say, run } = ctx;
  program
    .command('explain')
    .description('attribute a classifier\'s score for each image to its pixels; write a heatmap, an overlay and a JSON report')
    .argument('<image...>', 'image files (JPEG, PNG, WebP, GIF, TIFF, AVIF)')
    .option('-m, --model <path>', 'tfjs graph or layers model: a folder or its model.json (default: the embedded MobileNet v1 0.25)')
    .option('--output <name|index>', 'the model output F reads (default: the last)')
    .addOption(new Option('--output-space <space>', 'probabilities, or logits = the input of the output softmax (default: what the model outputs)').choices(['probabilities', 'logits']))
    .option('-t, --target <target>', 'top (the predicted class), a class index, a label, or A-B for F = out[A] - out[B]', 'top')
    .addOption(new Option('--method <method>', 'quadrature rule along the path').choices(METHODS as string[]).default('gausslegendre'))
    .option('-s, --steps <n>', 'exactly n interpolation points per baseline (default: adaptive from 50)')
    .option('--tolerance <x>', 'adaptive: refine while the relative completeness error exceeds x', '0.05')
    .option('--max-steps <n>', 'adaptive: at most n points per baseline', '400')
    .option('-b, --baseline <spec>', 'black | white | uniform | gaussian[:SIGMA] | blur[:SIGMA] | an image file; repeat to average over baselines (default: black)', collect)
    .option('--baseline-samples <k>', 'draws of each random baseline (uniform, gaussian)', '1')
    .option('--seed <n>', 'seed for every random choice', '0')
    .option('--batch-size <n>', 'interpolation points per model call, or auto', 'auto')
    .addOption(new Option('--preprocess <preset>', 'pixels (0..255) to model input (default: the model\'s igx.json, else [-1,1])').choices(PRESETS as unknown as string[]))
    .option('--mean <list>', 'per-channel mean for (x - mean) / std, e.g. 123.7,116.3,103.5')
    .option('--std <list>', 'per-channel std for (x - mean) / std')
    .addOption(new Option('--resize <mode>', 'fit the image to the model input (default cover = centre crop)').choices(RESIZE_MODES as unknown as string[]))
    .addOption(new Option('--polarity <which>', 'which attributions the heatmap shows').choices(POLARITIES as unknown as string[]).default('absolute'))
    .option('--clip-percentile <p>', 'saturate the heatmap at this percentile of |attribution|', '99')
    .option('-o, --out <dir>', 'output folder', 'igx-out')
    .option('--save-raw', 'also write photo.ig.npy: float32 attributions [H, W, C]')
    .addOption(new Option('--backend <name>', 'tensorflow (tfjs-node, if installed) > wasm > cpu').choices(BACKENDS as unknown as string[]).default('auto'))
    .option('--fail-on-completeness', 'exit 1 when an image\'s completeness error is above --tolerance')
    .option('--max-pixels <n>', 'refuse images with more pixels than this, before decoding')
    .option('--json', 'print one JSON object per image on stdout (the report plus output paths)')
    .option('-q, --quiet', 'print only errors')
    .action(async (images: string[], opts: RawExplainFlags & { json?: boolean; quiet?: boolean }) => {
      const { json, quiet, ...flags } = opts;
      run.code = await runExplain(images, flags, { json: Boolean(json), quiet: Boolean(quiet) }, io, c, say);
    });
}

async function runExplain(
  images: string[],
  flags: RawExplainFlags,
  mode: { json: boolean; quiet: boolean },
  io: CliIo,
  c: ChalkInstance,
  say: (line: string) => void,
): Promise<number> {
  const config = parseExplainFlags(flags);
  const session = await openExplainSession(config);
  try {
    if (session.isDefaultModel && !mode.quiet) {
      say(c.dim(`igx: no --model given: using the embedded default, MobileNet v1 0.25 (${session.modelPath})`));
    }
    if (!mode.quiet) {
      say(c.dim(`igx: backend ${session.backend.kind} (${session.backend.tfBackend}); model ${session.model.format} [${session.model.inputShape.join('x')}]; batch ${session.batchSize}`));
    }
    const showBar = Boolean(io.stderr.isTTY) && !mode.json && !mode.quiet;
    let failed = 0;
    let incomplete = 0;
    for (const image of images) {
      const bar = showBar
        ? new cliProgress.SingleBar(
            { stream: io.stderr as NodeJS.WritableStream & NodeJS.WriteStream, format: `${image} [{bar}] {value}/{total} points | {duration_formatted} elapsed`, hideCursor: true, clearOnComplete: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      bar?.start(1, 0);
      let result: ExplainResult;
      try {
        result = await explainImage(session, image, {
          onProgress: (p) => {
            bar?.setTotal(p.pointsPlanned * p.baselineCount);
            bar?.update(p.baselineIndex * p.pointsPlanned + p.pointsDone);
          },
        });
      } catch (err) {
        bar?.stop();
        if (!isIgxError(err) || err.exitCode !== 1) throw err;
        failed += 1;
        say(`${c.red('error')} ${image}: ${err.message} [${err.code}]`);
        if (mode.json) io.stdout.write(`${JSON.stringify({ image: { path: image }, error: { code: err.code, message: err.message } })}\n`);
        continue;
      }
      bar?.stop();
      const r = result.report;
      const within = r.completeness.isWithinTolerance;
      if (!within) incomplete += 1;
      if (mode.json) io.stdout.write(`${JSON.stringify({ ...r, files: result.files })}\n`);
      if (!mode.quiet) {
        const rel = r.completeness.relativeError === null ? 'n/a' : r.completeness.relativeError.toFixed(4);
        const label = r.target.label ?? `class ${r.target.index}`;
        const minus = r.target.minus ? ` − ${r.target.minus.label ?? `class ${r.target.minus.index}`}` : '';
        say(`${c.green('ok')} ${image}: ${label}${minus} ${r.target.score.toFixed(4)} · ${r.steps} steps · completeness error ${(within ? c.green : c.yellow)(rel)} → ${result.files.heatmap}`);
        for (const w of r.warnings) say(`${c.yellow('warning')} ${image}: ${w}`);
      }
    }
    if (failed > 0) return 1;
    if (incomplete > 0 && session.config.failOnCompleteness) {
      say(`${c.red('error')}: ${incomplete} image(s) above the completeness tolerance ${session.config.tolerance} [E_COMPLETENESS]`);
      return 1;
    }
    return 0;
  } finally {
    closeExplainSession(session);
  }
}

