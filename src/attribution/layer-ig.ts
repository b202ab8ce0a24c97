/**
 * Layer Integrated Gradients (Captum's LayerIntegratedGradients; "conductance" summed over a layer's
 * units, Dhamdhere, Sundararajan, Yan 2018): split a model at a layer (or graph node) into head (input →
 * the activation) and tail (activation → output), then integrate ∂F(tail(z))/∂z along the straight
 * line from the baseline's activation z′ = head(x′) to the input's z = head(x). Completeness holds in
 * the activation space: Σ attributions = F(tail(z)) − F(tail(z′)) = F(x) − F(x′).
 *
 * The model adapters make the split (src/model/layer-split.ts for layers models, GraphAdapter.splitAt
 * for graph models and SavedModels); the core only calls head and tail. The split must cut the model:
 * every path from the input to the output passes through it (IgxError E_FLAG otherwise).
 */
import * as tf from '@tensorflow/tfjs-core';
import { computeIntegratedGradients, type AdaptiveOptions, type WeightedGradientSumFn } from './integrated-gradients.js';
import type { Completeness } from './integrated-gradients.js';
import { takeValues } from './take-values.js';
import type { ForwardFn, Method, Target } from './types.js';

/** A model cut at one layer; the model adapter builds it (src/model/layer-split.ts), the core only calls it. */
export interface LayerSplit {
  layerName: string;
  /** The activation of one example, without the batch dim: e.g. [14, 14, 128] or [120]. */
  activationShape: number[];
  /** [b, …model input] → [b, …activationShape]. Differentiable; call inside tf.tidy. */
  head: (input: tf.Tensor) => tf.Tensor;
  /** [b, …activationShape] → [b, classes] (trailing dims flattened). Differentiable. */
  tail: (activation: tf.Tensor) => tf.Tensor2D;
  /** The output read: the model's output, or the softmax's input for 'logits'. */
  readsFrom: string;
}

/** What layer IG explains: F at `input` against `baselines`, [1, …model input] each, preprocessed. */
export interface LayerProblem {
  input: tf.Tensor;
  baselines: tf.Tensor[];
  target: Target;
}

export interface LayerIntegratedGradientsOptions {
  method: Method;
  steps: number;
  adaptive?: AdaptiveOptions;
  batchSize: number;
  /**
   * Where the activation-space batches may run (igx's worker pool): given z = head(x) and each
   * z′ = head(x′) ([1, h, w, c] values), a job whose batch sums are what buildLayerForward gives here.
   */
  pool?: { openActivations(activations: LayerActivations): ActivationJob; batchesAhead: number };
}

/** The points layer IG integrates between: the input's and the baselines' activations. */
export interface LayerActivations {
  shape: [number, number, number, number];
  input: Float32Array;
  baselines: Float32Array[];
}

export interface ActivationJob {
  weightedGradientSum: WeightedGradientSumFn;
  close(): void;
}

/** F on activation points [k, h, w, c]: the tail, after giving the points the activation's own shape. */
export function buildLayerForward(split: LayerSplit): ForwardFn {
  return (points) => split.tail(tf.reshape(points, [points.shape[0], ...split.activationShape]));
}

export interface LayerIntegratedGradientsResult {
  layerName: string;
  /** [h, w, channels] of the layer's activation (rank-2 activations [n] are [1, 1, n]; rank-3 [t, c] are [1, t, c]). */
  shape: [number, number, number];
  /** Mean over baselines of (z − z′) ⊙ ∫ ∂F/∂z dα, h·w·channels values in HWC order. */
  attributions: Float32Array;
  /** Σ over h, w per channel: [channels]. */
  channelTotals: Float64Array;
  /** Σ over channels per position: [h·w]. */
  spatialMap: Float64Array;
  /** Σ attributions against F(x) − F(x′), F read through head and tail. */
  completeness: Completeness;
  steps: number;
  isConverged: boolean;
  gradientEvaluations: number;
}

/** The activation shape as [h, w, c] for computeIntegratedGradients' rank-4 points. */
function toHwc(shape: number[]): [number, number, number] {
  if (shape.length === 3) return shape as [number, number, number];
  if (shape.length === 2) return [1, shape[0] as number, shape[1] as number];
  if (shape.length === 1) return [1, 1, shape[0] as number];
  return [1, 1, shape.reduce((n, d) => n * d, 1)];
}

/**
 * Layer IG of F = target(tail(·)) at head(input) against head(baseline) for each baseline, averaged over
 * baselines. input and baselines: [1, …model input], preprocessed; they are not disposed.
 */
export async function computeLayerIntegratedGradients(
  split: LayerSplit,
  problem: LayerProblem,
  options: LayerIntegratedGradientsOptions,
): Promise<LayerIntegratedGradientsResult> {
  const { input, baselines, target } = problem;
  const [h, w, c] = toHwc(split.activationShape);
  const toPoints = (t: tf.Tensor): tf.Tensor4D => tf.tidy(() => tf.reshape(split.head(t), [t.shape[0] as number, h, w, c]) as tf.Tensor4D);
  const z = toPoints(input);
  const zs = baselines.map(toPoints);
  let job: ActivationJob | undefined;
  try {
    if (options.pool) {
      const baselineData = await Promise.all(zs.map(async (t) => (await t.data()) as Float32Array));
      job = options.pool.openActivations({ shape: [1, h, w, c], input: (await z.data()) as Float32Array, baselines: baselineData });
    }
    const { pool: _pool, ...igOptions } = options;
    const pooled = job && options.pool ? { weightedGradientSum: job.weightedGradientSum, batchesAhead: options.pool.batchesAhead } : {};
    const ig = await computeIntegratedGradients({ forward: buildLayerForward(split), input: z, baselines: zs, target }, { ...igOptions, ...pooled });
    const attributions = await takeValues(ig.attributions);
    const channelTotals = new Float64Array(c);
    const spatialMap = new Float64Array(h * w);
    for (let p = 0; p < h * w; p += 1) {
      for (let k = 0; k < c; k += 1) {
        const v = attributions[p * c + k] as number;
        channelTotals[k] = (channelTotals[k] as number) + v;
        spatialMap[p] = (spatialMap[p] as number) + v;
      }
    }
    return {
      layerName: split.layerName,
      shape: [h, w, c],
      attributions,
      channelTotals,
      spatialMap,
      completeness: ig.completeness,
      steps: ig.steps,
      isConverged: ig.isConverged,
      gradientEvaluations: ig.gradientEvaluations,
    };
  } finally {
    job?.close();
    z.dispose();
    tf.dispose(zs);
  }
}
