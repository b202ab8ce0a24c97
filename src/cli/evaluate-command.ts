import { Option, type Command } from 'commander';
import { BACKENDS, parseExplainFlags } from '../config/explain-config.js';
import { PRESETS } from '../image/preprocess.js';
import { OUTPUT_SPACES } from '../model/types.js';
import { IgxError, isIgxError } from '../errors.js';
import { closeExplainSession, openExplainSession } from '../explain/index.js';
import { buildEvaluateBaselines, DEFAULT_EVALUATE_OPTIONS, evaluateImage } from '../evaluate/run-evaluate.js';
import { addMethodOptions, collect, type CommandContext } from './io.js';


interface EvaluateFlags {
  model?: string;
  target?: string;
  outputSpace?: string;
  steps?: string;
  baseline?: string[];
  seed?: string;
  batchSize?: string;
  preprocess?: string;
  backend?: string;
  out?: string;
  points?: string;
  randomOrders?: string;
  randomizeLayers?: string;
  insertionStart?: 'baseline' | 'blur';
  insertionBlur?: string;
  rankBlur?: string;
  patch?: string;
  path?: string;
  maxSigma?: string;
  smooth?: string;
  noise?: string;
  smoothKind?: string;
  json?: boolean;
}

const nonNegative = (flag: string, text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw new IgxError('E_FLAG', `${flag}: expected a number ≥ 0, received ${JSON.stringify(text)}`);
  return v;
};

const whole = (flag: string, text: string | undefined, fallback: number, min: number): number => {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min) throw new IgxError('E_FLAG', `${flag}: expected a whole number ≥ ${min}, received ${JSON.stringify(text)}`);
  return Number(text);
};

export function registerEvaluateCommand(program: Command, ctx: CommandContext): void {
  const head = program
    .command('evaluate')
    .description('faithfulness of IG (or of --path/--smooth) per image: deletion and insertion curves and their AUC against random pixel orders; writes <image>.evaluate.json')
    .argument('<image...>', 'image files')
    .option('-m, --model <path>', 'tfjs graph or layers model (default: the embedded MobileNet v1 0.25)')
    .option('-t, --target <target>', 'top, a class index, a label or A-B (default: top)')
    .addOption(new Option('--output-space <space>', 'logits: F reads the softmax\'s input when the output is a softmax; the curves read the same F (default: what the model outputs)').choices(OUTPUT_SPACES))
    .option('-s, --steps <n>', 'exactly n IG points per baseline (default: adaptive from 50)');
  addMethodOptions(head)
    .option('-b, --baseline <spec>', `IG baseline, as for explain; repeat to average (default: the curves' references, ${buildEvaluateBaselines(DEFAULT_EVALUATE_OPTIONS).join(' and ')})`, collect)
    .option('--seed <n>', 'seed of the random orders and baselines (default: 0)')
    .option('--batch-size <n>', 'images per model call, or auto (default: auto)')
    .addOption(new Option('--preprocess <preset>', "pixels to model input (default: the model's igx.json, else [-1,1])").choices(PRESETS as unknown as string[]))
    .addOption(new Option('--backend <name>', 'backend (default: auto)').choices(BACKENDS as unknown as string[]))
    .option('-o, --out <dir>', 'output folder (default: igx-out)')
    .option('--points <n>', `curve points (default: ${DEFAULT_EVALUATE_OPTIONS.points})`)
    .option('--random-orders <n>', `random orders averaged for the comparison (default: ${DEFAULT_EVALUATE_OPTIONS.randomOrders})`)
    .option(
      '--randomize-layers <k>',
      'model-randomisation sanity check (Adebayo et al. 2018; layers models): shuffle the weights of the top k weighted layers of a copy of the model, recompute IG, report the Spearman rank correlation of |IG| (default: off)',
    )
    .addOption(
      new Option('--insertion-start <kind>', `what insertion starts from: blur (RISE's blurred image) or baseline (IG's first baseline) (default: ${DEFAULT_EVALUATE_OPTIONS.insertionStart})`).choices([
        'blur',
        'baseline',
      ]),
    )
    .option('--insertion-blur <sigma>', `blur of insertion's start image, pixels (default: ${DEFAULT_EVALUATE_OPTIONS.insertionBlurSigma})`)
    .option('--rank-blur <sigma>', `Gaussian smoothing of the attribution map before pixels are ranked, pixels; 0 ranks the raw map (default: ${DEFAULT_EVALUATE_OPTIONS.rankBlurSigma})`)
    .option('--patch <px>', `take pixels in square patches of this side, ranked by their mean attribution; random orders shuffle the same patches (default: ${DEFAULT_EVALUATE_OPTIONS.patch}, single pixels)`)
    .option('--json', 'print one JSON line per image on stdout')
    .action(async (images: string[], opts: EvaluateFlags) => {
      const { points: pointsText, randomOrders: ordersText, randomizeLayers: randomizeText, insertionStart, insertionBlur, rankBlur, patch, json, ...flags } = opts;
      const options = {
        ...DEFAULT_EVALUATE_OPTIONS,
        insertionStart: insertionStart ?? DEFAULT_EVALUATE_OPTIONS.insertionStart,
        insertionBlurSigma: nonNegative('--insertion-blur', insertionBlur, DEFAULT_EVALUATE_OPTIONS.insertionBlurSigma),
        rankBlurSigma: nonNegative('--rank-blur', rankBlur, DEFAULT_EVALUATE_OPTIONS.rankBlurSigma),
        patch: whole('--patch', patch, DEFAULT_EVALUATE_OPTIONS.patch, 1),
        points: whole('--points', pointsText, DEFAULT_EVALUATE_OPTIONS.points, 1),
        randomOrders: whole('--random-orders', ordersText, DEFAULT_EVALUATE_OPTIONS.randomOrders, 1),
        ...(randomizeText === undefined ? {} : { randomizeLayers: whole('--randomize-layers', randomizeText, 0, 0) }),
      };
      const session = await openExplainSession(parseExplainFlags({ ...flags, baseline: flags.baseline ?? buildEvaluateBaselines(options) }));
      try {
        if (options.randomizeLayers !== undefined && session.model.format !== 'layers') {
          throw new IgxError('E_FLAG', `--randomize-layers needs a layers model; ${session.modelPath} is a ${session.model.format} model`);
        }
        for (const image of images) {
          try {
            const { evaluation: e, file } = await evaluateImage(session, image, options);
            if (json) {
              ctx.io.stdout.write(`${JSON.stringify({ image, file, deletionAuc: e.deletion.attribution.auc, deletionRandomAuc: e.deletion.random.auc, insertionAuc: e.insertion.attribution.auc, insertionRandomAuc: e.insertion.random.auc, ...(e.randomization === undefined ? {} : { randomizedLayers: e.randomization.count, randomizationSpearmanAbs: e.randomization.spearmanAbs, randomizationSsimAbs: e.randomization.ssimAbs }) })}\n`);
            } else {
              const f = (x: number): string => x.toFixed(3);
              const ok = e.deletionGain > 0 && e.insertionGain > 0;
              const r = e.randomization;
              const randomized =
                r === undefined ? '' : `  top ${r.count} layers randomised: Spearman |IG| ${f(r.spearmanAbs)}, SSIM ${f(r.ssimAbs)}${r.count > 0 && r.spearmanAbs > 0.9 ? ` ${ctx.c.yellow('(barely changed: the map may not depend on the weights)')}` : ''}`;
              ctx.io.stdout.write(
                `${image}: ${e.target.label ?? e.target.index} ${f(e.target.score)}  deletion AUC ${f(e.deletion.attribution.auc)} (random ${f(e.deletion.random.auc)})  insertion AUC ${f(e.insertion.attribution.auc)} (random ${f(e.insertion.random.auc)})  ${ok ? ctx.c.green('beats random') : ctx.c.yellow('does not beat random')}${randomized} → ${file}\n`,
              );
            }
          } catch (err) {
            if (!isIgxError(err) || err.exitCode !== 1) throw err;
            ctx.say(`${ctx.c.red('igx:')} ${image}: ${err.message} [${err.code}]`);
            ctx.run.code = 1;
          }
        }
      } finally {
        closeExplainSession(session);
      }
    });
}
