import type * as tf from '@tensorflow/tfjs-core';

/**
 * The model as the attribution core sees it (PAIR saliency's shape): a differentiable function from a
 * batch of preprocessed inputs [batch, h, w, c] to the chosen output in the chosen space [batch, classes].
 * The core never sees files, formats or backends.
 */
export type ForwardFn = (inputs: tf.Tensor4D) => tf.Tensor2D;

/** F reads out[index], or out[a] - out[b] for a comparative question. */
export type Target = { kind: 'index'; index: number } | { kind: 'difference'; a: number; b: number };

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
