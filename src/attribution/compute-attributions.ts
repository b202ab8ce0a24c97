/**
 * One entry for every attribution method explain offers: the straight-line IG path (optionally smoothed
 * with noise, SmoothGrad over IG), the blur path (Blur IG) and the guided path (Guided IG). Each returns
 * the shape computeIntegratedGradients returns, so reports and renderers need not know which ran.
 */
import * as tf from '@tensorflow/tfjs-core';
import { computeBlurIG } from './blur-ig.js';
import { computeGuidedIG, GUIDED_IG_DEFAULTS } from './guided-ig.js';
import { computeCompleteness, computeIntegratedGradients, type BaselineAttribution, type IntegratedGradientsOptions, type IntegratedGradientsResult } from './integrated-gradients.js';
import { computeSmoothGradIG } from './smoothgrad.js';
import type { ForwardFn, PathKind, SmoothKind, Target } from './types.js';

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

export async function computeAttributions(
  forward: ForwardFn,
  input: tf.Tensor4D,
  baselines: tf.Tensor4D[],
  target: Target,
  ig: IntegratedGradientsOptions,
  path: PathOptions,
  smooth: SmoothOptions | undefined,
  seed: number,
): Promise<MethodResult> {
  if (path.kind === 'straight' && smooth === undefined) {
    return { ...(await computeIntegratedGradients(forward, input, baselines, target, ig)), isCompletenessApplicable: true };
  }
  if (path.kind === 'straight' && smooth !== undefined) {
    const { onProgress, weightedGradientSum: _w, batchesAhead: _b, ...igOptions } = ig;
    const r = await computeSmoothGradIG(forward, input, baselines, target, {
      ...smooth,
      seed,
      ig: igOptions,
      onSample: onProgress ? (done, total) => onProgress({ baselineIndex: 0, baselineCount: 1, pointsDone: done, pointsPlanned: total }) : undefined,
    });
    const sum = tf.tidy(() => tf.sum(r.attributions).dataSync()[0] ?? NaN);
    const meanFb = r.perSample.reduce((s, c) => s + c.fBaseline, 0) / Math.max(1, r.perSample.length);
    const completeness = r.completeness ?? computeCompleteness(r.fxClean, meanFb, sum);
    const perBaseline: BaselineAttribution[] = baselines.map(() => ({ completeness, steps: ig.steps, isConverged: true }));
    return {
      attributions: r.attributions,
      perBaseline,
      completeness,
      steps: ig.steps,
      isConverged: true,
      gradientEvaluations: r.gradientEvaluations,
      modelCalls: r.modelCalls,
      isCompletenessApplicable: r.completeness !== null,
    };
  }
  if (path.kind === 'blur') {
    const r = await computeBlurIG(forward, input, target, {
      maxSigma: path.blurMaxSigma,
      steps: ig.steps,
      batchSize: ig.batchSize,
      onProgress: ig.onProgress ? (done, planned) => ig.onProgress?.({ baselineIndex: 0, baselineCount: 1, pointsDone: done, pointsPlanned: planned }) : undefined,
    });
    return {
      attributions: r.attributions,
      perBaseline: [{ completeness: r.completeness, steps: ig.steps, isConverged: true }],
      completeness: r.completeness,
      steps: ig.steps,
      isConverged: true,
      gradientEvaluations: r.gradientEvaluations,
      modelCalls: r.gradientEvaluations,
      isCompletenessApplicable: true,
    };
  }
  // Guided IG: one path per baseline, averaged like straight-line IG.
  const perBaseline: BaselineAttribution[] = [];
  let total: tf.Tensor3D | undefined;
  let evaluations = 0;
  try {
    for (let b = 0; b < baselines.length; b += 1) {
      const r = await computeGuidedIG(forward, input, baselines[b] as tf.Tensor4D, target, {
        steps: ig.steps,
        fraction: GUIDED_IG_DEFAULTS.fraction,
        maxDist: GUIDED_IG_DEFAULTS.maxDist,
        adaptive: ig.adaptive ? { tolerance: ig.adaptive.tolerance, maxEvaluations: ig.adaptive.maxSteps } : undefined,
        onProgress: ig.onProgress ? (done, planned) => ig.onProgress?.({ baselineIndex: b, baselineCount: baselines.length, pointsDone: done, pointsPlanned: planned }) : undefined,
      });
      perBaseline.push({ completeness: r.completeness, steps: ig.steps, isConverged: r.isConverged });
      evaluations += r.gradientEvaluations;
      const previous = total;
      total = previous ? (tf.tidy(() => tf.add(previous, r.attributions)) as tf.Tensor3D) : r.attributions;
      if (previous) {
        previous.dispose();
        r.attributions.dispose();
      }
    }
    const mean = tf.tidy(() => tf.div(total as tf.Tensor3D, baselines.length) as tf.Tensor3D);
    const sum = tf.tidy(() => tf.sum(mean).dataSync()[0] ?? NaN);
    const fx = perBaseline[0]?.completeness.fx ?? NaN;
    const fb = perBaseline.reduce((s, p) => s + p.completeness.fBaseline, 0) / perBaseline.length;
    return {
      attributions: mean,
      perBaseline,
      completeness: computeCompleteness(fx, fb, sum),
      steps: ig.steps,
      isConverged: perBaseline.every((p) => p.isConverged),
      gradientEvaluations: evaluations,
      modelCalls: evaluations,
      isCompletenessApplicable: true,
    };
  } finally {
    total?.dispose();
  }
}
