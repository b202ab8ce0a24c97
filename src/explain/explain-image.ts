/**
 * The explain use case for one image: prepare → F(x) and the target → the method → report → pictures
 * and files. Nothing is written unless everything was computed, and each file goes to a temporary name
 * first, so a failure or an interrupt leaves no half file. Returns data; never prints.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MethodResult } from '../attribution/compute-attributions.js';
import { computeScores } from '../attribution/integrated-gradients.js';
import type { Target } from '../attribution/types.js';
import { takeValues } from '../attribution/take-values.js';
import { computeUpsampledMap } from '../render/upsample.js';
import { buildImageOutputNames } from '../report/run-layout.js';
import { ReportSchema, type Report } from '../report/schema.js';
import { buildReport } from './build-report.js';
import type { ExplainImageOptions, ExplainResult } from './ports.js';
import { prepareImage, type PreparedImage } from './prepare-image.js';
import { resolveTarget } from './resolve-target.js';
import { runMethod } from './run-method.js';
import type { ExplainSession } from './session.js';
import { resolveStepPlan } from './step-plan.js';
import { renderPictures, writeOutputs } from './write-outputs.js';

interface Attributed {
  report: Report;
  /** For the pictures: [h, w, c] on the input pixels. */
  attributions: Float32Array;
  raw: { values: Float32Array; shape: [number, number, number] };
}

/**
 * Layer IG: reports and raw files keep the layer's own [h, w, c]; pictures show its spatial map, scaled
 * up to the image (nearest neighbour) and spread over the image's channels.
 */
function splitMaps(result: MethodResult, values: Float32Array, shape: [number, number, number]): Omit<Attributed, 'report'> {
  if (!result.layer) return { attributions: values, raw: { values, shape } };
  const [h, w] = result.layer.shape;
  return { attributions: computeUpsampledMap(result.layer.spatialMap, [h, w], shape), raw: { values: result.layer.attributions, shape: result.layer.shape } };
}

/**
 * Each baseline's own F(x′) is in its completeness, except where the method reports one shared
 * completeness for all (smoothing, layer IG): only then score the baselines again.
 */
function scoreBaselines(session: ExplainSession, result: MethodResult, baselines: tf.Tensor4D[], target: Target): number[] {
  const isShared = session.config.smooth !== undefined || session.config.layer !== undefined;
  if (!isShared) return result.perBaseline.map((p) => p.completeness.fBaseline);
  return baselines.map((b) => computeScores(session.forward.forward, b, target)[0] ?? NaN);
}

async function attribute(session: ExplainSession, prepared: PreparedImage, ctx: { imagePath: string; options: ExplainImageOptions; timingsMs: Record<string, number> }): Promise<Attributed> {
  const input = tf.tensor4d(prepared.input, prepared.shape);
  const baselines = prepared.baselineInputs.map((d) => tf.tensor4d(d, prepared.shape));
  try {
    const started = performance.now();
    const scores = tf.tidy(() => Array.from(session.forward.forward(input).dataSync()));
    const { target, rule } = resolveTarget(session.config.target, scores, session.forward.labels);
    const result = await runMethod(session, { input, baselines, inputData: prepared.input, baselineData: prepared.baselineInputs, target, onProgress: ctx.options.onProgress });
    const values = await takeValues(result.attributions);
    const maps = splitMaps(result, values, session.model.inputShape);
    ctx.timingsMs.attributionMs = performance.now() - started;
    const report = buildReport({
      session,
      imagePath: ctx.imagePath,
      prepared,
      scores,
      target,
      rule,
      result,
      raw: maps.raw,
      baselineScores: scoreBaselines(session, result, baselines, target),
      adaptive: resolveStepPlan(session.config).adaptive,
      names: buildImageOutputNames(ctx.imagePath, ctx.options.outputStem),
      timingsMs: ctx.timingsMs,
    });
    return { report, ...maps };
  } finally {
    input.dispose();
    tf.dispose(baselines);
  }
}

export async function explainImage(session: ExplainSession, imagePath: string, options: ExplainImageOptions = {}): Promise<ExplainResult> {
  const timingsMs: Record<string, number> = {};
  const t0 = performance.now();
  const prepared = await prepareImage(session, imagePath);
  timingsMs.decodeMs = performance.now() - t0;
  const { report, attributions, raw } = await attribute(session, prepared, { imagePath, options, timingsMs });

  const t2 = performance.now();
  const pictures = await renderPictures({ config: session.config, pixels: prepared.image.pixels, attributions, shape: session.model.inputShape, report });
  timingsMs.renderMs = performance.now() - t2;
  timingsMs.totalMs = performance.now() - t0;
  ReportSchema.parse(report);
  const names = buildImageOutputNames(imagePath, options.outputStem);
  const files = await writeOutputs({ config: session.config, names, report, pictures, raw });
  return { report, files };
}
