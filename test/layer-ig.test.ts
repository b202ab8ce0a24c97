import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { input as symbolicInput, layers, loadLayersModel, model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import { computeLayerIntegratedGradients } from '../src/attribution/layer-ig.js';
import { splitLayersModel } from '../src/model/layer-split.js';
import { computeIntegratedGradients } from '../src/attribution/integrated-gradients.js';
import { selectBackend } from '../src/engine/backend.js';
import { isIgxError } from '../src/errors.js';
import { computePreprocessed, resolvePreprocess } from '../src/image/preprocess.js';
import { readImage } from '../src/image/read-image.js';
import { createFileIOHandler } from '../src/model/io-handler.js';
import { loadModel } from '../src/model/load-model.js';
import { fixture } from './support/paths.js';

await selectBackend('wasm');

const load = (...parts: string[]): Promise<LayersModel> => loadLayersModel(createFileIOHandler(fixture('models', ...parts)));
const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0);
const argmax = (f: () => tf.Tensor): number => tf.tidy(() => tf.argMax(tf.reshape(f(), [-1])).dataSync()[0] as number);

/** A smooth 28×28 "digit" in [0, 1]. */
const digit = Float32Array.from({ length: 28 * 28 }, (_, i) => {
  const y = Math.floor(i / 28) - 14;
  const x = (i % 28) - 14;
  return Math.exp(-((Math.hypot(x, y) - 7) ** 2) / 6);
});

test('mnist sequential: head·tail is the model, layer IG is complete at 64 points, maps add up', async () => {
  const model = await load('mnist_layers_sequential', 'mnist.json');
  try {
    const before = tf.memory().numTensors;
    const input = tf.tensor4d(digit, [1, 28, 28, 1]);
    const baseline = tf.zeros([1, 28, 28, 1]);
    try {
      const full = model.predict(input) as tf.Tensor;
      const index = argmax(() => full);
      for (const [layerName, shape] of [['myConv2', [10, 10, 16]], ['myDense1', [1, 1, 120]]] as const) {
        const split = splitLayersModel(model, layerName);
        const viaSplit = tf.tidy(() => Array.from(split.tail(split.head(input)).dataSync()));
        assert.deepEqual(viaSplit, Array.from(full.dataSync()), layerName);
        const r = await computeLayerIntegratedGradients(split, { input, baselines: [baseline], target: { kind: 'index', index } }, { method: 'gausslegendre', steps: 64, batchSize: 16 });
        const what = `${layerName}: ${JSON.stringify(r.completeness)}`;
        assert.deepEqual(r.shape, shape);
        assert.equal(r.attributions.length, shape[0] * shape[1] * shape[2]);
        assert.ok(Math.abs(r.completeness.fx - full.dataSync()[index]!) < 1e-6, what);
        // This fixture's weights are near uniform (F ≈ 0.1 for every class): Δ is small but far above noise.
        assert.ok(Math.abs(r.completeness.fx - r.completeness.fBaseline) > 1e-3, what);
        assert.ok(r.completeness.relativeError <= 1e-3, what);
        close(sum(r.channelTotals), r.completeness.sum, 1e-4);
        close(sum(r.spatialMap), r.completeness.sum, 1e-4);
        assert.equal(r.channelTotals.length, shape[2]);
        assert.equal(r.spatialMap.length, shape[0] * shape[1]);
      }
      full.dispose();
    } finally {
      input.dispose();
      baseline.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

function close(a: number, b: number, tol: number): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
}

test('lenet multi-output (rank-3 input): layer IG at a conv layer reading the softmax output; a layer at the input or unknown is E_FLAG', async () => {
  const model = await load('lenet_layers_multi_output', 'model.json');
  try {
    const before = tf.memory().numTensors;
    // A faint digit (×0.1): the softmax is not saturated (F 0.88 vs 0.22 at the black baseline); saturated
    // (×1, F = 1 − 1e−7) the path is steep near the baseline and 64 points give 1.6e−2.
    const input = tf.tensor3d(digit.map((v) => v * 0.1), [1, 28, 28]);
    const baseline = tf.zeros([1, 28, 28]);
    try {
      const split = splitLayersModel(model, 'maxpool_1');
      assert.equal(split.readsFrom, 'softmax');
      assert.deepEqual(split.activationShape, [12, 12, 6]);
      const outputs = model.predict(input) as tf.Tensor[];
      tf.dispose(outputs.slice(0, -1));
      const out = outputs.at(-1)!;
      const index = argmax(() => out);
      const r = await computeLayerIntegratedGradients(split, { input, baselines: [baseline], target: { kind: 'index', index } }, { method: 'gausslegendre', steps: 64, batchSize: 32 });
      const what = JSON.stringify(r.completeness);
      assert.ok(Math.abs(r.completeness.fx - out.dataSync()[index]!) < 1e-6, what);
      assert.ok(r.completeness.relativeError <= 1e-3, what);
      out.dispose();
    } finally {
      input.dispose();
      baseline.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
    const flag = (err: unknown): boolean => isIgxError(err) && err.code === 'E_FLAG';
    assert.throws(() => splitLayersModel(model, 'nope'), flag);
    assert.throws(() => splitLayersModel(model, 'reshape_input'), flag);
    assert.throws(() => splitLayersModel(model, 'softmax'), flag);
  } finally {
    model.dispose();
  }
});

test('default model (MobileNet v1 0.25) at conv_pw_6_relu on cat.jpg: complete, and its total equals input IG\'s total', async () => {
  const model = await load('mobilenet_v1_0.25_224', 'model.json');
  try {
    const before = tf.memory().numTensors;
    const image = await readImage(fixture('images', 'cat.jpg'), { height: 224, width: 224, channels: 3, resize: 'cover' });
    const input = tf.tensor4d(computePreprocessed(image.pixels, 3, resolvePreprocess('[-1,1]', 3)), [1, 224, 224, 3]);
    const baseline = tf.tensor4d(computePreprocessed(new Float32Array(224 * 224 * 3), 3, resolvePreprocess('[-1,1]', 3)), [1, 224, 224, 3]);
    try {
      // The logits: the input of the separate softmax layer near the end.
      const logitsTensor = model.getLayer('act_softmax').inboundNodes[0]?.inputTensors[0];
      const split = splitLayersModel(model, 'conv_pw_6_relu', { output: logitsTensor });
      assert.equal(split.readsFrom, 'conv_preds');
      const target = { kind: 'index' as const, index: argmax(() => split.tail(split.head(input))) };
      const options = { method: 'gausslegendre' as const, steps: 32, batchSize: 16 };
      const t = performance.now();
      const r = await computeLayerIntegratedGradients(split, { input, baselines: [baseline], target }, options);
      const ms = performance.now() - t;
      assert.deepEqual(r.shape, [14, 14, 128]);
      const what = `${JSON.stringify(r.completeness)} ${ms.toFixed(0)} ms`;
      assert.ok(r.completeness.relativeError <= 0.02, what);
      // F(x) − F(x′) is the same whatever layer it is attributed to: input IG's F matches.
      const logits = (x: tf.Tensor4D): tf.Tensor2D => split.tail(split.head(x));
      const ig = await computeIntegratedGradients({ forward: logits, input, baselines: [baseline], target }, { ...options, steps: 8 });
      ig.attributions.dispose();
      assert.ok(Math.abs(ig.completeness.fx - r.completeness.fx) < 1e-4 && Math.abs(ig.completeness.fBaseline - r.completeness.fBaseline) < 1e-4, what);
      // The spatial map is where the cat is: more of |map| in the central 8×8 than its 33 % share of positions.
      let centre = 0;
      let all = 0;
      r.spatialMap.forEach((v, p) => {
        const [y, x] = [Math.floor(p / 14), p % 14];
        all += Math.abs(v);
        if (y >= 3 && y < 11 && x >= 3 && x < 11) centre += Math.abs(v);
      });
      // Measured: 0.56 of |map| in the centre, against 64/196 = 0.33 of the positions.
      assert.ok(centre / all > 0.45, `centre share ${centre / all}; ${what}`);
    } finally {
      input.dispose();
      baseline.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

test('a functional model with a skip connection: a layer that cuts it splits, one bypassed by the skip is E_FLAG', async () => {
  const x = symbolicInput({ shape: [4] });
  const a = layers.dense({ units: 4, activation: 'tanh', name: 'a', kernelInitializer: 'glorotNormal' }).apply(x) as SymbolicTensor;
  const b = layers.dense({ units: 4, activation: 'tanh', name: 'b', kernelInitializer: 'glorotNormal' }).apply(a) as SymbolicTensor;
  const sum = layers.add({ name: 'skip' }).apply([a, b]) as SymbolicTensor;
  const y = layers.dense({ units: 2, name: 'out', kernelInitializer: 'glorotNormal' }).apply(sum) as SymbolicTensor;
  const model = functionalModel({ inputs: x, outputs: y });
  try {
    assert.throws(() => splitLayersModel(model, 'b'), (err: unknown) => isIgxError(err) && err.code === 'E_FLAG' && /does not cut the model/.test(err.message));
    const before = tf.memory().numTensors;
    const input = tf.tensor2d([[1, -2, 0.5, 3]]);
    const baseline = tf.zeros([1, 4]);
    const split = splitLayersModel(model, 'a');
    assert.deepEqual(
      tf.tidy(() => Array.from(split.tail(split.head(input)).dataSync())),
      tf.tidy(() => Array.from((model.predict(input) as tf.Tensor).dataSync())),
    );
    const r = await computeLayerIntegratedGradients(split, { input, baselines: [baseline], target: { kind: 'difference', a: 0, b: 1 } }, { method: 'gausslegendre', steps: 64, batchSize: 64 });
    assert.deepEqual(r.shape, [1, 1, 4]);
    assert.ok(r.completeness.relativeError <= 1e-4, JSON.stringify(r.completeness));
    input.dispose();
    baseline.dispose();
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

test('layer IG reads logits behind a fused softmax (Dense(activation=softmax)): tail·head gives the linear twin\'s logits, complete', async () => {
  const model = await loadModel(fixture('models', 'mnist_layers_sequential'));
  try {
    // The linear twin that reads the logits shares the Dense layer's weights; it is made once, with the model.
    const logits = model.buildForward({ outputSpace: 'logits' });
    assert.equal(logits.space, 'logits');
    const split = model.splitAt('myConv2', { outputSpace: 'logits' });
    const before = tf.memory().numTensors;
    const input = tf.tensor4d(digit, [1, 28, 28, 1]);
    const baseline = tf.zeros([1, 28, 28, 1]) as tf.Tensor4D;
    try {
      const viaSplit = tf.tidy(() => Array.from(split.tail(split.head(input)).dataSync()));
      const direct = tf.tidy(() => Array.from(logits.forward(input).dataSync()));
      viaSplit.forEach((v, i) => close(v, direct[i]!, 1e-5));
      // Logits are not probabilities: they do not sum to 1.
      assert.ok(Math.abs(sum(direct) - 1) > 0.01, `logits ${direct.join(', ')}`);
      const index = direct.indexOf(Math.max(...direct));
      const r = await computeLayerIntegratedGradients(split, { input, baselines: [baseline], target: { kind: 'index', index } }, { method: 'gausslegendre', steps: 64, batchSize: 16 });
      assert.ok(r.completeness.relativeError <= 1e-3, JSON.stringify(r.completeness));
      close(r.completeness.fx, direct[index]!, 1e-5);
    } finally {
      input.dispose();
      baseline.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

test('graph model (emotion_64_gray): layer IG at a node; inspect lists cut nodes; a node a skip bypasses, a weight or an unknown name is E_FLAG', async () => {
  const model = await loadModel(fixture('models', 'emotion_64_gray'));
  try {
    const before = tf.memory().numTensors;
    const usable = model.listSplitLayers();
    const add1 = 'StatefulPartitionedCall/model_1/add_1/add';
    assert.ok(usable.includes(add1), usable.join('\n'));
    // Inside the residual block: the 1×1 conv shortcut bypasses it.
    const inside = 'StatefulPartitionedCall/model_1/block2_sepconv2_act/Relu';
    assert.ok(!usable.includes(inside));
    assert.ok(!usable.some((n) => n.endsWith('_weights') || n === 'input_1'));
    const flag = (err: unknown): boolean => isIgxError(err) && err.code === 'E_FLAG';
    assert.throws(() => model.splitAt(inside), flag);
    assert.throws(() => model.splitAt('StatefulPartitionedCall/model_1/conv2d_1/Conv2D_weights'), flag);
    assert.throws(() => model.splitAt('no_such_node'), flag);
    // A unique "/suffix" names the node too.
    const split = model.splitAt('add_1/add');
    assert.equal(split.layerName, add1);
    assert.deepEqual(split.activationShape, [15, 15, 128]);
    const img = await readImage(fixture('images', 'doberman.png'), { height: 64, width: 64, channels: 1, resize: 'cover' });
    const input = tf.tensor4d(computePreprocessed(img.pixels, 1, resolvePreprocess('[0,1]', 1)), [1, 64, 64, 1]);
    const baseline = tf.zeros([1, 64, 64, 1]) as tf.Tensor4D;
    try {
      const forward = model.buildForward();
      const direct = tf.tidy(() => Array.from(forward.forward(input).dataSync()));
      const viaSplit = tf.tidy(() => Array.from(split.tail(split.head(input)).dataSync()));
      viaSplit.forEach((v, i) => close(v, direct[i]!, 1e-6));
      const index = direct.indexOf(Math.max(...direct));
      const r = await computeLayerIntegratedGradients(split, { input, baselines: [baseline], target: { kind: 'index', index } }, { method: 'gausslegendre', steps: 64, batchSize: 16 });
      assert.deepEqual(r.shape, [15, 15, 128]);
      assert.ok(r.completeness.relativeError <= 0.05, JSON.stringify(r.completeness));
      close(sum(r.channelTotals), r.completeness.sum, 1e-4);
    } finally {
      input.dispose();
      baseline.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

test('a rank-3 input model (lenet, [b, 28, 28]) is cut through loadModel: its head takes the [b, h, w, 1] images explain feeds', async () => {
  const model = await loadModel(fixture('models', 'lenet_layers_multi_output'));
  try {
    const split = model.splitAt('conv_2');
    const before = tf.memory().numTensors;
    const x = tf.tensor4d(digit, [1, 28, 28, 1]);
    const viaSplit = tf.tidy(() => Array.from(split.tail(split.head(x)).dataSync()));
    const direct = tf.tidy(() => Array.from(model.buildForward().forward(x).dataSync()));
    viaSplit.forEach((v, i) => close(v, direct[i]!, 1e-6));
    assert.ok(Math.abs(sum(direct) - 1) < 1e-4, 'the softmax output');
    x.dispose();
    assert.equal(tf.memory().numTensors, before);
  } finally {
    model.dispose();
  }
});

test('graph model: a node with several outputs (Split) whose second output is used is no cut: not listed, E_FLAG', async () => {
  // lenet_graph with MyConv2D_1 → Split(axis 3) → ConcatV2(sp:1, sp:0) → the first max-pool.
  const dir = mkdtempSync(join(tmpdir(), 'igx-split-'));
  const src = fixture('models', 'lenet_graph');
  const json = JSON.parse(readFileSync(join(src, 'model.json'), 'utf8')) as {
    modelTopology: { node: { name: string; op: string; input?: string[]; attr?: Record<string, unknown> }[] };
    weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
  };
  const nodes = json.modelTopology.node;
  const pool = nodes.find((n) => n.input?.[0] === 'MyConv2D_1' && n.op === 'MaxPool');
  assert.ok(pool !== undefined);
  pool.input = ['cc', ...(pool.input ?? []).slice(1)];
  nodes.push(
    { name: 'ax', op: 'Const', attr: { dtype: { type: 3 }, value: { tensor: { dtype: 3, tensorShape: {} } } } },
    { name: 'sp', op: 'Split', input: ['ax', 'MyConv2D_1'], attr: { T: { type: 1 }, num_split: { i: '2' } } },
    { name: 'cc', op: 'ConcatV2', input: ['sp:1', 'sp', 'ax'], attr: { T: { type: 1 }, N: { i: '2' }, Tidx: { type: 3 } } },
  );
  const group = json.weightsManifest[0]!;
  group.weights.push({ name: 'ax', shape: [], dtype: 'int32' });
  const shard = group.paths[0]!;
  writeFileSync(join(dir, shard), Buffer.concat([readFileSync(join(src, shard)), Buffer.from(new Int32Array([3]).buffer)]));
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  const model = await loadModel(dir);
  try {
    const usable = model.listSplitLayers();
    assert.ok(usable.includes('cc') && usable.includes('MyConv2D_2'), usable.join(', '));
    assert.ok(!usable.includes('sp'), 'Split feeds the output through sp:1 too');
    assert.throws(() => model.splitAt('sp'), (err: unknown) => isIgxError(err) && err.code === 'E_FLAG');
    // The concatenation after it is a cut, and head·tail is the model.
    const split = model.splitAt('cc');
    const x = tf.tensor4d(digit, [1, 28, 28, 1]);
    const viaSplit = tf.tidy(() => Array.from(split.tail(split.head(x)).dataSync()));
    const direct = tf.tidy(() => Array.from(model.buildForward().forward(x).dataSync()));
    viaSplit.forEach((v, i) => close(v, direct[i]!, 1e-6));
    x.dispose();
  } finally {
    model.dispose();
  }
});
