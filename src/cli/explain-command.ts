import { Option, type Command } from 'commander';
import { METHODS } from '../attribution/types.js';
import { checkHasInput, runBatch, type BatchSummary, type ImageExplainer } from '../batch/run-batch.js';
import { parseShard, type Shard } from '../batch/shard.js';
import { mergeExplainFlags, readConfigFile } from '../config/config-file.js';
import { BACKENDS, parseExplainFlags, type RawExplainFlags } from '../config/explain-config.js';
import { PRESETS, RESIZE_MODES } from '../image/preprocess.js';
import { POLARITIES } from '../render/colormap.js';
import { OUTPUT_SPACES } from '../model/types.js';
import { openExplainPool, type ExplainPool } from '../explain/pool/explain-pool.js';
import { writeGallery } from '../report/gallery.js';
import { ExplainProgress } from './explain-progress.js';
import { addMethodOptions, collect, type CommandContext } from './io.js';


interface ExplainCommandFlags extends RawExplainFlags {
  json?: boolean;
  quiet?: boolean;
  config?: string;
  resume?: boolean;
  shard?: string;
}

/** Exit codes for signals, as shells report them: 128 + the signal's number. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export function registerExplainCommand(program: Command, ctx: CommandContext): void {
  // No commander defaults: a value left out must stay undefined so igx.config.json can supply it.
  const head = program
    .command('explain')
    .description("attribute a classifier's score for each image to its pixels; write a heatmap, an overlay and a JSON report per image")
    .argument('<input...>', 'image files, folders (recursive) or quoted globs, mixed; images are JPEG, PNG, WebP, GIF, TIFF, AVIF')
    .option('-m, --model <path>', 'tfjs graph or layers model: a folder or its model.json (default: the embedded MobileNet v1 0.25)')
    .option('--signature <name>', 'SavedModels: the signature to explain (default: serving_default)')
    .option('--tags <list>', 'SavedModels: the MetaGraph tag set, comma-separated (default: serve)')
    .option('--input <key>', 'SavedModels: the signature input that takes the image, when it has several')
    .option('--output <name|index>', 'the model output F reads; for SavedModels a signature output key (default: the last)')
    .addOption(new Option('--output-space <space>', 'probabilities, or logits = the input of the output softmax (default: what the model outputs)').choices(OUTPUT_SPACES))
    .option('-t, --target <target>', "top (the predicted class), a class index, a label or one of its names (tabby, carpenter's kit), or A-B for F = out[A] - out[B] (default: top)")
    .addOption(new Option('--method <method>', 'quadrature rule along the path (default: gausslegendre)').choices(METHODS as string[]))
    .option('-s, --steps <n>', 'exactly n interpolation points per baseline (default: adaptive from 50)')
    .option('--tolerance <x>', 'adaptive: refine while the relative completeness error exceeds x (default: 0.05)')
    .option('--map-tolerance <x>', "the map's estimated per-pixel error allowed (report convergence.estimatedError); adaptive runs refine until it holds too (default: off; warnings use --tolerance)")
    .option('--max-steps <n>', 'adaptive: at most n points per baseline (default: 800; --path guided: 2000 gradients)')
    .option('-b, --baseline <spec>', 'black | white | uniform | gaussian[:SIGMA] | blur[:SIGMA] | an image file; repeat to average over baselines (default: black)', collect)
    .option('--baseline-samples <k>', 'draws of each random baseline, uniform and gaussian (default: 1)')
    .option('--seed <n>', 'seed for every random choice (default: 0)')
    .option('--batch-size <n>', 'interpolation points per model call, or auto (default: auto)')
    .addOption(new Option('--preprocess <preset>', "pixels (0..255) to model input (default: the model's igx.json, else [-1,1])").choices(PRESETS as unknown as string[]))
    .option('--mean <list>', 'per-channel mean for (x - mean) / std, e.g. 123.7,116.3,103.5')
    .option('--std <list>', 'per-channel std for (x - mean) / std')
    .addOption(new Option('--resize <mode>', 'fit the image to the model input (default: cover = centre crop)').choices(RESIZE_MODES as unknown as string[]))
    .addOption(new Option('--polarity <which>', 'which attributions the heatmap shows (default: absolute)').choices(POLARITIES as unknown as string[]))
    .option('--clip-percentile <p>', 'saturate the heatmap at this percentile (default: 99)')
    .option('-o, --out <dir>', 'output folder; outputs mirror the inputs\' folders below their common root (default: igx-out)')
    .option('--save-raw', 'also write photo.ig.npy: float32 attributions [H, W, C]')
    .addOption(new Option('--backend <name>', 'tensorflow (tfjs-node, if installed) > wasm > cpu (default: auto)').choices(BACKENDS as unknown as string[]))
    .option('--workers <n>', 'threads computing gradients, each with its own backend and model; 1 = no thread (default: one per core)')
    .option('--max-memory <size>', 'memory budget of the gradient work, all workers together, e.g. 2GB or 512MB; sets the automatic batch size and caps the workers (default: half the available memory)')
    .option('--fail-on-completeness', "exit 1 when an image's completeness error is above --tolerance")
    .option('--allow-empty', 'exit 0 when nothing is explained: no images found (else exit 2, E_NO_INPUT) or every input skipped (else exit 1, E_ALL_SKIPPED)')
    .option('--max-pixels <n>', 'refuse images with more pixels than this, read from the header before decoding (default: 268402689)')
    .option('--layer <name>', 'layer IG: attribute to this layer\'s activations (layers models; igx inspect lists the usable names)');
  addMethodOptions(head)
    .option('--baseline-dir <dir>', 'expected gradients: baselines drawn (seeded) from this folder of images, --baseline-samples of them')
    .option('--mask', 'also write photo.mask.png: the top attributions kept, the rest dimmed')
    .option('--blur <px>', 'mask: blur the map by this sigma before thresholding (default: 4)')
    .option('--threshold <q>', 'mask: keep what is above this quantile of the map (default: 0.9)')
    .option('--panel', 'also write photo.panel.png: original | heatmap | overlay | mask, with label, score and completeness')
    .option('--html', 'write index.html, a gallery of the run (implies --panel)')
    .option('--config <file>', 'JSON file of these flags in camelCase, under the command line (default: ./igx.config.json if present)')
    .option('--resume', 'skip inputs whose report exists for the same image bytes and config')
    .option('--shard <i/n>', 'take only the inputs of shard i of n (split by path hash); merge the manifests with igx merge')
    .option('--json', 'print one JSON line per image on stdout as it finishes (NDJSON), then a summary line')
    .option('-q, --quiet', 'print only errors')
    .action(async (inputs: string[], opts: ExplainCommandFlags) => {
      ctx.run.code = await runExplain(inputs, opts, ctx);
    });
}

/**
 * SIGINT/SIGTERM abandon the images in flight and let the run write its manifest; a second signal
 * exits at once. `name` is the first signal seen.
 */
function guardSignals(ctx: CommandContext): { controller: AbortController; name: () => string | undefined; dispose: () => void } {
  const controller = new AbortController();
  let signalName: string | undefined;
  const onSignal = (name: string): void => {
    if (signalName) process.exit(SIGNAL_EXIT[name] ?? 1); // a second signal: stop now
    signalName = name;
    ctx.say(ctx.c.yellow(`igx: ${name}: abandoning the images in progress, writing the manifest (press again to stop at once)`));
    controller.abort();
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    controller,
    name: () => signalName,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

/** The lines that say what runs: the model, the config file, backend, batch and workers. */
function describeRun(pool: ExplainPool, configFile: string | undefined, ctx: CommandContext): void {
  const { session, info } = pool;
  const { say, c } = ctx;
  if (session.isDefaultModel) say(c.dim(`igx: no --model given: using the embedded default, MobileNet v1 0.25 (${session.modelPath})`));
  if (configFile) say(c.dim(`igx: config from ${configFile}`));
  const workers = `${info.workers} worker${info.workers > 1 ? 's' : ''}${info.limitedBy ? ` (limited by ${info.limitedBy})` : ''}`;
  say(c.dim(`igx: backend ${session.backend.kind} (${session.backend.tfBackend}); model ${session.model.format} [${session.model.inputShape.join('x')}]; batch ${session.batchSize}; ${workers}`));
}

/** A run that explained nothing: why, and the code it fails with (none for a shard other shards cover). */
function describeEmptyRun(summary: BatchSummary, shard: Shard | undefined): { message: string; code?: 'E_ALL_SKIPPED' } | undefined {
  const { counts, rows } = summary.manifest;
  if (counts.ok > 0 || counts.failed > 0) return undefined;
  if (rows.some((row) => row.reason === 'resumed')) return undefined;
  if (counts.skipped > 0) return { message: `all ${counts.skipped} inputs were skipped (not images): nothing was explained; --allow-empty accepts that`, code: 'E_ALL_SKIPPED' };
  return { message: shard ? `shard ${shard.index}/${shard.count} holds none of the inputs: nothing to explain here` : 'no images found: nothing was explained' };
}

async function runExplain(inputs: string[], opts: ExplainCommandFlags, ctx: CommandContext): Promise<number> {
  const { io, c, say } = ctx;
  const { json, quiet, config: configPath, resume, shard: shardText, ...flags } = opts;
  const shard = shardText === undefined ? undefined : parseShard(shardText);
  const fromFile = await readConfigFile(configPath);
  const config = parseExplainFlags(mergeExplainFlags(fromFile?.flags, flags));
  // Before the model loads: an empty folder should not cost a model load and the workers' start.
  await checkHasInput(inputs, config.allowEmpty);
  const pool = await openExplainPool(config);
  const signals = guardSignals(ctx);
  const progress = new ExplainProgress(ctx, { json: Boolean(json), quiet: Boolean(quiet), tolerance: config.tolerance });
  const explainer: ImageExplainer = {
    explainImage: (path, options) => pool.explainImage(path, options),
    configHash: pool.configHash,
    model: { path: pool.session.modelPath, format: pool.session.model.format, sha256: pool.session.model.sha256 },
    concurrency: pool.concurrency,
  };
  try {
    if (!quiet) describeRun(pool, fromFile?.file, ctx);
    const summary = await runBatch(explainer, { inputs, config, shard, resume: Boolean(resume), signal: signals.controller.signal, onEvent: progress.onEvent });
    progress.stop();
    if (config.html) {
      const gallery = await writeGallery(config.out);
      if (!quiet) say(c.dim(`igx: gallery ${gallery.file}`));
    }
    const counts = summary.manifest.counts;
    if (json) {
      io.stdout.write(`${JSON.stringify({ summary: { ...counts, status: summary.manifest.status, manifest: summary.manifestPath, seconds: (Date.now() - progress.started) / 1000 } })}\n`);
    }
    const mapTolerance = config.mapTolerance ?? config.tolerance;
    const above = [
      progress.incomplete > 0 ? `, ${progress.incomplete} above the completeness tolerance ${config.tolerance}` : '',
      progress.unconverged > 0 ? `, ${progress.unconverged} whose map is above the map tolerance ${mapTolerance}` : '',
    ].join('');
    if (!quiet) say(`igx: ${counts.ok} ok${above}, ${counts.failed} failed, ${counts.skipped} skipped → ${summary.manifestPath}`);
    if (summary.isInterrupted) return SIGNAL_EXIT[signals.name() ?? 'SIGINT'] ?? 130;
    if (counts.failed > 0) return 1;
    const empty = describeEmptyRun(summary, shard);
    if (empty !== undefined) {
      if (config.allowEmpty || empty.code === undefined) {
        if (!quiet) say(c.dim(`igx: ${empty.message}`));
      } else {
        say(`${c.red('igx:')} ${empty.message} [${empty.code}]`);
        return 1;
      }
    }
    if (progress.incomplete > 0 && config.failOnCompleteness) {
      say(`${c.red('error')}: ${progress.incomplete} image(s) above the completeness tolerance ${config.tolerance} [E_COMPLETENESS]`);
      return 1;
    }
    if (progress.unconverged > 0 && config.failOnCompleteness) {
      say(`${c.red('error')}: ${progress.unconverged} image(s) whose map's estimated error is above the map tolerance ${mapTolerance} [E_COMPLETENESS]`);
      return 1;
    }
    return 0;
  } finally {
    progress.stop();
    signals.dispose();
    await pool.close();
  }
}
