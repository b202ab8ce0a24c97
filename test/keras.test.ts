import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { zipSync } from 'fflate';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { isIgxError, type ErrorCode } from '../src/errors.js';
import { toSnakeCase } from '../src/model/keras/collect-keras-weights.js';
import { convertKerasFile } from '../src/model/keras/convert-keras-file.js';
import { readKerasArchive } from '../src/model/keras/read-keras-archive.js';
import { translateKerasConfig } from '../src/model/keras/translate-keras-config.js';
import { loadModel } from '../src/model/load-model.js';
import type { LoadedModel } from '../src/model/types.js';
import { fixture, IGX_BIN, ROOT } from './support/paths.js';

// Written by scripts/make-keras-fixtures.py, with logits from a hand-written numpy forward pass.
interface Reference {
  input: { shape: [number, number, number]; values: number[] };
  models: Record<string, { logits: number[]; probabilities: number[] }>;
}

const KERAS = (...parts: string[]): string => fixture('keras', ...parts);
const MODELS = ['sequential.h5', 'functional.h5', 'nested.h5', 'sequential.keras', 'functional.keras', 'nested.keras'];
const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'igx-keras-'));
const igx = (args: string[]) => spawnSync(process.execPath, [IGX_BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

let reference: Reference;

before(async () => {
  await tf.setBackend('cpu');
  reference = JSON.parse(await readFile(KERAS('reference.json'), 'utf8')) as Reference;
});

/** The model's outputs on the reference input: [logits, probabilities]. */
async function runReference(model: LoadedModel): Promise<[number[], number[]]> {
  const [h, w, c] = reference.input.shape;
  const x = tf.tensor4d(reference.input.values, [1, h, w, c]);
  try {
    const out: number[][] = [];
    for (const outputSpace of ['logits', 'probabilities'] as const) {
      const y = tf.tidy(() => model.buildForward({ outputSpace }).forward(x));
      out.push(Array.from(await y.data()));
      y.dispose();
    }
    return [out[0] as number[], out[1] as number[]];
  } finally {
    x.dispose();
  }
}

const assertClose = (got: number[], want: number[], what: string): void => {
  assert.equal(got.length, want.length, what);
  got.forEach((g, i) => assert.ok(Math.abs(g - (want[i] as number)) < 1e-4, `${what}[${i}]: ${g} vs ${want[i]}`));
};

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isIgxError(err), String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

test('each .keras and .h5 fixture gives the logits and probabilities of the numpy reference', async () => {
  const tensorsBefore = tf.memory().numTensors;
  for (const name of MODELS) {
    const model = await loadModel(KERAS(name));
    try {
      assert.equal(model.format, 'layers');
      assert.deepEqual(model.inputShape, reference.input.shape);
      assert.equal(model.modelJsonPath, KERAS(name));
      const [logits, probabilities] = await runReference(model);
      const want = reference.models[name];
      assert.ok(want !== undefined, name);
      assertClose(logits, want.logits, `${name} logits`);
      assertClose(probabilities, want.probabilities, `${name} probabilities`);
    } finally {
      model.dispose();
    }
  }
  assert.equal(tf.memory().numTensors, tensorsBefore);
});

test('a Keras file under another name is recognised by its content (zip or HDF5 signature)', async () => {
  const dir = await tempDir();
  for (const [name, renamed] of [['functional.keras', 'model.bin'], ['functional.h5', 'weights.dat']] as const) {
    await copyFile(KERAS(name), join(dir, renamed));
    const model = await loadModel(join(dir, renamed));
    try {
      assertClose((await runReference(model))[0], reference.models[name]?.logits ?? [], renamed);
    } finally {
      model.dispose();
    }
  }
});

test('an igx.json beside the Keras file is read; sha256 is the file\'s', async () => {
  const dir = await tempDir();
  await copyFile(KERAS('sequential.keras'), join(dir, 'm.keras'));
  const labels = ['a', 'b', 'c', 'd', 'e'];
  await writeFile(join(dir, 'igx.json'), JSON.stringify({ labels, preprocess: '[0,1]' }));
  const model = await loadModel(join(dir, 'm.keras'));
  try {
    assert.deepEqual(model.labels, labels);
    assert.equal(model.sidecar?.preprocess, '[0,1]');
    const { createHash } = await import('node:crypto');
    assert.equal(model.sha256, createHash('sha256').update(await readFile(KERAS('sequential.keras'))).digest('hex'));
  } finally {
    model.dispose();
  }
});

test('convert then load: the layers model on disk gives identical outputs', async () => {
  for (const name of MODELS) {
    const out = join(await tempDir(), 'converted');
    const written = await convertKerasFile(KERAS(name), name.endsWith('.keras') ? 'keras' : 'h5', out);
    assert.equal(written.weightPaths.length, 1);
    const json = JSON.parse(await readFile(written.modelJsonPath, 'utf8')) as { format: string };
    assert.equal(json.format, 'layers-model');
    const [direct, converted] = [await loadModel(KERAS(name)), await loadModel(out)];
    try {
      assert.deepEqual(await runReference(converted), await runReference(direct), name);
    } finally {
      direct.dispose();
      converted.dispose();
    }
  }
});

test('igx convert and igx explain on a .keras file (built CLI)', async () => {
  const out = join(await tempDir(), 'converted');
  const conv = igx(['convert', KERAS('functional.keras'), out, '--json']);
  assert.equal(conv.status, 0, conv.stderr);
  assert.equal(JSON.parse(conv.stdout).format, 'layers-model');
  const reports = await Promise.all(
    [KERAS('functional.keras'), out].map(async (model) => {
      const dir = await tempDir();
      const r = igx(['explain', fixture('images', 'dog.jpg'), '--model', model, '--steps', '16', '--backend', 'cpu', '--workers', '1', '--out', dir, '-q']);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(await readFile(join(dir, 'dog.ig.json'), 'utf8'));
    }),
  );
  const [a, b] = reports;
  assert.equal(a.target.index, b.target.index);
  assert.equal(a.target.score, b.target.score);
  assert.deepEqual(a.attribution.grid.values, b.attribution.grid.values);
});

const BAD: [string, ErrorCode][] = [
  ['bad/truncated.keras', 'E_MODEL_INVALID'],
  ['bad/truncated.h5', 'E_MODEL_INVALID'],
  ['bad/weights-only.h5', 'E_MODEL_INVALID'],
  ['bad/bad-shape.keras', 'E_MODEL_INVALID'],
  ['bad/lambda.h5', 'E_UNSUPPORTED_OP'],
  ['bad/custom-layer.keras', 'E_UNSUPPORTED_OP'],
];

test('bad Keras files: their error code from the library', async () => {
  const tensorsBefore = tf.memory().numTensors;
  for (const [name, code] of BAD) await rejectsWith(loadModel(KERAS(name)), code);
  assert.equal(tf.memory().numTensors, tensorsBefore);
});

test('bad Keras files: exit 2 and one line on stderr with the code, no stack (built CLI)', () => {
  for (const [name, code] of BAD) {
    const r = igx(['inspect', KERAS(name), '--backend', 'cpu']);
    assert.equal(r.status, 2, `${name}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${name}: ${r.stderr}`);
    assert.ok(lines[0]?.endsWith(`[${code}]`), `${name}: ${r.stderr}`);
    assert.ok(!/\n\s+at /.test(r.stderr), r.stderr);
  }
});

test('a .keras zip entry that declares more than the cap is refused before it is inflated', () => {
  const huge = new Uint8Array(65 * 1024 * 1024).fill(32); // 65 MiB of spaces: compresses to a few KB
  const zip = zipSync({ 'config.json': [huge, { level: 1 }], 'model.weights.h5': new Uint8Array(8) });
  assert.ok(zip.byteLength < 1024 * 1024);
  assert.throws(() => readKerasArchive(zip, 'big.keras'), (err: unknown) => isIgxError(err) && err.code === 'E_MODEL_INVALID');
});

test('Keras names weight groups by snake_case class name, as naming.to_snake_case', () => {
  const table: [string, string][] = [
    ['Conv2D', 'conv2d'],
    ['BatchNormalization', 'batch_normalization'],
    ['ReLU', 're_lu'],
    ['DepthwiseConv2D', 'depthwise_conv2d'],
    ['GlobalAveragePooling2D', 'global_average_pooling2d'],
    ['Functional', 'functional'],
  ];
  for (const [cls, snake] of table) assert.equal(toSnakeCase(cls), snake, cls);
});

test('Keras 3 config forms become the Keras 2 forms tfjs-layers reads', () => {
  const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
  const tensor = (layer: string) => ({ class_name: '__keras_tensor__', config: { shape: [null, 4], dtype: 'float32', keras_history: [layer, 0, 0] } });
  const config = {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: 'f',
      layers: [
        { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, 4], dtype: 'float32', name: 'x' }, registered_name: null, name: 'x', inbound_nodes: [] },
        {
          module: 'keras.layers',
          class_name: 'Dense',
          config: { name: 'd', dtype: policy, units: 2, kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null } },
          registered_name: null,
          name: 'd',
          inbound_nodes: [{ args: [tensor('x')], kwargs: {} }],
        },
        { module: 'keras.layers', class_name: 'Add', config: { name: 'a', dtype: policy }, registered_name: null, name: 'a', inbound_nodes: [{ args: [[tensor('d'), tensor('d')]], kwargs: {} }] },
      ],
      input_layers: [['x', 0, 0]],
      output_layers: ['a', 0, 0],
    },
  };
  const out = translateKerasConfig(config, { file: 'f.keras' }) as { class_name: string; config: { layers: { config: Record<string, unknown>; inbound_nodes: unknown }[]; output_layers: unknown } };
  assert.equal(out.class_name, 'Model');
  const [input, dense, add] = out.config.layers;
  assert.deepEqual(input?.config.batch_input_shape, [null, 4]);
  assert.equal(dense?.config.dtype, 'float32');
  assert.deepEqual(dense?.config.kernel_initializer, { class_name: 'GlorotUniform', config: { seed: null } });
  assert.deepEqual(dense?.inbound_nodes, [[['x', 0, 0, {}]]]);
  assert.deepEqual(add?.inbound_nodes, [[['d', 0, 0, {}], ['d', 0, 0, {}]]]);
  assert.deepEqual(out.config.output_layers, [['a', 0, 0]]);
});

test('Keras semantics tfjs-layers would get wrong: augmentation is the identity, keepdims pooling keeps dims, Keras 3 hard_sigmoid is relu6(x+3)/6, grouped convolutions are refused', async () => {
  const layer = (class_name: string, config: Record<string, unknown>, inbound: string | null) => ({
    module: 'keras.layers',
    class_name,
    config: { name: config.name, ...config },
    registered_name: null,
    name: config.name,
    inbound_nodes: inbound === null ? [] : [{ args: [{ class_name: '__keras_tensor__', config: { keras_history: [inbound, 0, 0] } }], kwargs: {} }],
  });
  const build = (conv: Record<string, unknown>) => ({
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: 'k3',
      layers: [
        layer('InputLayer', { name: 'x', batch_shape: [null, 3, 3, 2] }, null),
        layer('RandomFlip', { name: 'flip', mode: 'horizontal' }, 'x'),
        layer('Conv2D', { name: 'conv', filters: 2, kernel_size: [1, 1], activation: 'linear', ...conv }, 'flip'),
        layer('Activation', { name: 'hs', activation: 'hard_sigmoid' }, 'conv'),
        layer('GlobalAveragePooling2D', { name: 'gap', keepdims: true }, 'hs'),
        layer('Flatten', { name: 'flat' }, 'gap'),
      ],
      input_layers: [['x', 0, 0]],
      output_layers: [['flat', 0, 0]],
    },
  });
  const { models } = await import('@tensorflow/tfjs-layers');
  const topology = translateKerasConfig(build({}), { file: 'k3.keras' });
  const m = await models.modelFromJSON({ modelTopology: topology } as never);
  const kernel = [1, -1, 0.5, 2]; // [1, 1, in 2, out 2]
  m.setWeights([tf.tensor4d(kernel, [1, 1, 2, 2]), tf.tensor1d([0.5, -1])]);
  const x = Array.from({ length: 18 }, (_, i) => (i % 7) - 3);
  const got = tf.tidy(() => Array.from((m.predict(tf.tensor4d(x, [1, 3, 3, 2])) as tf.Tensor).dataSync()));
  m.dispose();
  // By hand: 1×1 conv, Keras 3's hard_sigmoid, the mean over the 9 pixels; the flip is not applied.
  const want = [0, 1].map((o) => {
    let sum = 0;
    for (let p = 0; p < 9; p++) {
      const y = (x[p * 2] as number) * (kernel[o] as number) + (x[p * 2 + 1] as number) * (kernel[2 + o] as number) + [0.5, -1][o]!;
      sum += Math.min(Math.max(y + 3, 0), 6) / 6;
    }
    return sum / 9;
  });
  assertClose(got, want, 'Keras 3 functional');

  const keras2 = translateKerasConfig({ ...build({}), module: undefined }, { file: 'k2.h5' }) as { config: { layers: { config: { activation?: string } }[] } };
  assert.equal(keras2.config.layers[3]?.config.activation, 'hard_sigmoid', "Keras 2's hard_sigmoid keeps its name (tfjs's is Keras 2's)");
  assert.throws(() => translateKerasConfig(build({ groups: 2 }), { file: 'g.keras' }), (err: unknown) => isIgxError(err) && err.code === 'E_UNSUPPORTED_OP');
});
