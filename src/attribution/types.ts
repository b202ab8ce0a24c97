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
