/**
 * `igx evaluate`: is the explanation any good? For each image: IG as `igx explain` computes it, then
 * deletion and insertion curves of its pixel order against random orders. Returns data and writes
 * `<stem>.evaluate.json`; never prints.
 */
import { buildImageOutputNames } from '../report/run-layout.js';

import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { computeAttributions, type MethodResult } from '../attribution/compute-attributions.js';
import type { ForwardFn, Target } from '../attribution/types.js';
import { takeValues } from '../attribution/take-values.js';
import { IgxError } from '../errors.js';
import type { ExplainSession } from '../explain/index.js';
import { resolveStepPlan, resolveTarget } from '../explain/index.js';
import { prepareImage, type PreparedImage } from '../explain/prepare-image.js';
import { computePreprocessed } from '../image/preprocess.js';
import { blurPixels } from '../image/read-image.js';
import { IGX_VERSION } from '../package-info.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { evaluateFaithfulness, type Curve } from './perturbation.js';
import { compareAttributionMaps, loadRandomizedModel, type MapSimilarity } from './randomization.js';
import { ensureDir } from '../files/ensure-dir.js';

export const EVALUATION_SCHEMA_VERSION = 1;

export interface EvaluateOptions {
  /** Curve points (default 50). */
  points: number;
  /** Random orders averaged (default 3). */
  randomOrders: number;
  /**
   * What insertion starts from: 'baseline' (IG's first baseline, so the curve walks from F(x′) to F(x)
   * as the attribution explains it) or 'blur' (RISE's blurred canvas, `insertionBlurSigma` pixels).
   */
  insertionStart: 'baseline' | 'blur';
  insertionBlurSigma: number;
  /**
   * Gaussian smoothing (pixels) of the channel-summed attribution map before pixels are ranked; 0 ranks
   * the raw map. IG's raw maps are speckled; a few pixels of smoothing ranks regions, as people read them.
   */
  rankBlurSigma: number;
  /** Side of the square patches pixels are taken in (1: single pixels). */
  patch: number;
  /** Where under --out the file goes, without extension (default: the image's base name). */
  outputStem?: string;
  /**
   * The model-randomisation check (see randomization.ts): shuffle the weights of this many top weighted
   * layers of a copy of the model and compare IG on it with IG on the model. undefined: no check; 0: the
   * check's control (an unchanged copy: every similarity is 1). Layers models only (IgxError E_FLAG).
   */
  randomizeLayers?: number;
}

/**
 * igx evaluate's IG baselines unless -b is given: the curves' references (deletion's black, insertion's
 * blurred image), so the averaged map attributes against both. With black alone, insertion beat random
 * on 6 of the 9 fixture photos; with both, on 8 (deletion on 9 either way). Insertion from the baseline
 * (`insertionStart: 'baseline'`) leaves black alone.
 */
export function buildEvaluateBaselines(options: Pick<EvaluateOptions, 'insertionStart' | 'insertionBlurSigma'>): string[] {
  return options.insertionStart === 'blur' ? ['black', `blur:${options.insertionBlurSigma}`] : ['black'];
}

export const DEFAULT_EVALUATE_OPTIONS: EvaluateOptions = { points: 50, randomOrders: 3, insertionStart: 'blur', insertionBlurSigma: 10, rankBlurSigma: 0, patch: 1 };

export interface Evaluation {
  schemaVersion: number;
  igxVersion: string;
  image: { path: string; sha256: string };
  model: { path: string; sha256: string };
  target: { index: number; label: string | null; score: number };
  attribution: {
    method: string;
    /** The path as explain names it (straight, blur, guided) and the smoothing, when one was asked for. */
    path: { kind: 'straight' | 'blur' | 'guided'; maxSigma: number | null };
    smoothing: { samples: number; sigma: number; kind: string } | null;
    steps: number;
    baselines: string[];
    /** null where completeness does not apply (smoothgrad_sq, vargrad) or F(x) ≈ F(x′). */
    completenessRelativeError: number | null;
  };
  seed: number;
  points: number;
  randomOrders: number;
  /** Gaussian smoothing (pixels) of the summed map before ranking; 0: the raw map. */
  rankBlurSigma: number;
  patch: number;
  deletion: { reference: 'black'; attribution: Curve; random: Curve; inverted: Curve };
  insertion: { reference: string; attribution: Curve; random: Curve; inverted: Curve };
  /** random − attribution deletion AUC, and attribution − random insertion AUC: > 0 beats chance. */
  deletionGain: number;
  insertionGain: number;
  /** Present with options.randomizeLayers: how IG on the partly randomised model compares. */
  randomization?: Randomization;
  timingsMs: Record<string, number>;
}

export interface Randomization extends MapSimilarity {
  /** Weighted layers randomised, counted from the output. */
  count: number;
  /** Their names, the output's side first. */
  layers: string[];
  method: 'shuffle';
  seed: number;
  /** F(x) of the randomised model for the same target, and the IG points it used per baseline. */
  score: number;
  steps: number;
  completenessRelativeError: number | null;
}

export function buildEvaluationName(imagePath: string, outputStem?: string): string {
  return buildImageOutputNames(imagePath, outputStem).evaluate;
}

interface Attributed {
  target: Target;
  attributions: Float32Array;
  ig: MethodResult;
  randomization?: Randomization;
  randomizationMs: number;
}

/** The randomisation check: the same procedure on a copy with its top layers' weights shuffled. */
async function computeRandomization(session: ExplainSession, attribute: (f: ForwardFn) => Promise<MethodResult>, attributions: Float32Array, count: number): Promise<Randomization> {
  const { config, model, forward } = session;
  const [height, width, channels] = model.inputShape;
  const randomized = await loadRandomizedModel(model, forward, count, config.seed);
  try {
    const rig = await attribute(randomized.forward);
    const randomAttributions = await takeValues(rig.attributions);
    const rel = rig.completeness.relativeError;
    return {
      count,
      layers: randomized.layers,
      method: 'shuffle',
      seed: config.seed,
      score: rig.completeness.fx,
      steps: rig.steps,
      completenessRelativeError: rig.isCompletenessApplicable && Number.isFinite(rel) ? rel : null,
      ...compareAttributionMaps(attributions, randomAttributions, [height, width, channels]),
    };
  } finally {
    randomized.dispose();
  }
}

/** The attributions explain computes with these flags (same path, smoothing, step plan and baselines). */
async function attribute(session: ExplainSession, prepared: PreparedImage, randomizeLayers: number | undefined): Promise<Attributed> {
  const { config, forward } = session;
  const input = tf.tensor4d(prepared.input, prepared.shape);
  const baselines = prepared.baselineInputs.map((d) => tf.tensor4d(d, prepared.shape));
  try {
    const scores = tf.tidy(() => Array.from(forward.forward(input).dataSync()));
    const target = resolveTarget(config.target, scores, forward.labels).target;
    const igOptions = { method: config.method, ...resolveStepPlan(config), batchSize: session.batchSize };
    const path = { kind: config.path, blurMaxSigma: config.maxSigma };
    const run = (f: ForwardFn) => computeAttributions({ forward: f, input, baselines, target }, { ig: igOptions, path, smooth: config.smooth, seed: config.seed });
    const ig = await run(forward.forward);
    const attributions = await takeValues(ig.attributions);
    if (randomizeLayers === undefined) return { target, attributions, ig, randomizationMs: 0 };
    const started = performance.now();
    const randomization = await computeRandomization(session, run, attributions, randomizeLayers);
    return { target, attributions, ig, randomization, randomizationMs: performance.now() - started };
  } finally {
    input.dispose();
    tf.dispose(baselines);
  }
}

/** Deletion from black, insertion from the blurred photo or IG's first baseline. */
async function computeCurves(session: ExplainSession, prepared: PreparedImage, a: Attributed, options: EvaluateOptions) {
  const { config, model, forward, preprocess } = session;
  const [height, width, channels] = model.inputShape;
  const pixels = prepared.image.pixels;
  const black = computePreprocessed(new Float32Array(pixels.length), channels, preprocess);
  const start = options.insertionStart === 'blur' ? await blurPixels(pixels, [height, width, channels as 1 | 3], options.insertionBlurSigma) : (prepared.baselinePixels[0] as Float32Array);
  return evaluateFaithfulness({ forward: forward.forward, input: prepared.input, shape: [height, width, channels], target: a.target }, a.attributions, {
    points: options.points,
    batchSize: session.batchSize,
    randomOrders: options.randomOrders,
    rankBlurSigma: options.rankBlurSigma,
    patch: options.patch,
    seed: config.seed,
    deletionReference: black,
    insertionReference: computePreprocessed(start, channels, preprocess),
  });
}

async function writeEvaluation(config: ExplainSession['config'], name: string, evaluation: Evaluation): Promise<string> {
  const file = join(config.out, name);
  await ensureDir(join(file, '..')).catch((err: NodeJS.ErrnoException) => {
    throw new IgxError('E_WRITE', `--out ${config.out}: cannot create the folder (${err.code ?? err.message})`);
  });
  await writeFileAtomic(file, `${JSON.stringify(evaluation, null, 2)}\n`);
  return file;
}

export async function evaluateImage(
  session: ExplainSession,
  imagePath: string,
  options: EvaluateOptions = DEFAULT_EVALUATE_OPTIONS,
): Promise<{ evaluation: Evaluation; file: string }> {
  const t0 = performance.now();
  const { config, model, forward } = session;
  if (options.randomizeLayers !== undefined && model.format !== 'layers') {
    throw new IgxError('E_FLAG', `--randomize-layers needs a layers model; ${session.modelPath} is a ${model.format} model`);
  }
  const prepared = await prepareImage(session, imagePath);
  const a = await attribute(session, prepared, options.randomizeLayers);
  const t1 = performance.now();
  const f = await computeCurves(session, prepared, a, options);
  const { ig, target, randomization } = a;
  const index = target.kind === 'index' ? target.index : target.a;
  const rel = ig.completeness.relativeError;
  const evaluation: Evaluation = {
    schemaVersion: EVALUATION_SCHEMA_VERSION,
    igxVersion: IGX_VERSION,
    image: { path: imagePath, sha256: prepared.image.sha256 },
    model: { path: session.modelPath, sha256: model.sha256 },
    target: { index, label: forward.labels?.[index] ?? null, score: ig.completeness.fx },
    attribution: {
      method: config.method,
      path: { kind: config.path, maxSigma: config.path === 'blur' ? config.maxSigma : null },
      smoothing: config.smooth ?? null,
      steps: ig.steps,
      baselines: config.path === 'blur' ? [`blur:${config.maxSigma}`] : config.baselines,
      completenessRelativeError: ig.isCompletenessApplicable && Number.isFinite(rel) ? rel : null,
    },
    seed: config.seed,
    points: options.points,
    randomOrders: options.randomOrders,
    rankBlurSigma: options.rankBlurSigma,
    patch: options.patch,
    deletion: { reference: 'black', ...f.deletion },
    insertion: { reference: options.insertionStart === 'blur' ? `blur:${options.insertionBlurSigma}` : `baseline:${config.baselines[0] ?? 'black'}`, ...f.insertion },
    deletionGain: f.deletionGain,
    insertionGain: f.insertionGain,
    ...(randomization === undefined ? {} : { randomization }),
    timingsMs: { attributionMs: t1 - t0 - a.randomizationMs, curvesMs: performance.now() - t1, ...(randomization === undefined ? {} : { randomizationMs: a.randomizationMs }) },
  };
  const file = await writeEvaluation(config, buildEvaluationName(imagePath, options.outputStem), evaluation);
  return { evaluation, file };
}
