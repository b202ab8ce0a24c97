import * as tf from '@tensorflow/tfjs-core';
import { createRng, type Rng } from '../numeric/rng.js';
import {
  computeCompleteness,
  computeIntegratedGradients,
  type Completeness,
  type IntegratedGradientsOptions,
  type IntegratedGradientsResult,
  type WeightedGradientSumFn,
} from './integrated-gradients.js';
import { takeValues } from './take-values.js';
import type { AttributionProblem, SmoothKind } from './types.js';

export interface SmoothGradOptions {
  /** Noisy copies of the input (N ≥ 1). */
  samples: number;
  /** Standard deviation of the Gaussian noise, in preprocessed-input units (what the model sees). */
  sigma: number;
  kind: SmoothKind;
  /** Seeds the noise: equal seeds, equal noise on every machine. */
  seed: number;
  /**
   * IG settings for each noisy input. `weightedGradientSum` is not taken: a pool job is bound to one
   * input, and each noisy copy is another input.
   */
  ig: Omit<IntegratedGradientsOptions, 'weightedGradientSum' | 'batchesAhead' | 'onProgress'>;
  /** Called after each noisy sample is done. */
  onSample?: (done: number, total: number) => void;
  /**
   * Runs a noisy copy's gradient batches elsewhere (igx's worker pool): the copies are independent, so
   * up to `parallelSamples` of them are in flight at once. Each copy's batch sums are added in batch
   * order and the copies combined in sample order, so the result does not depend on where they ran.
   */
  pool?: { openInput: (input: Float32Array) => SampleJob; parallelSamples: number; batchesAhead: number };
}

/** One noisy copy's gradient batches, where the pool computes them. */
export interface SampleJob {
  weightedGradientSum: WeightedGradientSumFn;
  close(): void;
}

export interface SmoothGradResult {
  /** [h, w, c]; the caller disposes it. */
  attributions: tf.Tensor3D;
  kind: SmoothKind;
  samples: number;
  sigma: number;
  /** F(x) at the clean input. */
  fxClean: number;
  /**
   * For `smoothgrad` only (null otherwise): Σ mean attributions against mean_i F(x + εᵢ) − mean F(x′).
   * It holds to the quadrature error of each sample; E[F(x + ε)] differs from F(x) by the smoothing.
   */
  completeness: Completeness | null;
  /** Each sample's own IG completeness (each holds whatever the kind). */
  perSample: Completeness[];
  gradientEvaluations: number;
  modelCalls: number;
}

/** `length` draws of N(0, sigma²) from `rng`, in order: the noise sample i adds to the input. */
export function sampleNoise(rng: Rng, length: number, sigma: number): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i += 1) out[i] = sigma * rng.normal();
  return out;
}

/** The samples' Σ a and Σ a² → the map `kind` asks for, and the sum of the plain means (for completeness). */
function combineSamples(sum: Float64Array, sumSq: Float64Array, samples: number, kind: SmoothKind): { values: Float32Array; totalOfMeans: number } {
  const values = new Float32Array(sum.length);
  let totalOfMeans = 0;
  for (let i = 0; i < sum.length; i += 1) {
    const mean = (sum[i] as number) / samples;
    const meanSq = (sumSq[i] as number) / samples;
    values[i] = kind === 'smoothgrad' ? mean : kind === 'smoothgrad_sq' ? meanSq : Math.max(0, meanSq - mean * mean);
    totalOfMeans += mean;
  }
  return { values, totalOfMeans };
}

/**
 * SmoothGrad over Integrated Gradients (Smilkov et al. 2017; Captum NoiseTunnel): IG at N copies of
 * the input with Gaussian noise added (the baselines stay as they are), combined by `kind`. Noise for
 * sample i is `sampleNoise(createRng(seed), h·w·c, sigma)` drawn i-th in one stream.
 */
export async function computeSmoothGradIG(problem: AttributionProblem, options: SmoothGradOptions): Promise<SmoothGradResult> {
  const { forward, input, target } = problem;
  const { samples, sigma, kind } = options;
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`samples must be a whole number ≥ 1, got ${samples}`);
  if (!(Number.isFinite(sigma) && sigma >= 0)) throw new RangeError(`sigma must be a finite number ≥ 0, got ${sigma}`);
  const [, h, w, c] = input.shape;
  const n = h * w * c;
  const rng = createRng(options.seed);
  const clean = tf.tidy(() => tf.reshape(forward(input), [-1]).arraySync() as number[]);
  const fxClean = target.kind === 'index' ? (clean[target.index] ?? NaN) : (clean[target.a] ?? NaN) - (clean[target.b] ?? NaN);
  // Running sums in float64: Σ a and Σ a².
  const sum = new Float64Array(n);
  const sumSq = new Float64Array(n);
  const perSample: Completeness[] = [];
  let gradientEvaluations = 0;
  let modelCalls = 1;
  const inputData = (await input.data()) as Float32Array;
  const noisyInputs = Array.from({ length: samples }, () => {
    const noise = sampleNoise(rng, n, sigma);
    for (let i = 0; i < n; i += 1) noise[i] = (noise[i] as number) + (inputData[i] as number);
    return noise;
  });
  const runSample = async (noisyData: Float32Array): Promise<{ attributions: Float32Array; result: IntegratedGradientsResult }> => {
    const noisy = tf.tensor4d(noisyData, [1, h, w, c]);
    const job = options.pool?.openInput(noisyData);
    try {
      const pooled = job ? { weightedGradientSum: job.weightedGradientSum, batchesAhead: options.pool?.batchesAhead } : {};
      const result = await computeIntegratedGradients({ ...problem, input: noisy }, { ...options.ig, ...pooled });
      return { attributions: await takeValues(result.attributions), result };
    } finally {
      job?.close();
      noisy.dispose();
    }
  };
  const window = Math.max(1, options.pool?.parallelSamples ?? 1);
  for (let first = 0; first < samples; first += window) {
    const done = await Promise.all(noisyInputs.slice(first, first + window).map(runSample));
    for (const { attributions: a, result } of done) {
      for (let i = 0; i < n; i += 1) {
        const v = a[i] as number;
        sum[i] = (sum[i] as number) + v;
        sumSq[i] = (sumSq[i] as number) + v * v;
      }
      perSample.push(result.completeness);
      gradientEvaluations += result.gradientEvaluations;
      modelCalls += result.modelCalls;
    }
    options.onSample?.(Math.min(samples, first + window), samples);
  }
  const { values: out, totalOfMeans: total } = combineSamples(sum, sumSq, samples, kind);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const completeness =
    kind === 'smoothgrad'
      ? computeCompleteness(mean(perSample.map((p) => p.fx)), mean(perSample.map((p) => p.fBaseline)), total)
      : null;
  return {
    attributions: tf.tensor3d(out, [h, w, c]),
    kind,
    samples,
    sigma,
    fxClean,
    completeness,
    perSample,
    gradientEvaluations,
    modelCalls,
  };
}
