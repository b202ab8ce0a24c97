/**
 * Keras pieces that the Keras applications use and tfjs-layers 4.22 lacks, registered with tfjs-layers'
 * class registry so that model configs naming them deserialize:
 *  - the `hard_swish` / `hard_silu` activation (Keras 3's MobileNetV3: x · relu6(x + 3) / 6);
 *  - `LayerScale` (ConvNeXt: x · gamma, one gamma per channel);
 *  - `StochasticDepth` (ConvNeXt: drops residual branches while training; the identity at inference).
 * Forward-only definitions in tfjs ops, so their gradients are tfjs's own.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable } from '@tensorflow/tfjs-layers';

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

let isRegistered = false;

/** Registers the classes above with tfjs's serialization registry; idempotent. */
export function registerKerasExtras(): void {
  if (isRegistered) return;
  for (const cls of [HardSwish, HardSilu, LayerScale, StochasticDepth]) {
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
