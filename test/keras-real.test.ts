/**
 * Real Keras files written by other people (fixtures/keras-real, sources and licences in each SOURCE.md):
 * Keras 2.0.6 to 3.1.1, .keras and .h5, Sequential and functional. Each must load, predict the class its
 * repository says for a known input, and give IG whose completeness holds at the default settings.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { parseExplainFlags, type RawExplainFlags } from '../src/config/explain-config.js';
import { selectBackend } from '../src/engine/backend.js';
import { closeExplainSession, explainImage, openExplainSession } from '../src/explain/index.js';
import type { Report } from '../src/report/schema.js';
import { fixture, IGX_BIN, ROOT } from './support/paths.js';

const REAL = (...parts: string[]): string => fixture('keras-real', ...parts);
const DIGIT = (n: 1 | 8): string => REAL('moon_mnist_keras3', `${n}.png`);
const out = mkdtempSync(join(tmpdir(), 'igx-keras-real-'));
after(() => rmSync(out, { recursive: true, force: true }));
before(async () => {
  await selectBackend('wasm');
});

async function explain(model: string, image: string, flags: RawExplainFlags): Promise<Report> {
  const session = await openExplainSession(parseExplainFlags({ model, backend: 'wasm', out, ...flags }));
  try {
    return (await explainImage(session, image, { outputStem: `${Math.random().toString(36).slice(2)}` })).report;
  } finally {
    closeExplainSession(session);
  }
}

interface Case {
  name: string;
  model: string;
  flags: RawExplainFlags;
  /** Image → the class index its repository's labels say. */
  expect: [string, number][];
}

const CASES: Case[] = [
  { name: 'Keras 3.1.1 .keras, Sequential CNN (MNIST)', model: REAL('moon_mnist_keras3', 'mnist_model.keras'), flags: { preprocess: '[0,1]' }, expect: [[DIGIT(1), 1], [DIGIT(8), 8]] },
  { name: 'Keras 3.1.1 legacy .h5 (weight_names without :0)', model: REAL('moon_mnist_k3_legacy_h5', 'mnist_model.h5'), flags: { preprocess: '[0,1]' }, expect: [[DIGIT(1), 1], [DIGIT(8), 8]] },
  // Sudoku digits 1..9 as classes 0..8; cells are fed as 0..255.
  { name: 'tf.keras 2.13 .keras (_layer_checkpoint_dependencies, saved on Windows)', model: REAL('keithsel_digits_tf213_keras', 'model.keras'), flags: { preprocess: 'raw' }, expect: [[DIGIT(1), 0], [DIGIT(8), 7]] },
  { name: 'Keras 2.2.4-tf HDF5 named .keras', model: REAL('keithsel_digits_hdf5_named_keras', 'model_15_epochs_font_mnist.keras'), flags: { preprocess: 'raw' }, expect: [[DIGIT(1), 0], [DIGIT(8), 7]] },
  // x/255 − 0.5, linear logits.
  { name: 'Keras 2.0.6 .h5 (Sequential config as a bare list)', model: REAL('aix360_cem_mnist_k2_0_6', 'mnist.h5'), flags: { mean: '127.5', std: '255' }, expect: [[DIGIT(1), 1], [DIGIT(8), 8]] },
  { name: 'Keras 2.10 .h5 (a stray input_shape on a later layer)', model: REAL('purinat_mnist_k2_10_h5', 'mnist_cnn.h5'), flags: { preprocess: 'raw' }, expect: [[DIGIT(8), 8]] },
  // CIFAR-10: 3 cat, 5 dog; raw pixels.
  { name: 'Keras 2.4 .h5, functional ResNet-8 (BatchNormalization, Add)', model: REAL('tiny_resnet8_cifar10_func', 'pretrainedResnet.h5'), flags: { preprocess: 'raw', resize: 'fill' }, expect: [[fixture('images', 'cat.jpg'), 3], [fixture('images', 'dog.jpg'), 5]] },
];

describe('real Keras files explain: the class their repository says, completeness within 5%', () => {
  for (const c of CASES) {
    it(c.name, async (t) => {
      const tensors = tf.memory().numTensors;
      for (const [image, index] of c.expect) {
        const r = await explain(c.model, image, c.flags);
        t.diagnostic(`${image.split('/').pop()}: class ${r.prediction.index} (${r.prediction.score.toFixed(4)}), completeness ${r.completeness.relativeError?.toFixed(4)} at ${r.steps} steps`);
        assert.equal(r.prediction.index, index, image);
        assert.ok(r.completeness.isWithinTolerance && (r.completeness.relativeError ?? 1) <= 0.05, `completeness ${r.completeness.relativeError}`);
      }
      assert.equal(tf.memory().numTensors, tensors, 'tensors left behind');
    });
  }

  it('Keras 2.8 MobileNet v1 0.25 (.h5, keepdims pooling, ReLU(6)) gives what the tfjs conversion of the same Google weights gives', async () => {
    const image = fixture('images', 'cat.jpg');
    const keras = await explain(REAL('st_mobilenet_v1_025_imagenet_func', 'mobilenet_v1_0.25_224.h5'), image, { preprocess: '[-1,1]', steps: '16' });
    const tfjs = await explain(fixture('models', 'mobilenet_v1_0.25_224'), image, { steps: '16' });
    assert.equal(keras.prediction.index, 281); // tabby
    assert.equal(keras.prediction.index, tfjs.prediction.index);
    assert.ok(Math.abs(keras.prediction.score - tfjs.prediction.score) < 1e-5, `${keras.prediction.score} vs ${tfjs.prediction.score}`);
    assert.ok(Math.abs(keras.completeness.sum - tfjs.completeness.sum) < 1e-4, `Σ attributions ${keras.completeness.sum} vs ${tfjs.completeness.sum}`);
  });
});

describe('real Keras files igx cannot run are refused: one line, its code, exit 2', () => {
  const cases: [string, string, string][] = [
    ['a QKeras custom layer', REAL('hls4ml_qkeras_custom_layer', 'FashionMNIST_qkeras.h5'), 'E_UNSUPPORTED_OP'],
    ['weights without a model (save_weights)', REAL('aix360_heloc_weights_only_tabular', 'heloc_nnsmall.h5'), 'E_MODEL_INVALID'],
  ];
  for (const [name, file, code] of cases) {
    it(name, () => {
      const r = spawnSync(process.execPath, [IGX_BIN, 'inspect', file], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      assert.equal(r.status, 2, r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] as string, new RegExp(`\\[${code}\\]$`));
    });
  }
});
