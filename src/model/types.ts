import type { LayerSplit } from '../attribution/layer-ig.js';
import type { ForwardFn } from '../attribution/types.js';
import type { Sidecar } from './sidecar.js';

/** The model formats igx loads: the report schema, inspect and the docs take this list. */
export const MODEL_FORMATS = ['graph', 'layers', 'savedmodel', 'onnx'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];
export { OUTPUT_SPACES, READ_SPACES, type OutputSpace, type ReadSpace } from './output-space.js';
import type { OutputSpace, ReadSpace } from './output-space.js';

/** Which output F reads and in which space. Fields left out fall back to the sidecar, then the defaults. */
export interface OutputChoice {
  /**
   * Output name or index; default: the last output. A string of digits that names no output is read
   * as an index. Graph models also take the output's tensor name ("Identity:0").
   */
  output?: string | number;
  /**
   * Default: what the model outputs. 'logits' needs a softmax at the chosen output (walking back through
   * shape-only ops); 'probabilities' needs one too (igx never adds a softmax of its own).
   */
  outputSpace?: OutputSpace;
}

export interface ModelForward {
  /**
   * Differentiable: [batch, h, w, c] float32 → [batch, numClasses] (trailing dims flattened). Call it
   * inside tf.tidy or tf.grad; it does not dispose its input.
   */
  forward: ForwardFn;
  /** The chosen output, as LoadedModel.outputNames names it. */
  outputName: string;
  outputIndex: number;
  numClasses: number;
  /** What F reads: the softmax's probabilities, its input logits, or an output that is no softmax. */
  space: ReadSpace;
  /**
   * The node (graph models) or layer (layers models) F reads: the output itself, or the softmax's input
   * for 'logits'.
   */
  readsFrom: string;
  /** The sidecar's labels, when their count matches numClasses. */
  labels?: string[];
}

export interface LoadedModel {
  format: ModelFormat;
  /** The folder (or model.json path) as given, resolved to an absolute path. */
  path: string;
  /** The model JSON that was read (absolute). */
  modelJsonPath: string;
  /** The folder that holds the model JSON, its weights and igx.json (absolute). */
  modelDir: string;
  /** sha256 (hex) of model.json bytes followed by every weight shard's bytes, in manifest order. */
  sha256: string;
  /** [height, width, channels] of one input, read from the model (or the sidecar's inputShape). */
  inputShape: [number, number, number];
  inputName: string;
  outputNames: string[];
  /** Class names from the sidecar, when it gives them (checked against the default output's classes). */
  labels?: string[];
  sidecar?: Sidecar;
  /**
   * The preprocessing the model itself implies when no flag or sidecar sets one: 'raw' for a SavedModel
   * whose uint8 image input igx feeds as float32 (it takes 0..255 pixel values).
   */
  defaultPreprocess?: 'raw';
  /**
   * The batch size a graph was traced at, where its signature fixes one (e.g. 32): every model call runs
   * that many images, short batches padded. Batches of exactly this many waste nothing.
   */
  fixedBatch?: number;
  /** Builds (or returns the cached) differentiable forward for an output choice; throws IgxError E_MODEL_OUTPUT. */
  buildForward(choice?: OutputChoice): ModelForward;
  /**
   * Cuts the model at a layer (layers models) or node (graph models, SavedModels) for layer IG, reading
   * the output `choice` picks; E_FLAG when it does not cut the model.
   */
  splitAt(layer: string, choice?: OutputChoice): LayerSplit;
  /** Layers or nodes at which splitAt works, from the input on. */
  listSplitLayers(): string[];
  /** Frees the weights; idempotent. Forwards built from this model must not be called afterwards. */
  dispose(): void;
}
