/**
 * What load-model needs from a graph or a layers model; the two adapters hide the formats' differences.
 */
import type { LayerSplit } from '../attribution/layer-ig.js';
import type * as tf from '@tensorflow/tfjs-core';
import { IgxError } from '../errors.js';
import type { ModelFormat, OutputSpace, ReadSpace } from './types.js';

/** One output, read in one space, as a raw function of the model's own input tensor. */
export interface AdaptedOutput {
  /** Input of the model's own rank ([b,h,w,c], or [b,h,w] for rank-3 inputs) → the tensor read. */
  run: (input: tf.Tensor) => tf.Tensor;
  space: ReadSpace;
  /** Node or layer read. */
  readsFrom: string;
  /** Elements per example, when the model states them; undefined means: probe with a forward pass. */
  staticClasses?: number;
}

export interface ModelAdapter {
  format: ModelFormat;
  inputName: string;
  /** Including the batch dimension; null (or -1) where the model leaves a dimension open. */
  inputShape: (number | null)[] | undefined;
  outputNames: string[];
  /** The only batch size the graph runs at, where its signature fixes one; the adapter pads to it. */
  fixedBatch?: number;
  /** Other names an output answers to (graph models: "Identity:0" for "Identity"). */
  aliases(index: number): string[];
  /**
   * `requested` undefined: what the model outputs. Throws IgxError E_MODEL_OUTPUT when the space cannot
   * be had, E_UNSUPPORTED_OP when the output needs ops igx cannot run synchronously.
   */
  adaptOutput(index: number, requested: OutputSpace | undefined): AdaptedOutput;
  /**
   * Cuts the model at a layer (layers models) or node (graph models) for layer IG; IgxError E_FLAG when
   * it does not cut. `exampleShape`: one example as the model takes it, batch dim included (open
   * dimensions resolved), for adapters that must run the head once to learn the activation's shape.
   */
  splitAt(name: string, index: number, requested: OutputSpace | undefined, exampleShape: number[]): LayerSplit;
  /** The layers or nodes splitAt takes for output `index`. */
  listSplitPoints(index: number): string[];
  dispose(): void;
}

/** The product of the non-batch dims, or undefined when one is open. */
export function countClasses(shape: readonly (number | null | undefined)[] | undefined): number | undefined {
  if (shape === undefined || shape.length === 0) return undefined;
  let n = 1;
  for (const d of shape.slice(1)) {
    if (d === null || d === undefined || d < 0) return undefined;
    n *= d;
  }
  return n;
}

/**
 * Maps an error thrown by TensorFlow.js while loading, running or differentiating a model to an IgxError:
 * E_UNSUPPORTED_OP for ops or layers it cannot run or differentiate ("gradient function not found for
 * StridedSlice", "Kernel 'X' not registered", executeAsync), else E_MODEL_INVALID. `what` says what failed.
 */
export function toModelError(err: unknown, file: string, what: string): IgxError {
  if (err instanceof IgxError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const unsupported =
    /executeAsync|not registered|not supported|not implemented|unsupported|unknown (op|layer)|gradient function not found/i.test(message);
  return new IgxError(unsupported ? 'E_UNSUPPORTED_OP' : 'E_MODEL_INVALID', `${file}: ${what} failed: ${message}`, { cause: err });
}
