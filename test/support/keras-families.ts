/**
 * Small tfjs-layers models in the shape of each Keras application family, with seeded weights: the
 * layers and wiring of the real architectures (Keras' applications/*.py), at 24×24 with few channels so
 * that finite differences on the cpu backend stay quick. Each ends in a linear Dense of 5 logits.
 */
import * as tf from '@tensorflow/tfjs-core';
import { input, layers, model, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { HARD_SWISH, layerScale, registerKerasExtras, stochasticDepth } from '../../src/model/keras-extras.js';

export const FAMILY_INPUT: [number, number, number] = [24, 24, 3];
type T = SymbolicTensor;
const apply = (layer: { apply(x: T | T[]): unknown }, x: T | T[]): T => layer.apply(x) as T;

function convBn(x: T, filters: number, kernelSize: number, opts: { strides?: number; scale?: boolean; activation?: string } = {}): T {
  const y = apply(layers.conv2d({ filters, kernelSize, strides: opts.strides ?? 1, padding: 'same', useBias: false }), x);
  const bn = apply(layers.batchNormalization({ scale: opts.scale ?? true, epsilon: 1e-3 }), y);
  return apply(layers.activation({ activation: (opts.activation ?? 'relu') as 'relu' }), bn);
}

function head(x: T): T {
  return apply(layers.dense({ units: 5 }), apply(layers.globalAveragePooling2d({}), x));
}

/** Xception: SeparableConv2D + BN, strided 1×1 conv shortcut, MaxPooling2D, Add. */
function xception(x: T): T {
  const stem = convBn(x, 8, 3, { strides: 2 });
  const shortcut = apply(layers.batchNormalization({}), apply(layers.conv2d({ filters: 16, kernelSize: 1, strides: 2, padding: 'same', useBias: false }), stem));
  let y = apply(layers.separableConv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false }), stem);
  y = apply(layers.activation({ activation: 'relu' }), apply(layers.batchNormalization({}), y));
  y = apply(layers.batchNormalization({}), apply(layers.separableConv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false }), y));
  y = apply(layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), y);
  return head(apply(layers.add({}), [y, shortcut]));
}

/** InceptionV3: BN without scale everywhere, four branches, AveragePooling2D, Concatenate. */
function inceptionV3(x: T): T {
  const stem = convBn(x, 8, 3, { strides: 2, scale: false });
  const b1 = convBn(stem, 6, 1, { scale: false });
  const b5 = convBn(convBn(stem, 4, 1, { scale: false }), 6, 5, { scale: false });
  const b3 = convBn(convBn(stem, 4, 1, { scale: false }), 6, 3, { scale: false });
  const pool = apply(layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }), stem);
  const bp = convBn(pool, 4, 1, { scale: false });
  return head(apply(layers.concatenate({ axis: -1 }), [b1, b5, b3, bp]));
}

/** ResNet50: ZeroPadding2D, MaxPooling2D, bottleneck blocks with a projection shortcut and Add. */
function resnet50(x: T): T {
  let y = apply(layers.zeroPadding2d({ padding: 3 }), x);
  y = convBn(y, 8, 7, { strides: 2 });
  y = apply(layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), apply(layers.zeroPadding2d({ padding: 1 }), y));
  const shortcut = apply(layers.batchNormalization({}), apply(layers.conv2d({ filters: 16, kernelSize: 1 }), y));
  let b = convBn(y, 4, 1);
  b = convBn(b, 4, 3);
  b = apply(layers.batchNormalization({}), apply(layers.conv2d({ filters: 16, kernelSize: 1 }), b));
  return head(apply(layers.activation({ activation: 'relu' }), apply(layers.add({}), [b, shortcut])));
}

/** DenseNet: BN-ReLU-Conv blocks whose outputs are concatenated onto the running features, then a transition. */
function densenet(x: T): T {
  let y = convBn(x, 8, 3, { strides: 2 });
  for (let i = 0; i < 3; i++) {
    const bn = apply(layers.activation({ activation: 'relu' }), apply(layers.batchNormalization({}), y));
    const grown = apply(layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }), bn);
    y = apply(layers.concatenate({ axis: -1 }), [y, grown]);
  }
  const t = apply(layers.conv2d({ filters: 8, kernelSize: 1, useBias: false }), apply(layers.batchNormalization({}), y));
  return head(apply(layers.averagePooling2d({ poolSize: 2, strides: 2 }), t));
}

/** EfficientNet: swish, DepthwiseConv2D, squeeze-and-excite (Reshape, sigmoid, Multiply), Dropout, Add. */
function efficientnet(x: T): T {
  const stem = convBn(x, 8, 3, { strides: 2, activation: 'swish' });
  let y = convBn(stem, 16, 1, { activation: 'swish' });
  y = apply(layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false }), y);
  y = apply(layers.activation({ activation: 'swish' as 'relu' }), apply(layers.batchNormalization({}), y));
  let se = apply(layers.globalAveragePooling2d({}), y);
  se = apply(layers.reshape({ targetShape: [1, 1, 16] }), se);
  se = apply(layers.conv2d({ filters: 4, kernelSize: 1, activation: 'swish' as 'relu' }), se);
  se = apply(layers.conv2d({ filters: 16, kernelSize: 1, activation: 'sigmoid' }), se);
  y = apply(layers.multiply({}), [y, se]);
  y = apply(layers.batchNormalization({}), apply(layers.conv2d({ filters: 8, kernelSize: 1, useBias: false }), y));
  y = apply(layers.dropout({ rate: 0.2 }), y);
  return head(apply(layers.add({}), [y, stem]));
}

/** MobileNetV3: hard-swish activations, ReLU(max 6), depthwise conv and a hard-swish head. */
function mobilenetV3(x: T): T {
  const stem = convBn(x, 8, 3, { strides: 2, activation: HARD_SWISH });
  let y = convBn(stem, 16, 1, { activation: HARD_SWISH });
  y = apply(layers.depthwiseConv2d({ kernelSize: 5, padding: 'same', useBias: false }), y);
  y = apply(layers.reLU({ maxValue: 6 }), apply(layers.batchNormalization({}), y));
  y = apply(layers.batchNormalization({}), apply(layers.conv2d({ filters: 8, kernelSize: 1, useBias: false }), y));
  y = apply(layers.add({}), [y, stem]);
  return head(apply(layers.activation({ activation: HARD_SWISH as 'relu' }), y));
}

/** ConvNeXt: 7×7 DepthwiseConv2D, LayerNormalization, Dense on channels, gelu, LayerScale, StochasticDepth. */
function convnext(x: T): T {
  let y = apply(layers.conv2d({ filters: 8, kernelSize: 4, strides: 4 }), x);
  y = apply(layers.layerNormalization({ epsilon: 1e-6 }), y);
  let b = apply(layers.depthwiseConv2d({ kernelSize: 7, padding: 'same' }), y);
  b = apply(layers.layerNormalization({ epsilon: 1e-6 }), b);
  b = apply(layers.dense({ units: 32, activation: 'gelu' as 'relu' }), b);
  b = apply(layers.dense({ units: 8 }), b);
  b = apply(layerScale({ init_values: 0.5, projection_dim: 8 }), b);
  b = apply(stochasticDepth({ drop_path_rate: 0.1 }), b);
  return head(apply(layers.add({}), [y, b]));
}

export const FAMILIES = {
  Xception: xception,
  InceptionV3: inceptionV3,
  ResNet50: resnet50,
  DenseNet: densenet,
  EfficientNet: efficientnet,
  MobileNetV3: mobilenetV3,
  ConvNeXt: convnext,
} as const;
export type FamilyName = keyof typeof FAMILIES;

/** Deterministic values in [0, 1) (mulberry32), so every run builds the same weights. */
function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Seeded weights that keep activations O(1): kernels uniform with variance 2/fan-in (He), BN statistics
 * away from the identity (so a wrong BN gradient shows), scales near 1.
 */
function seedWeights(m: LayersModel, seed: number): void {
  const next = seededUniform(seed);
  const values = m.weights.map((w) => {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const name = w.originalName;
    const fill = (f: () => number): tf.Tensor => tf.tensor(Float32Array.from({ length: n }, f), shape);
    if (/moving_variance$/.test(name)) return fill(() => 0.5 + next());
    if (/gamma$/.test(name)) return fill(() => 0.5 + next());
    if (/(beta|bias|moving_mean)$/.test(name)) return fill(() => (next() - 0.5) * 0.4);
    const fanIn = shape.length > 1 ? n / (shape[shape.length - 1] as number) : n;
    const bound = Math.sqrt(6 / fanIn);
    return fill(() => (next() * 2 - 1) * bound);
  });
  m.setWeights(values);
  tf.dispose(values);
}

/** The family's model with seeded weights; the caller disposes it. */
export function buildFamilyModel(name: FamilyName, seed = 7): LayersModel {
  registerKerasExtras();
  const x = input({ shape: FAMILY_INPUT });
  const m = model({ inputs: x, outputs: FAMILIES[name](x), name: `igx_${name.toLowerCase()}` });
  seedWeights(m, seed);
  return m;
}
