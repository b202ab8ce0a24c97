// Slow (about 85 s on 2 cores): every fixture model's input gradient on igx-wasm against the cpu backend.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../../src/engine/backend.js';
import { IGX_WASM } from '../../src/engine/igx-wasm.js';
import { CPU_REFERENCE, registerCpuReference } from '../support/cpu-reference.js';
import { fixtureImage } from '../support/fixture-image.js';
import { loadFixtureModel, type FixtureModel } from '../support/load-fixture.js';
import { relativeError, use } from '../support/backend-compare.js';

const TOLERANCE = 1e-3;

after(async () => {
  await selectBackend('wasm');
});

interface ModelCase {
  name: string;
  file?: string;
  image: string;
  size: [number, number, 1 | 3];
  /** The model's input from pixel values in [0, 255]. */
  scale: (v: number) => number;
  /** Input shape without the batch dimension, when it differs from `size`. */
  inputShape?: number[];
  /** Compare with CPU_REFERENCE instead of stock 'cpu' (see test/support/cpu-reference.ts). */
  fastReference?: boolean;
}

const MODELS: ModelCase[] = [
  { name: 'mobilenet_v1_0.25_224', image: 'cat.jpg', size: [224, 224, 3], scale: (v) => v / 127.5 - 1 },
  { name: 'darknet_tiny', image: 'dog.jpg', size: [224, 224, 3], scale: (v) => v / 255, fastReference: true },
  { name: 'mobilenet_v2_mid_5class', image: 'pizza.jpg', size: [224, 224, 3], scale: (v) => v / 255, fastReference: true },
  { name: 'emotion_64_gray', image: 'tabby_cat_224.jpg', size: [64, 64, 1], scale: (v) => v / 127.5 - 1 },
  { name: 'age_64', image: 'tabby_cat_224.jpg', size: [64, 64, 3], scale: (v) => v / 255 },
  { name: 'lenet_graph', image: 'coffee_mug.jpg', size: [28, 28, 1], scale: (v) => v / 255 },
  { name: 'lenet_layers_multi_output', image: 'coffee_mug.jpg', size: [28, 28, 1], scale: (v) => v / 255, inputShape: [28, 28] },
  { name: 'mnist_layers_sequential', file: 'mnist.json', image: 'coffee_mug.jpg', size: [28, 28, 1], scale: (v) => v / 255 },
];

function outputOf(m: FixtureModel, x: tf.Tensor): tf.Tensor {
  const out = m.model.predict(x) as tf.Tensor | tf.Tensor[];
  const last = Array.isArray(out) ? (out[out.length - 1] as tf.Tensor) : out;
  return tf.reshape(last, [last.shape[0] as number, -1]);
}

/**
 * The class whose score is differentiated: the top one unless its softmax probability is saturated
 * (p(1-p) then cancels in float32 differently on each backend), else the runner-up.
 */
function pickClass(scores: Float32Array): number {
  const order = Array.from(scores.keys()).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  const top = order[0] as number;
  return (scores[top] as number) > 0.99 && (scores[top] as number) <= 1 && order.length > 1 ? (order[1] as number) : top;
}

interface Run {
  scores: Float32Array;
  grad: Float32Array;
}

async function runModel(
  c: ModelCase,
  backend: string,
  pixels: Float32Array,
  cls?: number,
  perturb = 0,
): Promise<Run & { cls: number }> {
  await use(backend);
  const m = await loadFixtureModel(c.name, c.file);
  try {
    const before = tf.memory().numTensors;
    const x = modelInput(c, pixels, perturb);
    const scores = tf.tidy(() => outputOf(m, x).dataSync() as Float32Array);
    const k = cls ?? pickClass(scores);
    const score = (v: tf.Tensor): tf.Tensor => tf.sum(tf.slice(outputOf(m, v), [0, k], [-1, 1]));
    // Two steps: the second runs on igx-wasm's cached flipped filters.
    let grad: Float32Array = new Float32Array();
    for (let step = 0; step < (backend === IGX_WASM ? 2 : 1); step++) {
      grad = tf.tidy(() => tf.grad(score)(x).dataSync() as Float32Array);
    }
    x.dispose();
    assert.equal(tf.memory().numTensors, before, `tensors leaked on ${backend}`);
    return { scores, grad, cls: k };
  } finally {
    m.dispose();
  }
}

/** The model input; `perturb` scales each value by 1 + perturb * (a fixed pseudo-random in [-1, 1]). */
function modelInput(c: ModelCase, pixels: Float32Array, perturb = 0): tf.Tensor {
  const values = Array.from(pixels, (v, i) => c.scale(v) * (1 + perturb * Math.sin(i * 12.9898)));
  return tf.tidy(() => tf.reshape(tf.tensor(values), [1, ...(c.inputShape ?? c.size)]));
}

async function forwardOn(c: ModelCase, backend: string, pixels: Float32Array): Promise<Float32Array> {
  await use(backend);
  const m = await loadFixtureModel(c.name, c.file);
  try {
    return tf.tidy(() => outputOf(m, modelInput(c, pixels)).dataSync() as Float32Array);
  } finally {
    m.dispose();
  }
}

describe('fixture models: igx-wasm input gradients match the cpu backend', () => {
  it('the fast cpu reference gives exactly stock cpu input gradients', async () => {
    registerCpuReference();
    const c = MODELS.find((m) => m.name === 'emotion_64_gray') as ModelCase;
    const pixels = await fixtureImage(c.image, ...c.size);
    const stock = await runModel(c, 'cpu', pixels);
    const fast = await runModel(c, CPU_REFERENCE, pixels, stock.cls);
    assert.deepEqual(fast.grad, stock.grad);
    await use(IGX_WASM);
  });

  for (const c of MODELS) {
    it(c.name, async (t) => {
      registerCpuReference();
      const pixels = await fixtureImage(c.image, ...c.size);
      await use(IGX_WASM);
      const dataIds = (tf.backend() as BackendWasm).numDataIds();
      const igx = await runModel(c, IGX_WASM, pixels);
      // igx-wasm's cached filters are freed with the model's weights.
      assert.equal((tf.backend() as BackendWasm).numDataIds(), dataIds, 'igx-wasm kept data after the model was disposed');

      // Forward: igx-wasm runs the wasm backend's kernels, except batch norm (computed as x*f+b, which
      // rounds differently) and min/max with a scalar (as a clamp).
      const wasmScores = await forwardOn(c, 'wasm', pixels);
      const forwardError = relativeError(igx.scores, wasmScores);
      assert.ok(forwardError <= 1e-5, `forward differs from the wasm backend by ${forwardError}`);

      const referenceBackend = c.fastReference ? CPU_REFERENCE : 'cpu';
      const reference = await runModel(c, referenceBackend, pixels, igx.cls);
      assert.ok(relativeError(igx.scores, reference.scores) <= 1e-4, 'forward differs from cpu');
      const err = relativeError(igx.grad, reference.grad);
      let note = '';
      if (err > TOLERANCE) {
        // Past 1e-3 the comparison is only meaningful relative to how much the reference's own
        // gradient moves when the input moves by 1e-6 (relative): activations within float32
        // rounding of a ReLU/ReLU6 kink or a max-pool tie flip either way, and summation order
        // differs between XNNPACK and the cpu loops. A wrong kernel gives errors of order 0.1-1.
        const moved = await runModel(c, referenceBackend, pixels, igx.cls, 1e-6);
        const sensitivity = relativeError(moved.grad, reference.grad);
        note = `; the cpu gradient itself moves ${sensitivity.toExponential(2)} under a 1e-6 input perturbation`;
        assert.ok(err <= 2 * sensitivity && err <= 0.1, `relative error ${err} > ${TOLERANCE}${note}`);
      }
      await use(IGX_WASM);
      t.diagnostic(
        `${c.name}: class ${igx.cls} (score ${igx.scores[igx.cls]?.toPrecision(3)}), ` +
          `relative error ${err.toExponential(2)}${note}`,
      );
    });
  }
});
