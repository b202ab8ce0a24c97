/** Runs the configured attribution method on one prepared image: layer IG, or a method on the input pixels. */
import * as tf from '@tensorflow/tfjs-core';
import { computeAttributions, type MethodResult } from '../attribution/compute-attributions.js';
import type { AdaptiveOptions } from '../attribution/integrated-gradients.js';
import { computeLayerIntegratedGradients, type LayerActivations, type LayerIntegratedGradientsOptions, type LayerSplit } from '../attribution/layer-ig.js';
import type { Target } from '../attribution/types.js';
import type { ExplainConfig } from '../config/explain-config.js';
import type { ExplainProgress, GradientJob, PointJob } from './ports.js';
import type { ExplainSession } from './session.js';
import { resolveStepPlan } from './step-plan.js';

interface StepOptions {
  method: ExplainConfig['method'];
  steps: number;
  adaptive?: AdaptiveOptions;
  batchSize: number;
}

/** Layer IG in the shape of computeAttributions' result, plus the layer's own maps. */
async function computeLayerAttributions(split: LayerSplit, problem: { input: tf.Tensor4D; baselines: tf.Tensor4D[]; target: Target }, options: LayerIntegratedGradientsOptions): Promise<MethodResult> {
  const { baselines } = problem;
  const r = await computeLayerIntegratedGradients(split, problem, options);
  return {
    attributions: tf.tensor3d(r.attributions, r.shape),
    completeness: r.completeness,
    perBaseline: baselines.map(() => ({ completeness: r.completeness, steps: r.steps, isConverged: r.isConverged, estimatedError: null })),
    steps: r.steps,
    isConverged: r.isConverged,
    estimatedError: null,
    isCompletenessApplicable: true,
    layer: { name: r.layerName, shape: r.shape, attributions: r.attributions, channelTotals: r.channelTotals, spatialMap: r.spatialMap },
  };
}

export interface RunMethodOptions {
  input: tf.Tensor4D;
  baselines: tf.Tensor4D[];
  /** The input's and baselines' values, for the pool's jobs. */
  inputData: Float32Array;
  baselineData: Float32Array[];
  target: Target;
  onProgress?: (p: ExplainProgress) => void;
}

/**
 * The session's method on one image; the caller disposes the result's attributions. Only straight IG
 * without smoothing reads the clean image's batches from the pool, so only then is the image sent there.
 */
export async function runMethod(session: ExplainSession, options: RunMethodOptions): Promise<MethodResult> {
  const { config } = session;
  const { input, baselines, target } = options;
  const steps = { method: config.method, ...resolveStepPlan(config), batchSize: session.batchSize };
  const runner = session.gradientRunner;
  if (session.layerSplit) {
    // Layer IG's batches are activation points: the pool's workers run the model's tail on them.
    const pool = runner && { openActivations: (a: LayerActivations) => runner.openImage({ ...a, space: 'layer', target }), batchesAhead: runner.batchesAhead };
    return computeLayerAttributions(session.layerSplit, { input, baselines, target }, { ...steps, ...(pool ? { pool } : {}) });
  }
  const usesImageJob = config.path === 'straight' && config.smooth === undefined;
  const job = usesImageJob ? runner?.openImage({ shape: input.shape, input: options.inputData, baselines: options.baselineData, target }) : undefined;
  // Blur IG and Guided IG ask for gradients at points of their own making.
  const pointJob = config.path !== 'straight' ? runner?.openPoints({ shape: input.shape, target }) : undefined;
  try {
    return await runOnPath(session, options, { steps, job, pointJob });
  } finally {
    job?.close();
    pointJob?.close();
  }
}

interface PathRun {
  steps: Omit<StepOptions, 'adaptive'> & { adaptive: StepOptions['adaptive'] };
  job: GradientJob | undefined;
  pointJob: PointJob | undefined;
}

function runOnPath(session: ExplainSession, options: RunMethodOptions, run: PathRun): Promise<MethodResult> {
  const { config } = session;
  const { input, baselines, target, onProgress } = options;
  const { steps, job, pointJob } = run;
  const ig = {
    ...steps,
    onProgress: onProgress ? (e: ExplainProgress) => onProgress(e) : undefined,
    weightedGradientSum: job?.weightedGradientSum,
    batchesAhead: session.gradientRunner?.batchesAhead,
  };
  const path = { kind: config.path, blurMaxSigma: config.maxSigma };
  const runner = session.gradientRunner;
  // SmoothGrad's noisy copies are independent inputs: the pool runs them side by side.
  const samplePool = runner && {
    openInput: (noisy: Float32Array) => runner.openImage({ shape: input.shape, input: noisy, baselines: options.baselineData, target }),
    parallelSamples: runner.parallelism,
    batchesAhead: runner.batchesAhead,
  };
  const pointPool = runner && pointJob && { pointGradients: pointJob.pointGradients, parallelism: runner.parallelism, batchesAhead: runner.batchesAhead };
  const pools = { ...(samplePool ? { samplePool } : {}), ...(pointPool ? { pointPool } : {}) };
  return computeAttributions({ forward: session.forward.forward, input, baselines, target }, { ig, path, smooth: config.smooth, seed: config.seed, ...pools });
}
