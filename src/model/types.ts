import type { ForwardFn } from '../attribution/types.js';
import type { Sidecar } from '../config/sidecar.js';

export type ModelFormat = 'graph' | 'layers';
export type OutputSpace = 'probabilities' | 'logits';

/** Which output F reads and in which space. */
export interface OutputChoice {
  /** Output name or index; default: the last output. */
  output?: string | number;
  /** Default: what the model outputs. 'logits' needs a softmax at the chosen output. */
  outputSpace?: OutputSpace;
}

export interface ModelForward {
  forward: ForwardFn;
  outputName: string;
  outputIndex: number;
  numClasses: number;
  /** What F reads: the softmax's probabilities, its input logits, or an output that is no softmax. */
  space: 'probabilities' | 'logits' | 'raw';
}

export interface LoadedModel {
  format: ModelFormat;
  /** The folder (or model.json path) as given, resolved to an absolute path. */
  path: string;
  /** sha256 of model.json bytes followed by every weight shard's bytes, in manifest order. */
  sha256: string;
  /** [height, width, channels] of one input, read from the model. */
  inputShape: [number, number, number];
  inputName: string;
  outputNames: string[];
  /** Class names from the sidecar, when it gives them. */
  labels?: string[];
  sidecar?: Sidecar;
  /** Builds the differentiable forward for an output choice; throws IgxError E_MODEL_OUTPUT. */
  buildForward(choice: OutputChoice): ModelForward;
  dispose(): void;
}
