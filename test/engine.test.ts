import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/engine/backend.js';
import { IGX_WASM } from '../src/engine/igx-wasm.js';
import { isIgxError } from '../src/errors.js';
import { relativeError, use } from './support/backend-compare.js';

after(async () => {
  await selectBackend('wasm');
});

// ------------------------------------------------------------------------------------------------
// Backend selection

describe('selectBackend', () => {
  it("rejects 'tensorflow' with E_BACKEND and an install hint when no tfjs-node package is installed", async () => {
    await assert.rejects(selectBackend('tensorflow'), (err: unknown) => {
      assert.ok(isIgxError(err));
      assert.equal(err.code, 'E_BACKEND');
      assert.match(err.message, /@tensorflow\/tfjs-node-gpu is not installed/);
      assert.match(err.message, /npm install @tensorflow\/tfjs-node@4\.22\.0/);
      return true;
    });
  });

  it("'auto' falls back to igx-wasm here, and selection is idempotent", async () => {
    const auto = await selectBackend('auto');
    assert.deepEqual(
      { requested: auto.requested, kind: auto.kind, tfBackend: auto.tfBackend },
      { requested: 'auto', kind: 'wasm', tfBackend: IGX_WASM },
    );
    assert.equal(tf.getBackend(), IGX_WASM);
    const again = await selectBackend('wasm');
    assert.equal(again.tfBackend, IGX_WASM);
    assert.match(again.detail ?? '', /tfjs-backend-wasm/);
    const cpu = await selectBackend('cpu');
    assert.deepEqual([cpu.kind, cpu.tfBackend, tf.getBackend()], ['cpu', 'cpu', 'cpu']);
    await selectBackend('wasm');
    assert.equal(tf.getBackend(), IGX_WASM);
  });

  it("leaves the plain 'wasm' backend as tfjs ships it", async () => {
    await selectBackend('wasm');
    for (const name of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum']) {
      assert.equal(tf.getKernel(name, 'wasm'), undefined, `${name} appeared on 'wasm'`);
      assert.notEqual(tf.getKernel(name, IGX_WASM), undefined, `${name} missing on igx-wasm`);
    }
    assert.notEqual(
      tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc,
      tf.getKernel('Conv2DBackpropInput', IGX_WASM)?.kernelFunc,
    );
    // ...so tfjs's own failure on plain wasm is unchanged: the fused conv asks for a filter gradient.
    await tf.setBackend('wasm');
    try {
      const x = tf.ones([1, 4, 4, 1]);
      const filter = tf.ones([2, 2, 1, 1]);
      assert.throws(
        () => tf.grad((v: tf.Tensor) => tf.fused.conv2d({ x: v as tf.Tensor4D, filter: filter as tf.Tensor4D, strides: 1, pad: 'valid' }))(x),
        /Conv2DBackpropFilter' not registered for backend 'wasm'/,
      );
      tf.dispose([x, filter]);
    } finally {
      await selectBackend('wasm');
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Op-level gradients: igx-wasm against the cpu backend

type OpCase = [name: string, shape: number[], f: (x: tf.Tensor) => tf.Tensor];
const w = (shape: number[], seed: number): tf.Tensor => tf.randomUniform(shape, -1, 1, 'float32', seed);
const conv = (x: tf.Tensor, f: tf.Tensor, s: number | [number, number], pad: 'same' | 'valid' | tf.backend_util.ExplicitPadding, d = 1) =>
  tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, pad, 'NHWC', d);
const dw = (x: tf.Tensor, f: tf.Tensor, s: number, pad: 'same' | 'valid', d = 1) =>
  tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, s, pad, 'NHWC', d);

const OP_CASES: OpCase[] = [
  ['conv2d 3x3 stride 1 same', [2, 9, 9, 3], (x) => conv(x, w([3, 3, 3, 4], 1), 1, 'same')],
  ['conv2d 3x3 stride 2 same', [2, 9, 9, 3], (x) => conv(x, w([3, 3, 3, 4], 1), 2, 'same')],
  ['conv2d 3x3 stride 2 valid, odd sizes', [1, 10, 11, 3], (x) => conv(x, w([3, 3, 3, 4], 1), 2, 'valid')],
  ['conv2d 3x2 strides [2,1], explicit pads', [1, 10, 11, 3], (x) => conv(x, w([3, 2, 3, 4], 1), [2, 1], [[0, 0], [1, 2], [0, 1], [0, 0]])],
  ['conv2d 1x1 (pointwise)', [1, 6, 6, 8], (x) => conv(x, w([1, 1, 8, 5], 1), 1, 'valid')],
  // Above: 3 input channels, computed as columns + col2im; below: the flipped-filter convolution.
  ['conv2d 3x3 stride 2 same, 6 channels', [2, 9, 9, 6], (x) => conv(x, w([3, 3, 6, 4], 1), 2, 'same')],
  ['conv2d 3x3 stride 2 valid, 6 channels', [1, 10, 11, 6], (x) => conv(x, w([3, 3, 6, 4], 1), 2, 'valid')],
  ['conv2d 3x2 strides [2,1], explicit pads, 6 channels', [1, 10, 11, 6], (x) =>
    conv(x, w([3, 2, 6, 4], 1), [2, 1], [[0, 0], [1, 2], [0, 1], [0, 0]])],
  ['conv2dTranspose (Conv2DBackpropInput forward)', [1, 5, 6, 4], (x) =>
    tf.conv2dTranspose(x as tf.Tensor4D, w([3, 3, 5, 4], 1) as tf.Tensor4D, [1, 10, 12, 5], 2, 'same')],
  ['fused conv2d + bias, linear, stride 2', [1, 10, 11, 3], (x) =>
    tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w([3, 3, 3, 4], 1) as tf.Tensor4D, strides: 2, pad: 'same', bias: w([4], 2) })],
  ['fused conv2d + bias + relu6', [1, 10, 11, 3], (x) =>
    tf.fused.conv2d({ x: tf.mul(x, 4) as tf.Tensor4D, filter: w([3, 3, 3, 4], 1) as tf.Tensor4D, strides: 1, pad: 'valid', bias: w([4], 2), activation: 'relu6' })],
  ['depthwise stride 1 same', [1, 9, 9, 4], (x) => dw(x, w([3, 3, 4, 1], 3), 1, 'same')],
  ['depthwise stride 2 same', [1, 9, 9, 4], (x) => dw(x, w([3, 3, 4, 1], 3), 2, 'same')],
  ['depthwise multiplier 3, stride 2 valid', [1, 10, 9, 4], (x) => dw(x, w([3, 3, 4, 3], 3), 2, 'valid')],
  ['fused depthwise + bias, linear, stride 2', [1, 10, 9, 4], (x) =>
    tf.fused.depthwiseConv2d({ x: x as tf.Tensor4D, filter: w([3, 3, 4, 2], 3) as tf.Tensor4D, strides: 2, pad: 'same', bias: w([8], 2) })],
  ['maxPool 2x2 stride 2 (negative windows)', [1, 8, 8, 3], (x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')],
  ['maxPool 3x3 stride 2 same', [1, 9, 9, 3], (x) => tf.maxPool(tf.sub(x, 2) as tf.Tensor4D, 3, 2, 'same')],
  ['avgPool 3x3 stride 2 same', [1, 9, 9, 3], (x) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'same')],
  ['avgPool 7x7 (global)', [1, 7, 7, 3], (x) => tf.avgPool(x as tf.Tensor4D, 7, 1, 'valid')],
  // Element-wise: sizes that are and are not multiples of 4 (SIMD bulk + JavaScript tail).
  ['relu', [2, 5, 5, 4], (x) => tf.relu(x)],
  ['relu, odd size', [3, 5, 7], (x) => tf.relu(x)],
  ['relu6', [2, 5, 5, 3], (x) => tf.relu6(tf.mul(x, 8))],
  ["Keras' relu6: minimum(6, relu(x))", [2, 5, 5, 4], (x) => tf.minimum(6, tf.relu(tf.mul(x, 8)))],
  ['minimum/maximum with a scalar on either side', [3, 5, 7], (x) =>
    tf.add(tf.add(tf.minimum(x, 0.5), tf.maximum(-0.25, x)), tf.add(tf.minimum(-0.5, x), tf.maximum(x, 0.25)))],
  ['minimum/maximum of two tensors', [2, 6], (x) => tf.add(tf.minimum(x, tf.mul(x, x)), tf.maximum(x, w([2, 6], 3)))],
  ['leakyRelu', [2, 5, 5, 4], (x) => tf.leakyRelu(x, 0.1)],
  ['leakyRelu, odd size', [3, 5, 7], (x) => tf.leakyRelu(x, 0.2)],
  ['batchNorm (8 channels)', [2, 5, 5, 8], (x) => tf.batchNorm(x, w([8], 4), tf.add(w([8], 5), 1.5), w([8], 6), w([8], 7), 1e-3)],
  ['batchNorm (3 channels)', [2, 5, 5, 3], (x) => tf.batchNorm(x, w([3], 4), tf.add(w([3], 5), 1.5), w([3], 6), w([3], 7), 1e-3)],
  ['batchNorm (scalar)', [2, 5, 5, 3], (x) => tf.batchNorm(x, tf.scalar(0.3), tf.scalar(2), tf.scalar(0.1), tf.scalar(1.5), 1e-3)],
  ['pad', [1, 4, 4, 2], (x) => tf.pad(x, [[0, 0], [1, 2], [0, 1], [0, 0]])],
  ['mirrorPad', [1, 4, 4, 2], (x) => tf.mirrorPad(x, [[0, 0], [1, 2], [0, 1], [0, 0]], 'reflect')],
  ['concat', [1, 4, 4, 2], (x) => tf.concat([x, tf.mul(x, x)], 3)],
  ['resizeBilinear', [1, 5, 5, 2], (x) => tf.image.resizeBilinear(x as tf.Tensor4D, [9, 7])],
  ['resizeNearestNeighbor', [1, 5, 5, 2], (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [9, 7])],
  ['mean', [2, 5, 5, 3], (x) => tf.mean(x, [1, 2])],
  ['softmax', [2, 7], (x) => tf.softmax(tf.mul(x, 3))],
  ['gather axis 0', [6, 3], (x) => tf.gather(x, tf.tensor1d([0, 2, 2, 5], 'int32'))],
  ['gather axis 1', [3, 6], (x) => tf.gather(x, tf.tensor1d([1, 1, 4], 'int32'), 1)],
  ['stridedSlice', [2, 5, 3], (x) => tf.stridedSlice(x, [0, 1], [2, 5], [1, 2])],
  ['tanh, matMul, fused matMul', [2, 6], (x) =>
    tf.fused.matMul({ a: tf.tanh(tf.matMul(x, w([6, 6], 8))) as tf.Tensor2D, b: w([6, 3], 8) as tf.Tensor2D, bias: w([3], 9), activation: 'relu' })],
];

/** d/dx of sum(f(x) * r) for a fixed random r, so that every output element matters. */
function weightedGrad(f: (x: tf.Tensor) => tf.Tensor, shape: number[]): Float32Array {
  return tf.tidy(() => {
    const x = tf.randomUniform(shape, -1, 1, 'float32', 42);
    const r = tf.randomUniform(f(x).shape, 0.5, 1.5, 'float32', 43);
    return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), r)))(x).dataSync() as Float32Array;
  });
}

describe('igx-wasm op gradients match the cpu backend', () => {
  for (const [name, shape, f] of OP_CASES) {
    it(name, async () => {
      await use(IGX_WASM);
      const before = tf.memory().numTensors;
      const actual = weightedGrad(f, shape);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      await use('cpu');
      const expected = weightedGrad(f, shape);
      await use(IGX_WASM);
      assert.ok(relativeError(actual, expected) <= 1e-5, `relative error ${relativeError(actual, expected)}`);
    });
  }
});

/** A filter [kh, kw, ...] dilated by d: (d - 1) zeros between taps, as a plain (undilated) filter. */
function dilateFilter(f: tf.Tensor, d: number): tf.Tensor {
  const [kh, kw, a, b] = f.shape as [number, number, number, number];
  const src = f.dataSync();
  const out = tf.buffer([(kh - 1) * d + 1, (kw - 1) * d + 1, a, b]);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let p = 0; p < a; p++) for (let q = 0; q < b; q++) out.set(src[((i * kw + j) * a + p) * b + q] as number, i * d, j * d, p, q);
  return out.toTensor();
}

describe('dilated convolutions (tfjs has no gradient for them; igx-wasm does)', () => {
  const cases: [string, number[], number[], (x: tf.Tensor, f: tf.Tensor, d: number) => tf.Tensor][] = [
    ['conv2d dilation 2, same', [1, 10, 11, 3], [3, 3, 3, 4], (x, f, d) => conv(x, f, 1, 'same', d)],
    ['conv2d dilation 3, valid', [1, 12, 12, 2], [2, 3, 2, 3], (x, f, d) => conv(x, f, 1, 'valid', d)],
    ['conv2d dilation 2, same, 6 channels', [1, 10, 11, 6], [3, 3, 6, 4], (x, f, d) => conv(x, f, 1, 'same', d)],
    ['depthwise dilation 2, multiplier 2, same', [1, 10, 9, 4], [3, 3, 4, 2], (x, f, d) => dw(x, f, 1, 'same', d)],
  ];
  for (const [name, xShape, fShape, op] of cases) {
    it(name, async () => {
      const d = name.includes('dilation 3') ? 3 : 2;
      await use(IGX_WASM);
      const filter = w(fShape, 11);
      const actual = weightedGrad((x) => op(x, filter, d), xShape);
      filter.dispose();
      // Reference: the same convolution with the dilation written into the filter, on cpu.
      await use('cpu');
      const expected = tf.tidy(() => {
        const dilated = dilateFilter(w(fShape, 11), d);
        return weightedGrad((x) => op(x, dilated, 1), xShape);
      });
      await use(IGX_WASM);
      assert.ok(relativeError(actual, expected) <= 1e-5, `relative error ${relativeError(actual, expected)}`);
      // And tfjs's own gradient still refuses dilations on other backends.
      await use('cpu');
      assert.throws(() => tf.tidy(() => weightedGrad((x) => op(x, w(fShape, 11), d), xShape)), /dilation/);
      await use(IGX_WASM);
    });
  }
});

describe('StridedSlice gradient (missing from tfjs 4.22)', () => {
  // [begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkAxisMask]
  const cases: [number[], [number[], number[], number[], number, number, number, number, number]][] = [
    [[2, 5, 3], [[0, 1], [2, 5], [1, 2], 0, 0, 0, 0, 0]],
    [[4, 6], [[0, 2], [0, 3], [1, 1], 1, 1, 0, 0, 2]], // x[:, 2], as in the age model
    [[7, 6], [[6, 1], [0, 6], [-2, 3], 0, 0, 0, 0, 0]], // negative stride
    [[3, 4, 5], [[0, 1], [0, 4], [1, 2], 0, 0, 1, 0, 0]], // ellipsis
    [[3, 4], [[0, 0, 1], [3, 0, 3], [1, 1, 1], 0, 0, 0, 2, 0]], // new axis
  ];
  for (const [shape, args] of cases) {
    it(`${JSON.stringify(shape)} ${JSON.stringify(args)}`, async () => {
      for (const backend of [IGX_WASM, 'cpu']) {
        await use(backend);
        const before = tf.memory().numTensors;
        const [actual, expected] = tf.tidy(() => {
          const x = w(shape, 5);
          const y = tf.stridedSlice(x, ...args);
          const r = tf.randomUniform(y.shape, 0.5, 1.5, 'float32', 6);
          const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.stridedSlice(v, ...args), r)))(x);
          // Reference: slice a tensor of flat indices to learn where each output element came from.
          const from = tf.stridedSlice(tf.reshape(tf.range(0, x.size), shape), ...args).dataSync();
          const ref = new Float32Array(x.size);
          const rv = r.dataSync();
          from.forEach((src, k) => (ref[src] = (ref[src] as number) + (rv[k] as number)));
          return [g.dataSync(), ref];
        });
        assert.deepEqual(Array.from(actual), Array.from(expected), backend);
        assert.equal(tf.memory().numTensors, before);
      }
    });
  }
});

/**
 * A linear layer's input gradient on igx-wasm and cpu against the exact one, to 1e-6: since the layer is
 * linear, ∂/∂xᵢ Σ r·layer(x) = Σ r·layer(eᵢ), so its forward on each basis image gives the gradient.
 */
async function checkLinearGradient(shape: [number, number, number], layer: (v: tf.Tensor) => tf.Tensor4D): Promise<void> {
  for (const backend of [IGX_WASM, 'cpu']) {
    await use(backend);
    const before = tf.memory().numTensors;
    const [actual, expected] = tf.tidy(() => {
      const n = shape[0] * shape[1] * shape[2];
      const x = tf.reshape(w(shape, 7), [1, ...shape]) as tf.Tensor4D;
      const r = tf.randomUniform(layer(x).shape, 0.5, 1.5, 'float32', 8);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(layer(v), r)))(x);
      const exact = tf.sum(tf.mul(layer(tf.reshape(tf.eye(n), [n, ...shape])), r), [1, 2, 3]);
      return [g.dataSync(), exact.dataSync()];
    });
    assert.ok(relativeError(actual, expected) < 1e-6, `${backend}: relative error ${relativeError(actual, expected)}`);
    assert.equal(tf.memory().numTensors, before);
  }
}

describe("AvgPool gradient with 'same' padding (tfjs divides border windows by k², its forward by the cells inside)", () => {
  // [input h, w, c], pool size, stride, padding
  const cases: [[number, number, number], number, number, 'same' | 'valid'][] = [
    [[5, 5, 2], 3, 1, 'same'], // every Keras InceptionV3 block
    [[6, 7, 1], 3, 2, 'same'],
    [[5, 5, 1], 2, 2, 'same'], // padding at the end only
    [[6, 6, 2], 3, 1, 'valid'], // never padded: tfjs's own gradient
  ];
  for (const [shape, size, stride, padding] of cases) {
    it(`${JSON.stringify(shape)} pool ${size} stride ${stride} ${padding}`, () =>
      checkLinearGradient(shape, (v) => tf.avgPool(v as tf.Tensor4D, size, stride, padding)));
  }
});

describe('ResizeBilinear gradient (tfjs ignores half-pixel centers, and its cpu kernel swaps h and w)', () => {
  // [input h, w, c], output [h, w], alignCorners, halfPixelCenters
  const cases: [[number, number, number], [number, number], boolean, boolean][] = [
    [[4, 5, 2], [7, 3], false, true], // tf.image.resize, Keras Resizing: up one axis, down the other
    [[6, 6, 1], [3, 3], false, true],
    [[3, 4, 1], [6, 8], false, true],
    [[4, 5, 1], [7, 3], true, false],
    [[4, 5, 1], [7, 3], false, false], // tfjs's cpu gradient swaps h and w here
  ];
  for (const [shape, size, alignCorners, halfPixelCenters] of cases) {
    it(`${JSON.stringify(shape)} → ${JSON.stringify(size)} alignCorners ${alignCorners} halfPixelCenters ${halfPixelCenters}`, () =>
      checkLinearGradient(shape, (v) => tf.image.resizeBilinear(v as tf.Tensor4D, size, alignCorners, halfPixelCenters)));
  }
});

// ------------------------------------------------------------------------------------------------
// Fixture models: input gradients on igx-wasm against the cpu backend
