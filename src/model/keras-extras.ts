/**
 * Keras pieces that the Keras applications use and tfjs-layers 4.22 lacks, registered with tfjs-layers'
 * class registry so that model configs naming them deserialize:
 *  - the `hard_swish` / `hard_silu` activation (Keras 3's MobileNetV3: x · relu6(x + 3) / 6);
 *  - Keras 3's `hard_sigmoid`, relu6(x + 3) / 6, which is not Keras 2's (and tfjs's) clip(0.2x + 0.5);
 *  - `LayerScale` (ConvNeXt: x · gamma, one gamma per channel);
 *  - `StochasticDepth` (ConvNeXt: drops residual branches while training; the identity at inference);
 *  - global pooling with `keepdims` (Keras 3's MobileNetV3 squeeze-excite), which tfjs-layers ignores;
 *  - the identity, for layers that only act while training (data augmentation: RandomFlip, …).
 * Forward-only definitions in tfjs ops, so their gradients are tfjs's own.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable } from '@tensorflow/tfjs-layers';

/** Names the Keras translation writes into configs for the classes below (Keras spelling: tfjs-layers camel-cases activations). */
export const KERAS3_HARD_SIGMOID = 'hard_sigmoid_keras3';
const KERAS3_HARD_SIGMOID_TFJS = 'hardSigmoidKeras3';
export const KEEPDIMS_POOLING_CLASS = 'IgxKeepdimsGlobalPooling2D';
export const INFERENCE_IDENTITY_CLASS = 'IgxInferenceIdentity';

/** x · relu6(x + 3) / 6 (Howard et al. 2019, "Searching for MobileNetV3"). */
function hardSwish(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6)));
}

class HardSwish extends tf.serialization.Serializable {
  static readonly className: string = 'hardSwish';
  apply(x: tf.Tensor): tf.Tensor {
    return hardSwish(x);
  }
  getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}

/** Keras 3 names the same function hard_silu too. */
class HardSilu extends HardSwish {
  static override readonly className: string = 'hardSilu';
}

/** tfjs-layers hands a deserialized config over in camelCase; code may give Keras' snake_case. */
/** Keras 3's hard_sigmoid: relu6(x + 3) / 6. (Keras 2 and tfjs: clip(0.2x + 0.5, 0, 1).) */
class HardSigmoidKeras3 extends tf.serialization.Serializable {
  static readonly className: string = KERAS3_HARD_SIGMOID_TFJS;
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.div(tf.relu6(tf.add(x, 3)), 6));
  }
  getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}

interface LayerScaleArgs {
  init_values?: number;
  initValues?: number;
  projection_dim?: number;
  projectionDim?: number;
  name?: string;
}

/** ConvNeXt's per-channel scale of a residual branch: x · gamma. Weight: gamma [projection_dim]. */
class LayerScale extends layers.Layer {
  static readonly className = 'LayerScale';
  private readonly initValues: number;
  private readonly projectionDim: number | undefined;
  private gamma: LayerVariable | null = null;

  constructor(args: LayerScaleArgs) {
    super({ name: args.name, trainable: false });
    this.initValues = args.initValues ?? args.init_values ?? 1e-6;
    this.projectionDim = args.projectionDim ?? args.projection_dim;
  }

  override build(inputShape: (number | null)[] | (number | null)[][]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const channels = this.projectionDim ?? (shape[shape.length - 1] as number);
    this.gamma = this.addWeight('gamma', [channels], 'float32', initializers.constant({ value: this.initValues }));
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    return tf.tidy(() => tf.mul(x, (this.gamma as LayerVariable).read()));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), init_values: this.initValues, projection_dim: this.projectionDim ?? null };
  }
}

/** Identity at inference: Keras drops whole residual branches only while training. */
class StochasticDepth extends layers.Layer {
  static readonly className = 'StochasticDepth';
  private readonly dropPathRate: number;

  constructor(args: { drop_path_rate?: number; dropPathRate?: number; name?: string }) {
    super({ name: args.name, trainable: false });
    this.dropPathRate = args.dropPathRate ?? args.drop_path_rate ?? 0;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.clone(Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), drop_path_rate: this.dropPathRate };
  }
}

type Shape = (number | null)[];
const firstShape = (s: Shape | Shape[]): Shape => (Array.isArray(s[0]) ? s[0] : s) as Shape;
const firstTensor = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs);

/** GlobalAveragePooling2D / GlobalMaxPooling2D, with Keras' `keepdims` (tfjs-layers drops it). */
class KeepdimsGlobalPooling2D extends layers.Layer {
  static readonly className = KEEPDIMS_POOLING_CLASS;
  private readonly mode: 'average' | 'max';
  private readonly isChannelsFirst: boolean;

  constructor(args: { mode?: string; dataFormat?: string; data_format?: string; name?: string }) {
    super({ name: args.name });
    this.mode = args.mode === 'max' ? 'max' : 'average';
    this.isChannelsFirst = (args.dataFormat ?? args.data_format) === 'channels_first';
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, d1, , d3] = firstShape(inputShape);
    return this.isChannelsFirst ? [b ?? null, d1 ?? null, 1, 1] : [b ?? null, 1, 1, d3 ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const axes = this.isChannelsFirst ? [2, 3] : [1, 2];
    const x = firstTensor(inputs);
    return tf.tidy(() => (this.mode === 'max' ? tf.max(x, axes, true) : tf.mean(x, axes, true)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode, data_format: this.isChannelsFirst ? 'channels_first' : 'channels_last' };
  }
}

/** Layers that act only while training (Keras' data augmentation): the identity at inference. */
class InferenceIdentity extends layers.Layer {
  static readonly className = INFERENCE_IDENTITY_CLASS;

  constructor(args: { name?: string }) {
    super({ name: args.name });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.clone(firstTensor(inputs));
  }
}

let isRegistered = false;

/** Registers the classes above with tfjs's serialization registry; idempotent. */
export function registerKerasExtras(): void {
  if (isRegistered) return;
  for (const cls of [HardSwish, HardSilu, HardSigmoidKeras3, LayerScale, StochasticDepth, KeepdimsGlobalPooling2D, InferenceIdentity]) {
    tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  }
  isRegistered = true;
}

/** The activation's tfjs name: tfjs-layers reads Keras' snake_case `hard_swish` as hardSwish. */
export const HARD_SWISH = 'hardSwish';

/** A LayerScale layer, as Keras' ConvNeXt builds it. */
export function layerScale(args: LayerScaleArgs): layers.Layer {
  registerKerasExtras();
  return new LayerScale(args);
}

/** A StochasticDepth layer (identity at inference). */
export function stochasticDepth(args: { drop_path_rate?: number; name?: string }): layers.Layer {
  registerKerasExtras();
  return new StochasticDepth(args);
}
