import * as tf from '@tensorflow/tfjs-core';
import { buildGradientOfSum, computeCompleteness, computeScores, type Completeness } from './integrated-gradients.js';
import type { ForwardFn, Target } from './types.js';

/**
 * Guided Integrated Gradients (Kapishnikov, Venugopalan, Avci, Wedin, Terry, Birdal, "Guided Integrated
 * Gradients: an Adaptive Path Method for Removing Noise", CVPR 2021), as PAIR saliency's guided_ig.py
 * computes it. The path is built while it is walked: at each of `steps` steps the L1 distance to the
 * input shrinks by 1/steps of the total, and it is the features with the smallest |∂F/∂x| (the lowest
 * `fraction` of them) that move first, each kept within `maxDist` (in α) of the straight line.
 * Attributions are Σ (x_new − x_old) ⊙ ∇F(x_old) along that path, so Σ attributions ≈ F(x) − F(x′)
 * (a left Riemann sum of the gradient theorem on the path that was taken).
 */
export interface GuidedIGOptions {
  /** Steps along the path (one gradient each); PAIR's default is 200. */
  steps: number;
  /** Share of the features moved at once; PAIR's default 0.25. */
  fraction: number;
  /** How far (in α) a feature may run ahead of or lag behind the straight line; 0.02 bounded, 1 unbounded. */
  maxDist: number;
  onProgress?: (done: number, planned: number) => void;
}

export const GUIDED_IG_DEFAULTS = { steps: 200, fraction: 0.25, maxDist: 0.02 } as const;

export interface GuidedIGResult {
  /** [h, w, c]; the caller disposes it. */
  attributions: tf.Tensor3D;
  completeness: Completeness;
  gradientEvaluations: number;
}

const EPSILON = 1e-9;

/** numpy's quantile with interpolation='lower': the ⌊q(n − 1)⌋-th smallest. */
function quantileLower(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

const isClose = (a: number, b: number): boolean => Math.abs(a - b) <= Math.max(EPSILON * Math.max(Math.abs(a), Math.abs(b)), EPSILON);

/** The guided path from one baseline; input and baseline are [1, h, w, c]. */
export async function computeGuidedIG(
  forward: ForwardFn,
  input: tf.Tensor4D,
  baseline: tf.Tensor4D,
  target: Target,
  options: GuidedIGOptions,
): Promise<GuidedIGResult> {
  const { steps, fraction, maxDist } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a whole number ≥ 1, got ${steps}`);
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`fraction must be in (0, 1], got ${fraction}`);
  if (!(maxDist >= 0 && maxDist <= 1)) throw new RangeError(`maxDist must be in [0, 1], got ${maxDist}`);
  const shape = input.shape;
  const [, h, w, c] = shape;
  const n = h * w * c;
  const xIn = Float64Array.from(await input.data());
  const xBase = Float64Array.from(await baseline.data());
  const x = Float64Array.from(xBase);
  const attr = new Float64Array(n);
  const diff = new Float64Array(n);
  let l1Total = 0;
  for (let i = 0; i < n; i += 1) {
    diff[i] = (xIn[i] as number) - (xBase[i] as number);
    l1Total += Math.abs(diff[i] as number);
  }
  const gradOfSum = buildGradientOfSum(forward, target);
  const fx = computeScores(forward, input, target)[0] ?? NaN;
  const fBaseline = computeScores(forward, baseline, target)[0] ?? NaN;
  const alphaOf = (i: number, v: number): number => (diff[i] === 0 ? NaN : (v - (xBase[i] as number)) / (diff[i] as number));
  const xAt = (i: number, alpha: number): number => (xBase[i] as number) + (diff[i] as number) * alpha;
  const absGrad = new Float64Array(n);
  let evaluations = 0;
  if (l1Total > 0) {
    for (let step = 0; step < steps; step += 1) {
      const gradT = tf.tidy(() => gradOfSum(tf.tensor4d(Float32Array.from(x), shape)));
      const gradActual = await gradT.data();
      gradT.dispose();
      evaluations += 1;
      const alpha = (step + 1) / steps;
      const alphaMin = Math.max(alpha - maxDist, 0);
      const alphaMax = Math.min(alpha + maxDist, 1);
      const l1Target = l1Total * (1 - (step + 1) / steps);
      for (let i = 0; i < n; i += 1) absGrad[i] = Math.abs(gradActual[i] as number);
      let gamma = Infinity;
      while (gamma > 1) {
        const xOld = Float64Array.from(x);
        // Features lagging below alphaMin catch up to it first.
        for (let i = 0; i < n; i += 1) {
          const a = alphaOf(i, x[i] as number);
          if ((Number.isNaN(a) ? alphaMax : a) < alphaMin) x[i] = xAt(i, alphaMin);
        }
        let l1Current = 0;
        for (let i = 0; i < n; i += 1) l1Current += Math.abs((x[i] as number) - (xIn[i] as number));
        if (isClose(l1Target, l1Current)) {
          for (let i = 0; i < n; i += 1) attr[i] = (attr[i] as number) + ((x[i] as number) - (xOld[i] as number)) * (gradActual[i] as number);
          break;
        }
        // Features already at alphaMax do not move further in this step.
        for (let i = 0; i < n; i += 1) if (x[i] === xAt(i, alphaMax)) absGrad[i] = Infinity;
        const threshold = quantileLower(absGrad, fraction);
        let l1S = 0;
        const selected = new Uint8Array(n);
        for (let i = 0; i < n; i += 1) {
          if (absGrad[i] !== Infinity && (absGrad[i] as number) <= threshold) {
            selected[i] = 1;
            l1S += Math.abs((x[i] as number) - xAt(i, alphaMax));
          }
        }
        gamma = l1S > 0 ? (l1Current - l1Target) / l1S : Infinity;
        for (let i = 0; i < n; i += 1) {
          if (selected[i] !== 1) continue;
          const xMax = xAt(i, alphaMax);
          x[i] = gamma > 1 ? xMax : (x[i] as number) + (xMax - (x[i] as number)) * gamma;
        }
        for (let i = 0; i < n; i += 1) attr[i] = (attr[i] as number) + ((x[i] as number) - (xOld[i] as number)) * (gradActual[i] as number);
        // Nothing left to move in this step (every feature at alphaMax): go on to the next step.
        if (gamma === Infinity && l1S === 0) break;
      }
      options.onProgress?.(step + 1, steps);
    }
  }
  let sum = 0;
  for (let i = 0; i < n; i += 1) sum += attr[i] as number;
  return {
    attributions: tf.tensor3d(Float32Array.from(attr), [h, w, c]),
    completeness: computeCompleteness(fx, fBaseline, sum),
    gradientEvaluations: evaluations,
  };
}
