import { buildBlurMatrix } from '../numeric/gaussian.js';
import * as tf from '@tensorflow/tfjs-core';
import { buildPointGradients, computeCompleteness, computeScores, type Completeness } from './integrated-gradients.js';
import { consumeInOrder } from './ordered-batches.js';
import type { AttributionProblem, PointGradientsFn } from './types.js';

/**
 * Blur IG (Xu, Venugopalan, Sundararajan, "Attribution in Scale and Space", CVPR 2020): the path runs
 * through Gaussian blurs of the input, from the most blurred (σ = maxSigma) to the input itself (σ = 0).
 * No baseline: what is explained is F(x) − F(blur(x, maxSigma)).
 *
 * The path is sampled at σₖ = maxSigma·(1 − k/steps), k = 0..steps, and taken as piecewise linear between
 * those images; the integral Σ ∇F · dγ is the trapezoid rule on each piece,
 * Σₖ ½(∇F(γₖ) + ∇F(γₖ₊₁)) ⊙ (γₖ₊₁ − γₖ). So Σ attributions telescopes towards F(x) − F(γ₀) (exactly for
 * F linear or quadratic), and completeness is reported against that difference.
 */
export interface BlurIGOptions {
  /** Largest blur, in pixels (PAIR saliency's default is 50 for 224 px inputs). */
  maxSigma: number;
  /** Pieces of the path (steps + 1 gradient evaluations). */
  steps: number;
  /** Images per model call. */
  batchSize: number;
  onProgress?: (done: number, planned: number) => void;
  /** Computes the path images' gradients elsewhere (igx's worker pool); default: here. */
  pointGradients?: PointGradientsFn;
  /** Batches requested ahead of the one being taken, to keep several workers busy; default 0. */
  batchesAhead?: number;
}

export interface BlurIGResult {
  /** [h, w, c]; the caller disposes it. */
  attributions: tf.Tensor3D;
  /** fBaseline is F(blur(x, maxSigma)). */
  completeness: Completeness;
  sigmas: number[];
  gradientEvaluations: number;
}

/** Separable Gaussian blur of a [h, w, c] (or [1, h, w, c]) tensor, per channel: Bₕ · X · Bᵥᵀ. */
export function blurTensor(image: tf.Tensor, sigma: number): tf.Tensor3D {
  return tf.tidy(() => {
    const shape = image.shape.slice(-3) as [number, number, number];
    const [h, w, c] = shape;
    const x = tf.reshape(image, [h, w * c]) as tf.Tensor2D;
    if (sigma <= 0) return tf.reshape(x, shape) as tf.Tensor3D;
    const bh = tf.tensor2d(buildBlurMatrix(h, sigma), [h, h]);
    const bw = tf.tensor2d(buildBlurMatrix(w, sigma), [w, w]);
    const rows = tf.reshape(tf.matMul(bh, x), [h, w, c]);
    const cols = tf.reshape(tf.transpose(rows, [1, 0, 2]), [w, h * c]) as tf.Tensor2D;
    const both = tf.reshape(tf.matMul(bw, cols), [w, h, c]);
    return tf.transpose(both, [1, 0, 2]) as tf.Tensor3D;
  });
}

/** Blur IG needs no baseline: the most blurred image takes its place. */
export type BlurIGProblem = Omit<AttributionProblem, 'baselines'>;

export async function computeBlurIG(problem: BlurIGProblem, options: BlurIGOptions): Promise<BlurIGResult> {
  const { maxSigma, steps, batchSize } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a whole number ≥ 1, got ${steps}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a whole number ≥ 1, got ${batchSize}`);
  if (!(Number.isFinite(maxSigma) && maxSigma > 0)) throw new RangeError(`maxSigma must be a number > 0, got ${maxSigma}`);
  const { forward, input, target } = problem;
  const [, h, w, c] = input.shape;
  const sigmas = Array.from({ length: steps + 1 }, (_, k) => maxSigma * (1 - k / steps));
  // Path images γ₀ (most blurred) … γ_steps (the input), and ∇F at each, in batches.
  const path: tf.Tensor3D[] = [];
  const grads: tf.Tensor3D[] = [];
  let attributions: tf.Tensor3D | undefined;
  try {
    await computePathGradients(problem, { sigmas, path, grads, options });
    attributions = sumTrapezoids(path, grads);
    const fx = computeScores(forward, input, target)[0] ?? NaN;
    const blurred = tf.reshape(path[0] as tf.Tensor3D, [1, h, w, c]) as tf.Tensor4D;
    const fBlurred = (() => {
      try {
        return computeScores(forward, blurred, target)[0] ?? NaN;
      } finally {
        blurred.dispose();
      }
    })();
    const sumT = tf.sum(attributions);
    const sum = (await sumT.data())[0] ?? NaN;
    sumT.dispose();
    const result = { attributions, completeness: computeCompleteness(fx, fBlurred, sum), sigmas, gradientEvaluations: path.length };
    attributions = undefined;
    return result;
  } finally {
    attributions?.dispose();
    tf.dispose(path);
    tf.dispose(grads);
  }
}

/**
 * The path images (appended to `path`) and ∇F at each (to `grads`), in path order. Batches of batchSize
 * go to options.pointGradients (igx's pool; several in flight) or are computed here, the same bits
 * either way. A batch's images are blurred when it is requested, so that this thread blurs the next
 * batches while workers take the gradients of the first.
 */
async function computePathGradients(
  problem: BlurIGProblem,
  run: { sigmas: number[]; path: tf.Tensor3D[]; grads: tf.Tensor3D[]; options: BlurIGOptions },
): Promise<void> {
  const { sigmas, path, grads, options } = run;
  const { batchSize } = options;
  const local = buildPointGradients(problem.forward, problem.target);
  const pointGradients: PointGradientsFn = options.pointGradients ?? (async (points) => local(points));
  await consumeInOrder({
    count: Math.ceil(sigmas.length / batchSize),
    ahead: options.pointGradients ? (options.batchesAhead ?? 0) : 0,
    request: async (i) => {
      const images = sigmas.slice(i * batchSize, (i + 1) * batchSize).map((s) => blurTensor(problem.input, s));
      path.push(...images);
      const chunk = tf.stack(images) as tf.Tensor4D;
      try {
        return (await pointGradients(chunk)).grads;
      } finally {
        chunk.dispose();
      }
    },
    consume: (g, i) => {
      try {
        grads.push(...(tf.unstack(g) as tf.Tensor3D[]));
      } finally {
        g.dispose();
      }
      options.onProgress?.(Math.min(sigmas.length, (i + 1) * batchSize), sigmas.length);
    },
    dispose: (g) => g.dispose(),
  });
}

/** Σₖ ½(∇F(γₖ) + ∇F(γₖ₊₁)) ⊙ (γₖ₊₁ − γₖ): [h, w, c]. */
function sumTrapezoids(path: tf.Tensor3D[], grads: tf.Tensor3D[]): tf.Tensor3D {
  return tf.tidy(() => {
    let acc: tf.Tensor = tf.zerosLike(path[0] as tf.Tensor3D);
    for (let k = 0; k + 1 < path.length; k += 1) {
      const g = tf.mul(tf.add(grads[k] as tf.Tensor3D, grads[k + 1] as tf.Tensor3D), 0.5);
      acc = tf.add(acc, tf.mul(g, tf.sub(path[k + 1] as tf.Tensor3D, path[k] as tf.Tensor3D)));
    }
    return acc as tf.Tensor3D;
  });
}
