import type * as tf from '@tensorflow/tfjs-core';

/**
 * The model as the attribution core sees it (PAIR saliency's shape): a differentiable function from a
 * batch of preprocessed inputs [batch, h, w, c] to the chosen output in the chosen space [batch, classes].
 * The core never sees files, formats or backends.
 */
export type ForwardFn = (inputs: tf.Tensor4D) => tf.Tensor2D;

/** F reads out[index], or out[a] - out[b] for a comparative question. */
export type Target = { kind: 'index'; index: number } | { kind: 'difference'; a: number; b: number };

/** The attribution path: the straight line (IG), blurring (Blur IG) or guided (Guided IG). */
export const PATH_KINDS = ['straight', 'blur', 'guided'] as const;
export type PathKind = (typeof PATH_KINDS)[number];

/**
 * How SmoothGrad combines noisy attributions (Captum NoiseTunnel's names): `smoothgrad` their mean,
 * `smoothgrad_sq` the mean of their squares, `vargrad` their variance (population, as Captum).
 */
export const SMOOTH_KINDS = ['smoothgrad', 'smoothgrad_sq', 'vargrad'] as const;
export type SmoothKind = (typeof SMOOTH_KINDS)[number];

export type Method =
  | 'gausslegendre'
  | 'riemann-left'
  | 'riemann-right'
  | 'riemann-middle'
  | 'riemann-trapezoid';

export const METHODS: readonly Method[] = [
  'gausslegendre',
  'riemann-left',
  'riemann-right',
  'riemann-middle',
  'riemann-trapezoid',
];

/** What is explained: F = target(forward(·)) at `input`, against `baselines` ([1, h, w, c] each, preprocessed like the input). */
export interface AttributionProblem {
  forward: ForwardFn;
  input: tf.Tensor4D;
  baselines: tf.Tensor4D[];
  target: Target;
}

/** F and ∂F/∂x at each of a batch of points. */
export interface PointGradients {
  /** F at each point: [k]. */
  values: number[];
  /** ∂F/∂x at each point: [k, h, w, c]; the caller disposes it. */
  grads: tf.Tensor4D;
}

/**
 * F and ∂F/∂x at given points ([k, h, w, c], not disposed), for the paths that are not straight lines
 * (Blur IG, Guided IG). igx's worker pool may compute them elsewhere; wherever they run, a batch gives
 * the same bits as buildPointGradients on the same backend.
 */
export type PointGradientsFn = (points: tf.Tensor4D) => Promise<PointGradients>;
