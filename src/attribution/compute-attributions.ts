/**
 * One entry for every attribution method explain offers: the straight-line IG path (optionally smoothed
 * with noise, SmoothGrad over IG), the blur path (Blur IG) and the guided path (Guided IG). Each returns
 * the shape computeIntegratedGradients returns, so reports and renderers need not know which ran.
 */
import * as tf from '@tensorflow/tfjs-core';
import { computeBlurIG } from './blur-ig.js';
import { computeGuidedIG, GUIDED_IG_DEFAULTS, type GuidedIGResult } from './guided-ig.js';
import { computeCompleteness, computeIntegratedGradients, type BaselineAttribution, type IntegratedGradientsOptions, type IntegratedGradientsResult } from './integrated-gradients.js';
import { computeSmoothGradIG, type SmoothGradOptions } from './smoothgrad.js';
import type { AttributionProblem, PathKind, PointGradientsFn, SmoothKind } from './types.js';

export type { AttributionProblem };

export interface PathOptions {
  kind: PathKind;
  /** Blur IG: the path starts at the input blurred with this sigma (pixels). */
  blurMaxSigma: number;
}

export interface SmoothOptions {
  samples: number;
  /** Noise sigma in preprocessed-input units. */
  sigma: number;
  kind: SmoothKind;
}

export interface MethodResult extends Omit<IntegratedGradientsResult, 'gradientEvaluations' | 'modelCalls'> {
  gradientEvaluations?: number;
  modelCalls?: number;
  /** False where completeness does not apply (smoothgrad_sq, vargrad: squares and variances of IG). */
  isCompletenessApplicable: boolean;
  /** Layer IG: the layer's own attributions [h, w, c], per-channel totals and spatial map. */
  layer?: { name: string; shape: [number, number, number]; attributions: Float32Array; channelTotals: Float64Array; spatialMap: Float64Array };
}

/** How: the IG settings, the path, SmoothGrad over IG when asked for, and the seed of its noise. */
export interface MethodOptions {
  ig: IntegratedGradientsOptions;
  path: PathOptions;
  smooth?: SmoothOptions;
  seed: number;
  /** SmoothGrad: where its noisy copies' gradient batches may run (igx's worker pool). */
  samplePool?: SmoothGradOptions['pool'];
  /** Blur IG and Guided IG: where their points' gradients may run (igx's worker pool). */
  pointPool?: PointPool;
}

/** Gradients at given points, computed elsewhere by `parallelism` threads. */
export interface PointPool {
  pointGradients: PointGradientsFn;
  /** Threads computing gradients: Guided IG walks this many baselines at once. */
  parallelism: number;
  batchesAhead: number;
}

type Progress = IntegratedGradientsOptions['onProgress'];

/** A method's own progress (done of planned) as explain's progress event for one path. */
const onPath = (onProgress: Progress, baselineIndex = 0, baselineCount = 1) =>
  onProgress ? (done: number, planned: number) => onProgress({ baselineIndex, baselineCount, pointsDone: done, pointsPlanned: planned }) : undefined;

async function computeSmoothed(p: AttributionProblem, m: MethodOptions & { smooth: SmoothOptions }): Promise<MethodResult> {
  const { onProgress, weightedGradientSum: _w, batchesAhead: _b, ...igOptions } = m.ig;
  const pool = m.samplePool ? { pool: m.samplePool } : {};
  const r = await computeSmoothGradIG(p, { ...m.smooth, seed: m.seed, ig: igOptions, onSample: onPath(onProgress), ...pool });
  const sum = tf.tidy(() => tf.sum(r.attributions).dataSync()[0] ?? NaN);
  const meanFb = r.perSample.reduce((s, c) => s + c.fBaseline, 0) / Math.max(1, r.perSample.length);
  const completeness = r.completeness ?? computeCompleteness(r.fxClean, meanFb, sum);
  const perBaseline: BaselineAttribution[] = p.baselines.map(() => ({ completeness, steps: m.ig.steps, isConverged: true, estimatedError: null }));
  return {
    attributions: r.attributions,
    perBaseline,
    completeness,
    steps: m.ig.steps,
    isConverged: true,
    // Noisy copies each have their own integral: no single coarser map to compare with.
    estimatedError: null,
    gradientEvaluations: r.gradientEvaluations,
    modelCalls: r.modelCalls,
    isCompletenessApplicable: r.completeness !== null,
  };
}

async function computeBlurred(p: AttributionProblem, m: MethodOptions): Promise<MethodResult> {
  const pool = m.pointPool ? { pointGradients: m.pointPool.pointGradients, batchesAhead: m.pointPool.batchesAhead } : {};
  const blur = { maxSigma: m.path.blurMaxSigma, steps: m.ig.steps, batchSize: m.ig.batchSize, onProgress: onPath(m.ig.onProgress), ...pool };
  const r = await computeBlurIG(p, blur);
  return {
    attributions: r.attributions,
    perBaseline: [{ completeness: r.completeness, steps: m.ig.steps, isConverged: true, estimatedError: null }],
    completeness: r.completeness,
    steps: m.ig.steps,
    isConverged: true,
    estimatedError: null,
    gradientEvaluations: r.gradientEvaluations,
    modelCalls: r.gradientEvaluations,
    isCompletenessApplicable: true,
  };
}

/** Guided IG's walk from baseline b. */
function walkFrom(p: AttributionProblem, m: MethodOptions, b: number): Promise<GuidedIGResult> {
  const { ig } = m;
  return computeGuidedIG({ ...p, baseline: p.baselines[b] as tf.Tensor4D }, {
    steps: ig.steps,
    fraction: GUIDED_IG_DEFAULTS.fraction,
    maxDist: GUIDED_IG_DEFAULTS.maxDist,
    adaptive: ig.adaptive ? { tolerance: ig.adaptive.tolerance, maxEvaluations: ig.adaptive.maxSteps } : undefined,
    onProgress: onPath(ig.onProgress, b, p.baselines.length),
    ...(m.pointPool ? { pointGradients: m.pointPool.pointGradients } : {}),
  });
}

/**
 * Guided IG: one path per baseline, averaged like straight-line IG. Each walk is sequential; with the
 * pool, up to `parallelism` baselines walk at once. Their maps are added in baseline order, so the
 * result does not depend on how many walked together.
 */
async function computeGuided(p: AttributionProblem, m: MethodOptions): Promise<MethodResult> {
  const { ig } = m;
  const window = Math.max(1, m.pointPool?.parallelism ?? 1);
  const results: GuidedIGResult[] = [];
  try {
    for (let first = 0; first < p.baselines.length; first += window) {
      const walks = p.baselines.slice(first, first + window).map((_, k) => walkFrom(p, m, first + k));
      const settled = await Promise.allSettled(walks);
      for (const s of settled) if (s.status === 'fulfilled') results.push(s.value);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
    }
    const perBaseline: BaselineAttribution[] = results.map((r) => ({ completeness: r.completeness, steps: ig.steps, isConverged: r.isConverged, estimatedError: null }));
    const mean = tf.tidy(() => {
      let total = (results[0] as GuidedIGResult).attributions as tf.Tensor3D;
      for (const r of results.slice(1)) total = tf.add(total, r.attributions);
      return tf.div(total, p.baselines.length) as tf.Tensor3D;
    });
    const sum = tf.tidy(() => tf.sum(mean).dataSync()[0] ?? NaN);
    const fx = perBaseline[0]?.completeness.fx ?? NaN;
    const fb = perBaseline.reduce((s, q) => s + q.completeness.fBaseline, 0) / perBaseline.length;
    const evaluations = results.reduce((s, r) => s + r.gradientEvaluations, 0);
    return {
      attributions: mean,
      perBaseline,
      completeness: computeCompleteness(fx, fb, sum),
      steps: ig.steps,
      isConverged: perBaseline.every((q) => q.isConverged),
      estimatedError: null,
      gradientEvaluations: evaluations,
      modelCalls: evaluations,
      isCompletenessApplicable: true,
    };
  } finally {
    tf.dispose(results.map((r) => r.attributions));
  }
}

/** The method `m` asks for on problem `p`; the caller disposes the result's attributions. */
export async function computeAttributions(p: AttributionProblem, m: MethodOptions): Promise<MethodResult> {
  if (m.path.kind === 'straight' && m.smooth === undefined) {
    return { ...(await computeIntegratedGradients(p, m.ig)), isCompletenessApplicable: true };
  }
  if (m.path.kind === 'straight') return computeSmoothed(p, { ...m, smooth: m.smooth as SmoothOptions });
  if (m.path.kind === 'blur') return computeBlurred(p, m);
  return computeGuided(p, m);
}
