import * as tf from '@tensorflow/tfjs-core';
import { computeCoarsening, computeQuadrature, computeRefinement, type Quadrature } from './quadrature.js';
import { consumeInOrder } from './ordered-batches.js';
import type { AttributionProblem, ForwardFn, Method, PointGradients, Target } from './types.js';

export interface AdaptiveOptions {
  /** Refine while the relative completeness error exceeds this. */
  tolerance: number;
  /** Never use more points than this per baseline. */
  maxSteps: number;
  /** Also refine while the map's estimated error (BaselineAttribution.estimatedError) exceeds this. */
  mapTolerance?: number;
}

export interface IntegratedGradientsOptions {
  method: Method;
  /** Points per baseline; with `adaptive`, the first rule tried. */
  steps: number;
  /** Refine until completeness holds; omit for exactly `steps` points. */
  adaptive?: AdaptiveOptions;
  /** Interpolation points per model call. */
  batchSize: number;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Computes each batch's weighted gradient sum elsewhere (igx's worker pool); default: here, with
   * `forward`. The points are split into batches of `batchSize` and the batch sums added in order
   * whatever computes them, so the result does not depend on where or how concurrently they ran.
   */
  weightedGradientSum?: WeightedGradientSumFn;
  /** Batches requested ahead of the one being added, to keep several workers busy; default 0. */
  batchesAhead?: number;
}

/** One batch of interpolation points on the path from baselines[baselineIndex] to the input. */
export interface PointBatch {
  baselineIndex: number;
  alphas: number[];
  weights: number[];
}

/**
 * Σ_k weights[k] · ∂F/∂x at the batch's points: [h, w, c], which the caller disposes. It must give
 * exactly what computeWeightedGradientSum gives on the same backend.
 */
export type WeightedGradientSumFn = (batch: PointBatch) => Promise<tf.Tensor3D>;

export interface ProgressEvent {
  baselineIndex: number;
  baselineCount: number;
  /** Gradient evaluations done so far for this baseline, and planned at the current rule. */
  pointsDone: number;
  pointsPlanned: number;
}

export interface Completeness {
  /** F(x) */
  fx: number;
  /** F(x′); the mean over baselines in the combined result. */
  fBaseline: number;
  /** Σ attributions */
  sum: number;
  /** |Σ attributions − (F(x) − F(x′))| */
  absoluteError: number;
  /** absoluteError / |F(x) − F(x′)| */
  relativeError: number;
  /** |F(x) − F(x′)| is so small that relativeError says nothing. */
  isDeltaNegligible: boolean;
}

export interface BaselineAttribution {
  completeness: Completeness;
  steps: number;
  /** False when adaptive refinement stopped at maxSteps above tolerance. */
  isConverged: boolean;
  /**
   * ‖A_n − A_coarser‖₁ / ‖A_n‖₁: how far the map moved from the same rule at its previous, coarser level
   * (the last refinement; for a fixed nested rule, the rule inside it). An estimate of the map's own
   * per-pixel error that errs high. Null when no coarser level was computed.
   */
  estimatedError: number | null;
}

export interface IntegratedGradientsResult {
  /** Mean over baselines of (x − x′) ⊙ ∫ ∂F/∂x dα: [h, w, c]. The caller disposes it. */
  attributions: tf.Tensor3D;
  perBaseline: BaselineAttribution[];
  completeness: Completeness;
  /** Largest number of points any baseline used. */
  steps: number;
  isConverged: boolean;
  /** BaselineAttribution.estimatedError of the mean map; null unless every baseline has one. */
  estimatedError: number | null;
  gradientEvaluations: number;
  modelCalls: number;
}

/** Below this |F(x) − F(x′)| a relative error is noise over noise. */
export const NEGLIGIBLE_DELTA = 1e-4;

/** F for each row of the model's output: out[:, i], or out[:, a] − out[:, b]. Differentiable. */
export function computeTargetScores(outputs: tf.Tensor2D, target: Target): tf.Tensor1D {
  return tf.tidy(() => {
    const column = (i: number): tf.Tensor1D => tf.reshape(tf.slice(outputs, [0, i], [-1, 1]), [-1]);
    return target.kind === 'index' ? column(target.index) : tf.sub(column(target.a), column(target.b));
  });
}

export function computeCompleteness(fx: number, fBaseline: number, sum: number): Completeness {
  const delta = fx - fBaseline;
  const absoluteError = Math.abs(sum - delta);
  const isDeltaNegligible = Math.abs(delta) < NEGLIGIBLE_DELTA;
  return {
    fx,
    fBaseline,
    sum,
    absoluteError,
    relativeError: Math.abs(delta) > 0 ? absoluteError / Math.abs(delta) : absoluteError === 0 ? 0 : Infinity,
    isDeltaNegligible,
  };
}

/** Scores F of a batch without recording gradients. */
export function computeScores(forward: ForwardFn, inputs: tf.Tensor4D, target: Target): number[] {
  return tf.tidy(() => Array.from(computeTargetScores(forward(inputs), target).dataSync()));
}

async function readSum(t: tf.Tensor): Promise<number> {
  const s = tf.sum(t);
  try {
    return (await s.data())[0] ?? NaN;
  } finally {
    s.dispose();
  }
}

/** What every baseline's integration shares: the problem, F(x), the batch function and the counters. */
interface IntegrationContext {
  problem: AttributionProblem;
  options: IntegratedGradientsOptions;
  fx: number;
  countedForward: ForwardFn;
  weightedGradientSum: WeightedGradientSumFn;
  counts: { modelCalls: number; gradientEvaluations: number };
}

/**
 * Integrated Gradients (Sundararajan, Taly, Yan 2017) of F = target(forward(·)) at `input` against each
 * baseline, averaged over baselines. Interpolation points go through the model `batchSize` at a time.
 * input: [1, h, w, c]; baselines: each [1, h, w, c], already preprocessed like the input.
 */
export async function computeIntegratedGradients(problem: AttributionProblem, options: IntegratedGradientsOptions): Promise<IntegratedGradientsResult> {
  const { input, baselines, target } = problem;
  if (baselines.length === 0) throw new RangeError('at least one baseline is needed');
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new RangeError(`batchSize must be a whole number ≥ 1, got ${options.batchSize}`);
  }
  const [, h, w, c] = input.shape;
  const counts = { modelCalls: 0, gradientEvaluations: 0 };
  const countedForward: ForwardFn = (x) => {
    counts.modelCalls += 1;
    return problem.forward(x);
  };
  const weightedGradientSum = resolveWeightedGradientSum({ problem, options, countedForward, counts });
  const ctx: IntegrationContext = { problem, options, fx: computeScores(countedForward, input, target)[0] ?? NaN, countedForward, weightedGradientSum, counts };
  const perBaseline: BaselineAttribution[] = [];
  const total = new Accumulator([h, w, c]);
  // The coarser levels' maps, summed like the maps: the mean map's own error estimate.
  const coarseTotal = new Accumulator([h, w, c]);
  try {
    for (let b = 0; b < baselines.length; b += 1) {
      const { attributions, coarse, result } = await integrateBaseline(ctx, b);
      perBaseline.push(result);
      total.add(attributions);
      if (coarse) coarseTotal.add(coarse);
    }
    const mean = tf.tidy(() => tf.div(total.sum, baselines.length) as tf.Tensor3D);
    const sum = await readSum(mean);
    const fBaselineMean = perBaseline.reduce((s, r) => s + r.completeness.fBaseline, 0) / perBaseline.length;
    const hasEstimate = perBaseline.every((r) => r.estimatedError !== null);
    return {
      attributions: mean,
      perBaseline,
      completeness: computeCompleteness(ctx.fx, fBaselineMean, sum),
      steps: Math.max(...perBaseline.map((r) => r.steps)),
      isConverged: perBaseline.every((r) => r.isConverged),
      estimatedError: hasEstimate ? await computeRelativeL1(total.sum, coarseTotal.sum) : null,
      gradientEvaluations: counts.gradientEvaluations,
      modelCalls: counts.modelCalls,
    };
  } finally {
    total.dispose();
    coarseTotal.dispose();
  }
}

/** A running sum of [h, w, c] maps; each added map is disposed. */
class Accumulator {
  sum: tf.Tensor3D;
  constructor(shape: [number, number, number]) {
    this.sum = tf.zeros(shape);
  }
  add(t: tf.Tensor3D): void {
    const previous = this.sum;
    this.sum = tf.tidy(() => tf.add(previous, t) as tf.Tensor3D);
    previous.dispose();
    t.dispose();
  }
  dispose(): void {
    this.sum.dispose();
  }
}

/** ‖a − b‖₁ / ‖a‖₁ (0 when both are 0). */
async function computeRelativeL1(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [diff, norm] = tf.tidy(() => [tf.sum(tf.abs(tf.sub(a, b))), tf.sum(tf.abs(a))]);
  try {
    const [d, n] = [(await diff.data())[0] ?? NaN, (await norm.data())[0] ?? NaN];
    return n > 0 ? d / n : d === 0 ? 0 : Infinity;
  } finally {
    tf.dispose([diff, norm]);
  }
}

/** The batch function: the caller's (igx's pool; each call counted as a model call), else one on `forward`. */
function resolveWeightedGradientSum(ctx: Omit<IntegrationContext, 'fx' | 'weightedGradientSum'>): WeightedGradientSumFn {
  const { problem, counts } = ctx;
  const remote = ctx.options.weightedGradientSum;
  if (remote !== undefined) {
    return (batch) => {
      counts.modelCalls += 1;
      return remote(batch);
    };
  }
  const gradOfSum = buildGradientOfSum(ctx.countedForward, problem.target);
  return async ({ baselineIndex, alphas, weights }) =>
    computeWeightedGradientSum(gradOfSum, { input: problem.input, baseline: problem.baselines[baselineIndex] as tf.Tensor4D }, { alphas, weights });
}

/** One baseline's map, the map of the level before it (undefined at the first level), and its summary. */
interface BaselineIntegral {
  attributions: tf.Tensor3D;
  coarse: tf.Tensor3D | undefined;
  result: BaselineAttribution;
}

/** Adaptive stopping: completeness within tolerance (or ΔF negligible), and the map's estimate within mapTolerance if set. */
function isWithinTolerances(adaptive: AdaptiveOptions, completeness: Completeness, estimatedError: number | null): boolean {
  const isComplete = completeness.relativeError <= adaptive.tolerance || completeness.isDeltaNegligible;
  return isComplete && (adaptive.mapTolerance === undefined || (estimatedError !== null && estimatedError <= adaptive.mapTolerance));
}

/**
 * One baseline's attributions (x − x′) ⊙ ∫ ∂F/∂x dα: the rule at `steps` points, refined (reusing every
 * point computed) while adaptive and off tolerance. A fixed nested rule is its coarser rule refined once,
 * at no extra cost, so that its map has an error estimate too.
 */
async function integrateBaseline(ctx: IntegrationContext, b: number): Promise<BaselineIntegral> {
  const { problem, options } = ctx;
  const baseline = problem.baselines[b] as tf.Tensor4D;
  const [, h, w, c] = problem.input.shape;
  const fBaseline = computeScores(ctx.countedForward, baseline, problem.target)[0] ?? NaN;
  const delta = tf.tidy(() => tf.reshape(tf.sub(problem.input, baseline), [h, w, c]) as tf.Tensor3D);
  let integral: tf.Tensor3D | undefined;
  let attributions: tf.Tensor3D | undefined;
  let coarse: tf.Tensor3D | undefined;
  try {
    let steps = options.adaptive ? options.steps : (computeCoarsening(options.method, options.steps) ?? options.steps);
    let rule: Quadrature & { keep: number } = { ...computeQuadrature(options.method, steps), keep: 0 };
    let pointsDone = 0;
    for (;;) {
      const planned = pointsDone + rule.alphas.length;
      const onBatch = (n: number): void => {
        pointsDone += n;
        ctx.counts.gradientEvaluations += n;
        options.onProgress?.({ baselineIndex: b, baselineCount: problem.baselines.length, pointsDone, pointsPlanned: planned });
      };
      const added = await sumWeightedGradients(ctx, { baselineIndex: b, rule, onBatch });
      const previous = integral;
      const keep = rule.keep;
      integral = tf.tidy(() => (previous && keep > 0 ? (tf.add(tf.mul(previous, keep), added) as tf.Tensor3D) : tf.clone(added)));
      added.dispose();
      previous?.dispose();
      coarse?.dispose();
      coarse = attributions;
      const current = integral;
      attributions = tf.tidy(() => tf.mul(delta, current) as tf.Tensor3D);
      const completeness = computeCompleteness(ctx.fx, fBaseline, await readSum(attributions));
      const estimatedError = coarse ? await computeRelativeL1(attributions, coarse) : null;
      const isConverged = !options.adaptive || isWithinTolerances(options.adaptive, completeness, estimatedError);
      const wantsMore = options.adaptive ? !isConverged : steps < options.steps;
      const next = wantsMore ? computeRefinement(options.method, steps) : undefined;
      if (!next || (options.adaptive && next.steps > options.adaptive.maxSteps)) {
        const done = { attributions, coarse, result: { completeness, steps, isConverged, estimatedError } };
        attributions = undefined;
        coarse = undefined;
        return done;
      }
      steps = next.steps;
      rule = next;
    }
  } finally {
    delta.dispose();
    integral?.dispose();
    attributions?.dispose();
    coarse?.dispose();
  }
}

/** ∂(Σ_batch F)/∂x: each point's own gradient, since the rows of a batch don't interact. */
export function buildGradientOfSum(forward: ForwardFn, target: Target): (x: tf.Tensor4D) => tf.Tensor4D {
  const gradOfSum = tf.grad((x: tf.Tensor) => tf.sum(computeTargetScores(forward(x as tf.Tensor4D), target)));
  return (x) => gradOfSum(x) as tf.Tensor4D;
}

/**
 * Σ_k weights[k] · ∂F/∂x at x′ + alphas[k](x − x′): [h, w, c]. The one definition of a batch's sum,
 * used in this thread and in pool workers alike, so both give the same bits.
 */
export function computeWeightedGradientSum(
  gradOfSum: (x: tf.Tensor4D) => tf.Tensor4D,
  line: { input: tf.Tensor4D; baseline: tf.Tensor4D },
  batch: { alphas: number[]; weights: number[] },
): tf.Tensor3D {
  const { input, baseline } = line;
  const { alphas, weights } = batch;
  return tf.tidy(() => {
    const a = tf.tensor4d(alphas, [alphas.length, 1, 1, 1]);
    // points: [k, h, w, c] on the straight line from baseline to input
    const points = tf.add(baseline, tf.mul(a, tf.sub(input, baseline))) as tf.Tensor4D;
    const grads = gradOfSum(points);
    return tf.sum(tf.mul(grads, tf.tensor4d(weights, [weights.length, 1, 1, 1])), 0) as tf.Tensor3D;
  });
}

/**
 * Σ over a rule's points, in batches of batchSize: [h, w, c]. Batch sums are added in batch order
 * (acc + s₀ + s₁ + …), the same float operations however many are computed ahead or where.
 */
async function sumWeightedGradients(
  ctx: IntegrationContext,
  run: { baselineIndex: number; rule: Quadrature; onBatch: (points: number) => void },
): Promise<tf.Tensor3D> {
  const [, h, w, c] = ctx.problem.input.shape;
  const { rule, baselineIndex } = run;
  const { batchSize } = ctx.options;
  const batches: PointBatch[] = [];
  for (let start = 0; start < rule.alphas.length; start += batchSize) {
    batches.push({ baselineIndex, alphas: rule.alphas.slice(start, start + batchSize), weights: rule.weights.slice(start, start + batchSize) });
  }
  let acc: tf.Tensor3D = tf.zeros([h, w, c]);
  try {
    await consumeInOrder({
      count: batches.length,
      ahead: ctx.options.batchesAhead ?? 0,
      request: (i) => ctx.weightedGradientSum(batches[i] as PointBatch),
      consume: (sum, i) => {
        const previous = acc;
        try {
          acc = tf.tidy(() => tf.add(previous, sum));
        } finally {
          sum.dispose();
        }
        previous.dispose();
        run.onBatch((batches[i] as PointBatch).alphas.length);
      },
      dispose: (sum) => sum.dispose(),
    });
    return acc;
  } catch (err) {
    acc.dispose();
    throw err;
  }
}

/**
 * F and ∂F/∂x at each of a batch of points, in this thread: the one definition pool workers use too.
 * The gradient of the scores with dy = 1 per row is each row's own gradient (rows do not interact).
 */
export function buildPointGradients(forward: ForwardFn, target: Target): (points: tf.Tensor4D) => PointGradients {
  const valueAndGrad = tf.valueAndGrad((xs: tf.Tensor) => computeTargetScores(forward(xs as tf.Tensor4D), target));
  return (points) => {
    const { value, grad } = tf.tidy(() => valueAndGrad(points, tf.ones([points.shape[0]])));
    try {
      return { values: Array.from(value.dataSync()), grads: grad as tf.Tensor4D };
    } finally {
      value.dispose();
    }
  };
}
