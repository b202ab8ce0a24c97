/**
 * `igx evaluate`: is the explanation any good? For each image: IG as `igx explain` computes it, then
 * deletion and insertion curves of its pixel order against random orders. Returns data and writes
 * `<stem>.evaluate.json`; never prints.
 */
import { mkdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { computeIntegratedGradients } from '../attribution/integrated-gradients.js';
import { DEFAULT_START_STEPS } from '../config/explain-config.js';
import { IgxError } from '../errors.js';
import type { ExplainSession } from '../explain.js';
import { resolveTarget } from '../explain.js';
import { buildBaselinePixels, createRng, parseBaselineSpec } from '../image/baselines.js';
import { computePreprocessed } from '../image/preprocess.js';
import { blurPixels, readImage } from '../image/read-image.js';
import { IGX_VERSION } from '../package-info.js';
import { writeFileAtomic } from '../report/atomic-write.js';
import { evaluateFaithfulness, type Curve } from './perturbation.js';

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
  /** Where under --out the file goes, without extension (default: the image's base name). */
  outputStem?: string;
}

export const DEFAULT_EVALUATE_OPTIONS: EvaluateOptions = { points: 50, randomOrders: 3, insertionStart: 'blur', insertionBlurSigma: 10, rankBlurSigma: 0 };

export interface Evaluation {
  schemaVersion: number;
  igxVersion: string;
  image: { path: string; sha256: string };
  model: { path: string; sha256: string };
  target: { index: number; label: string | null; score: number };
  attribution: { method: string; steps: number; baselines: string[]; completenessRelativeError: number | null };
  seed: number;
  points: number;
  randomOrders: number;
  deletion: { reference: 'black'; attribution: Curve; random: Curve; inverted: Curve };
  insertion: { reference: string; attribution: Curve; random: Curve; inverted: Curve };
  /** random − attribution deletion AUC, and attribution − random insertion AUC: > 0 beats chance. */
  deletionGain: number;
  insertionGain: number;
  timingsMs: Record<string, number>;
}

export function buildEvaluationName(imagePath: string, outputStem?: string): string {
  return `${outputStem ?? basename(imagePath, extname(imagePath))}.evaluate.json`;
}

export async function evaluateImage(
  session: ExplainSession,
  imagePath: string,
  options: EvaluateOptions = DEFAULT_EVALUATE_OPTIONS,
): Promise<{ evaluation: Evaluation; file: string }> {
  const t0 = performance.now();
  const { config, model, forward, preprocess } = session;
  const [height, width, channels] = model.inputShape;
  const readOptions = { height, width, channels: channels as 1 | 3, resize: session.resize, maxPixels: config.maxPixels };
  const image = await readImage(imagePath, readOptions);
  const rng = createRng(config.seed);
  const baselinePixels: Float32Array[] = [];
  for (const text of config.baselines) baselinePixels.push(await buildBaselinePixels(parseBaselineSpec(text), image, rng, readOptions));
  const shape: [number, number, number, number] = [1, height, width, channels];
  const inputData = computePreprocessed(image.pixels, channels, preprocess);
  const input = tf.tensor4d(inputData, shape);
  const baselines = baselinePixels.map((p) => tf.tensor4d(computePreprocessed(p, channels, preprocess), shape));
  let attributions: Float32Array;
  let ig: Awaited<ReturnType<typeof computeIntegratedGradients>>;
  let target: { kind: 'index'; index: number } | { kind: 'difference'; a: number; b: number };
  try {
    const scores = tf.tidy(() => Array.from(forward.forward(input).dataSync()));
    target = resolveTarget(config.target, scores, forward.labels).target;
    ig = await computeIntegratedGradients(forward.forward, input, baselines, target, {
      method: config.method,
      steps: config.steps ?? DEFAULT_START_STEPS,
      adaptive: config.steps === undefined ? { tolerance: config.tolerance, maxSteps: config.maxSteps } : undefined,
      batchSize: session.batchSize,
    });
    try {
      attributions = (await ig.attributions.data()) as Float32Array;
    } finally {
      ig.attributions.dispose();
    }
  } finally {
    input.dispose();
    tf.dispose(baselines);
  }
  const t1 = performance.now();
  const black = computePreprocessed(new Float32Array(image.pixels.length), channels, preprocess);
  const insertionReference = computePreprocessed(
    options.insertionStart === 'blur'
      ? await blurPixels(image.pixels, height, width, channels as 1 | 3, options.insertionBlurSigma)
      : (baselinePixels[0] as Float32Array),
    channels,
    preprocess,
  );
  const f = evaluateFaithfulness(forward.forward, inputData, attributions, [height, width, channels], target, {
    points: options.points,
    batchSize: session.batchSize,
    randomOrders: options.randomOrders,
    rankBlurSigma: options.rankBlurSigma,
    seed: config.seed,
    deletionReference: black,
    insertionReference,
  });
  const index = target.kind === 'index' ? target.index : target.a;
  const rel = ig.completeness.relativeError;
  const evaluation: Evaluation = {
    schemaVersion: EVALUATION_SCHEMA_VERSION,
    igxVersion: IGX_VERSION,
    image: { path: imagePath, sha256: image.sha256 },
    model: { path: session.modelPath, sha256: model.sha256 },
    target: { index, label: forward.labels?.[index] ?? null, score: ig.completeness.fx },
    attribution: { method: config.method, steps: ig.steps, baselines: config.baselines, completenessRelativeError: Number.isFinite(rel) ? rel : null },
    seed: config.seed,
    points: options.points,
    randomOrders: options.randomOrders,
    deletion: { reference: 'black', ...f.deletion },
    insertion: { reference: options.insertionStart === 'blur' ? `blur:${options.insertionBlurSigma}` : `baseline:${config.baselines[0] ?? 'black'}`, ...f.insertion },
    deletionGain: f.deletionGain,
    insertionGain: f.insertionGain,
    timingsMs: { attributionMs: t1 - t0, curvesMs: performance.now() - t1 },
  };
  const file = join(config.out, buildEvaluationName(imagePath, options.outputStem));
  await mkdir(join(file, '..'), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    throw new IgxError('E_WRITE', `--out ${config.out}: cannot create the folder (${err.code ?? err.message})`);
  });
  await writeFileAtomic(file, `${JSON.stringify(evaluation, null, 2)}\n`);
  return { evaluation, file };
}
