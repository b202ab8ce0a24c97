import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, cp, mkdtemp, readFile, rename, rm, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import { isIgxError, type ErrorCode } from '../src/errors.js';
import { DEFAULT_MODEL_PATH } from '../src/model/default-model.js';
import { createFileIOHandler } from '../src/model/io-handler.js';
import { loadModel } from '../src/model/load-model.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODELS = join(ROOT, 'fixtures', 'models');
const IMAGES = join(ROOT, 'fixtures', 'images');
const model = (name: string): string => join(MODELS, name);

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isIgxError(err), `expected an IgxError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

function throwsWith(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isIgxError(err), `expected an IgxError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** sha256 of the model JSON followed by its weight files in manifest order, computed here independently. */
async function hashModelFiles(jsonPath: string): Promise<string> {
  const bytes = await readFile(jsonPath);
  const json = JSON.parse(bytes.toString('utf8')) as { weightsManifest: { paths: string[] }[] };
  const hash = createHash('sha256').update(bytes);
  for (const group of json.weightsManifest) for (const p of group.paths) hash.update(await readFile(join(dirname(jsonPath), p)));
  return hash.digest('hex');
}

/** [1, size, size, channels] float input from a fixture image: resize cover, then (x - sub) / div. */
async function imageInput(file: string, size: number, channels: 1 | 3, sub: number, div: number): Promise<tf.Tensor4D> {
  let pipeline = sharp(join(IMAGES, file)).resize(size, size, { fit: 'cover' }).removeAlpha();
  if (channels === 1) pipeline = pipeline.grayscale();
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, channels);
  const values = Float32Array.from(data, (v) => (v - sub) / div);
  return tf.tensor4d(values, [1, size, size, channels]);
}

async function tempCopy(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'igx-model-test-'));
  const dest = join(dir, name);
  await cp(model(name), dest, { recursive: true });
  await chmod(dest, 0o755);
  return dest;
}

const temps: string[] = [];
async function brokenCopy(name: string): Promise<string> {
  const dest = await tempCopy(name);
  temps.push(dirname(dest));
  return dest;
}

async function editJson(file: string, edit: (json: Record<string, unknown>) => unknown): Promise<void> {
  const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(json);
  await chmod(file, 0o644).catch(() => undefined);
  await writeFile(file, JSON.stringify(json));
}

before(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

after(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

describe('fixture models load', () => {
  const cases: {
    name: string;
    format: 'graph' | 'layers';
    inputShape: [number, number, number];
    outputs: number;
    lastOutput: string;
    classes: number;
    space: 'probabilities' | 'raw';
    jsonFile?: string;
  }[] = [
    { name: 'mobilenet_v1_0.25_224', format: 'layers', inputShape: [224, 224, 3], outputs: 1, lastOutput: 'reshape_2', classes: 1000, space: 'probabilities' },
    { name: 'darknet_tiny', format: 'layers', inputShape: [224, 224, 3], outputs: 1, lastOutput: 'global_average_pooling2d_1', classes: 1000, space: 'raw' },
    { name: 'mobilenet_v2_mid_5class', format: 'graph', inputShape: [224, 224, 3], outputs: 1, lastOutput: 'Identity:0', classes: 5, space: 'probabilities' },
    { name: 'emotion_64_gray', format: 'graph', inputShape: [64, 64, 1], outputs: 1, lastOutput: 'Identity:0', classes: 7, space: 'probabilities' },
    { name: 'age_64', format: 'graph', inputShape: [64, 64, 3], outputs: 1, lastOutput: 'Identity:0', classes: 1, space: 'raw' },
    { name: 'lenet_graph', format: 'graph', inputShape: [28, 28, 1], outputs: 1, lastOutput: 'MySoftMax', classes: 10, space: 'probabilities' },
    { name: 'lenet_layers_multi_output', format: 'layers', inputShape: [28, 28, 1], outputs: 7, lastOutput: 'softmax', classes: 10, space: 'probabilities' },
    {
      name: 'mnist_layers_sequential',
      format: 'layers',
      inputShape: [28, 28, 1],
      outputs: 1,
      lastOutput: 'myDense3',
      classes: 10,
      space: 'probabilities',
      jsonFile: 'mnist.json',
    },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.format}, input ${c.inputShape.join('x')}, ${c.outputs} output(s), F reads ${c.classes} ${c.space} values`, async () => {
      const m = await loadModel(model(c.name));
      try {
        assert.equal(m.format, c.format);
        assert.deepEqual(m.inputShape, c.inputShape);
        assert.equal(m.outputNames.length, c.outputs);
        assert.equal(m.outputNames.at(-1), c.lastOutput);
        assert.equal(m.modelJsonPath, join(model(c.name), c.jsonFile ?? 'model.json'));
        assert.equal(m.sha256, await hashModelFiles(m.modelJsonPath));
        const f = m.buildForward({});
        assert.equal(f.outputIndex, c.outputs - 1);
        assert.equal(f.numClasses, c.classes);
        assert.equal(f.space, c.space);
        // A forward pass gives [batch, classes] of finite values; softmax rows sum to 1.
        const [h, w, ch] = m.inputShape;
        const out = tf.tidy(() => f.forward(tf.randomUniform([2, h, w, ch], -1, 1, 'float32', 7) as tf.Tensor4D));
        assert.deepEqual(out.shape, [2, c.classes]);
        const rows = (await out.array()) as number[][];
        out.dispose();
        for (const row of rows) {
          assert.ok(row.every(Number.isFinite));
          if (c.space === 'probabilities') assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4);
        }
      } finally {
        m.dispose();
      }
    });
  }
});

describe('default model', () => {
  test('DEFAULT_MODEL_PATH is the MobileNet folder and its sidecar gives preprocessing and the ImageNet labels', async () => {
    assert.equal(DEFAULT_MODEL_PATH, model('mobilenet_v1_0.25_224'));
    const m = await loadModel(DEFAULT_MODEL_PATH);
    try {
      assert.equal(m.sidecar?.preprocess, '[-1,1]');
      assert.equal(m.labels?.length, 1000);
      assert.equal(m.labels?.[554], 'fireboat');
      assert.equal(m.buildForward().labels, m.labels);
    } finally {
      m.dispose();
    }
  });

  test('classifies cat.jpg as a tabby or tiger cat', async () => {
    const m = await loadModel(DEFAULT_MODEL_PATH);
    const x = await imageInput('cat.jpg', 224, 3, 127.5, 127.5);
    try {
      const probs = tf.tidy(() => m.buildForward().forward(x).dataSync());
      let top = 0;
      probs.forEach((p, i) => {
        if (p > (probs[top] ?? 0)) top = i;
      });
      assert.ok(top === 281 || top === 282, `top class ${top} (${m.labels?.[top]})`);
      // fixtures/README.md measured 0.62 for tabby.
      assert.ok((probs[top] ?? 0) > 0.55 && (probs[top] ?? 0) < 0.7, `top probability ${probs[top]}`);
      assert.match(m.labels?.[top] ?? '', /cat/);
    } finally {
      x.dispose();
      m.dispose();
    }
  });
});

describe('output space', () => {
  const cases = [
    { name: 'mobilenet_v1_0.25_224', image: 'cat.jpg', size: 224, channels: 3 as const, sub: 127.5, div: 127.5, logitsFrom: 'conv_preds' },
    { name: 'lenet_graph', image: 'pizza.jpg', size: 28, channels: 1 as const, sub: 0, div: 255, logitsFrom: 'add_4' },
    {
      name: 'lenet_layers_multi_output',
      image: 'dog.jpg',
      size: 28,
      channels: 1 as const,
      sub: 0,
      div: 255,
      logitsFrom: 'softmax (without its softmax)',
    },
  ];
  for (const c of cases) {
    test(`${c.name}: softmax(logits) equals the probabilities; logits are read at ${c.logitsFrom}`, async () => {
      const m = await loadModel(model(c.name));
      const x = await imageInput(c.image, c.size, c.channels, c.sub, c.div);
      try {
        const probsF = m.buildForward({ outputSpace: 'probabilities' });
        const logitsF = m.buildForward({ outputSpace: 'logits' });
        assert.equal(probsF.space, 'probabilities');
        assert.equal(logitsF.space, 'logits');
        assert.equal(logitsF.readsFrom, c.logitsFrom);
        assert.equal(logitsF.numClasses, probsF.numClasses);
        const [probs, logits, fromLogits] = tf.tidy(() => {
          const l = logitsF.forward(x);
          return [probsF.forward(x).dataSync(), l.dataSync(), tf.softmax(l).dataSync()];
        });
        for (let i = 0; i < probs.length; i++) assert.ok(Math.abs((fromLogits[i] ?? NaN) - (probs[i] ?? NaN)) < 1e-5, `class ${i}`);
        // The logits are not the probabilities themselves.
        assert.ok(Math.max(...Array.from(logits, (v, i) => Math.abs(v - (probs[i] ?? 0)))) > 0.1);
      } finally {
        x.dispose();
        m.dispose();
      }
    });
  }

  test('logits or probabilities of an output with no softmax → E_MODEL_OUTPUT', async () => {
    const graph = await loadModel(model('age_64'));
    const layers = await loadModel(model('lenet_layers_multi_output'));
    try {
      throwsWith(() => graph.buildForward({ outputSpace: 'logits' }), 'E_MODEL_OUTPUT');
      throwsWith(() => graph.buildForward({ outputSpace: 'probabilities' }), 'E_MODEL_OUTPUT');
      throwsWith(() => layers.buildForward({ output: 'dense_2', outputSpace: 'logits' }), 'E_MODEL_OUTPUT');
      assert.equal(graph.buildForward({}).space, 'raw');
    } finally {
      graph.dispose();
      layers.dispose();
    }
  });
});

describe('multi-output layers model', () => {
  test('--output by name and by index select different outputs; the default is the last', async () => {
    const m = await loadModel(model('lenet_layers_multi_output'));
    const x = await imageInput('dog.jpg', 28, 1, 0, 255);
    try {
      assert.deepEqual(m.outputNames, ['conv_1', 'maxpool_1', 'conv_2', 'maxpool_2', 'dense_1', 'dense_2', 'softmax']);
      const last = m.buildForward();
      assert.equal(last.outputName, 'softmax');
      assert.equal(last.outputIndex, 6);
      const byName = m.buildForward({ output: 'dense_1' });
      assert.equal(byName.outputIndex, 4);
      assert.equal(byName.numClasses, 120);
      assert.equal(byName.space, 'raw');
      const byIndex = m.buildForward({ output: 2 });
      assert.equal(byIndex.outputName, 'conv_2');
      assert.equal(byIndex.numClasses, 8 * 8 * 16);
      assert.equal(m.buildForward({ output: '2' }).outputName, 'conv_2');

      const [dense2ByName, dense2ByIndex, dense1, conv2, probs] = tf.tidy(() => [
        m.buildForward({ output: 'dense_2' }).forward(x).dataSync(),
        m.buildForward({ output: 5 }).forward(x).dataSync(),
        byName.forward(x).dataSync(),
        byIndex.forward(x).dataSync(),
        Array.from(last.forward(x).dataSync()),
      ]);
      assert.deepEqual(Array.from(dense2ByName), Array.from(dense2ByIndex));
      assert.equal(dense1.length, 120);
      assert.equal(conv2.length, 1024);
      assert.equal(dense2ByName.length, 84);
      assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      assert.ok(dense1.some((v) => v > 0) && dense1.every((v) => v >= 0), 'dense_1 is a ReLU output');
    } finally {
      x.dispose();
      m.dispose();
    }
  });

  test('a name or index that is no output → E_MODEL_OUTPUT', async () => {
    const m = await loadModel(model('lenet_layers_multi_output'));
    try {
      throwsWith(() => m.buildForward({ output: 'no_such_layer' }), 'E_MODEL_OUTPUT');
      throwsWith(() => m.buildForward({ output: 7 }), 'E_MODEL_OUTPUT');
      throwsWith(() => m.buildForward({ output: '-1' }), 'E_MODEL_OUTPUT');
    } finally {
      m.dispose();
    }
  });

  test('graph outputs answer to their node name and their tensor name', async () => {
    const m = await loadModel(model('emotion_64_gray'));
    try {
      assert.equal(m.buildForward({ output: 'Identity' }).outputIndex, 0);
      assert.equal(m.buildForward({ output: 'Identity:0' }).outputIndex, 0);
      throwsWith(() => m.buildForward({ output: 'Softmax' }), 'E_MODEL_OUTPUT');
    } finally {
      m.dispose();
    }
  });
});

describe('model paths', () => {
  test('mnist_layers_sequential loads from its folder and from mnist.json, with its custom weights file name', async () => {
    for (const p of [model('mnist_layers_sequential'), join(model('mnist_layers_sequential'), 'mnist.json')]) {
      const m = await loadModel(p);
      try {
        assert.equal(m.modelJsonPath, join(model('mnist_layers_sequential'), 'mnist.json'));
        assert.equal(m.path, p);
        const expected = createHash('sha256')
          .update(await readFile(join(model('mnist_layers_sequential'), 'mnist.json')))
          .update(await readFile(join(model('mnist_layers_sequential'), 'mnist.weights.bin')))
          .digest('hex');
        assert.equal(m.sha256, expected);
        const x = await imageInput('dog.jpg', 28, 1, 0, 255);
        const sum = tf.tidy(() => tf.sum(m.buildForward().forward(x)).dataSync()[0]);
        x.dispose();
        assert.ok(Math.abs((sum ?? 0) - 1) < 1e-5);
      } finally {
        m.dispose();
      }
    }
  });

  test('createFileIOHandler loads with tf.loadLayersModel and tf.loadGraphModel directly', async () => {
    const layers = await loadLayersModel(createFileIOHandler(join(model('mnist_layers_sequential'), 'mnist.json')));
    const graph = await loadGraphModel(createFileIOHandler(join(model('lenet_graph'), 'model.json')));
    try {
      assert.deepEqual(layers.outputs[0]?.shape, [null, 10]);
      assert.deepEqual(graph.outputNodes, ['MySoftMax']);
      const sum = tf.tidy(() => tf.sum(graph.execute(tf.zeros([1, 28, 28, 1])) as tf.Tensor).dataSync()[0]);
      assert.ok(Math.abs((sum ?? 0) - 1) < 1e-5);
    } finally {
      layers.dispose();
      graph.dispose();
    }
  });

  test('a path that does not exist → E_MODEL_NOT_FOUND', async () => {
    await rejectsWith(loadModel(join(tmpdir(), 'igx-no-such-model-folder')), 'E_MODEL_NOT_FOUND');
  });

  test('a folder with two model JSONs and no model.json → E_MODEL_NOT_FOUND', async () => {
    const dir = await brokenCopy('mnist_layers_sequential');
    await cp(join(dir, 'mnist.json'), join(dir, 'other.json'));
    await rejectsWith(loadModel(dir), 'E_MODEL_NOT_FOUND');
  });
});

describe('broken models', () => {
  test('a weight path "../x.bin" → E_MODEL_PATH, even when the file exists', async () => {
    const dir = await brokenCopy('lenet_graph');
    await cp(join(dir, 'group1-shard1of1'), join(dir, '..', 'x.bin'));
    await editJson(join(dir, 'model.json'), (j) => {
      (j.weightsManifest as { paths: string[] }[])[0]!.paths = ['../x.bin'];
    });
    await rejectsWith(loadModel(dir), 'E_MODEL_PATH');
  });

  test('an absolute weight path, or a shard that links outside the folder → E_MODEL_PATH', async () => {
    const dir = await brokenCopy('lenet_graph');
    const outside = join(dir, '..', 'outside.bin');
    await cp(join(dir, 'group1-shard1of1'), outside);
    await editJson(join(dir, 'model.json'), (j) => {
      (j.weightsManifest as { paths: string[] }[])[0]!.paths = [outside];
    });
    await rejectsWith(loadModel(dir), 'E_MODEL_PATH');

    const dir2 = await brokenCopy('lenet_graph');
    await unlink(join(dir2, 'group1-shard1of1'));
    await symlink(outside, join(dir2, 'group1-shard1of1'));
    await rejectsWith(loadModel(dir2), 'E_MODEL_PATH');
  });

  test('an input of 16000×16000 (or one a sidecar gives as such) → E_MODEL_INVALID before anything is allocated', async () => {
    const dir = await brokenCopy('lenet_graph');
    const huge = [{ size: '-1' }, { size: '16000' }, { size: '16000' }, { size: '1' }];
    await editJson(join(dir, 'model.json'), (j) => {
      ((j.modelTopology as { node: { attr: { shape: { shape: { dim: unknown } } } }[] }).node[0]!).attr.shape.shape.dim = huge;
    });
    await assert.rejects(loadModel(dir), (err: unknown) => {
      assert.ok(isIgxError(err) && err.code === 'E_MODEL_INVALID', String(err));
      assert.match(err.message, /input 'MyInput' is 16000×16000×1 = 256000000 values per image; igx takes 1 to 16777216/);
      return true;
    });
    const open = await brokenCopy('lenet_graph');
    await editJson(join(open, 'model.json'), (j) => {
      ((j.modelTopology as { node: { attr: { shape: { shape: { dim: unknown } } } }[] }).node[0]!).attr.shape.shape.dim = [{ size: '-1' }, { size: '-1' }, { size: '-1' }, { size: '1' }];
    });
    await writeFile(join(open, 'igx.json'), JSON.stringify({ inputShape: [20000, 20000, 1] }));
    await assert.rejects(loadModel(open), (err: unknown) => {
      assert.ok(isIgxError(err) && err.code === 'E_MODEL_INVALID', String(err));
      assert.match(err.message, /igx\.json: field inputShape is 20000×20000×1/);
      return true;
    });
  });

  test('a missing shard → E_MODEL_INVALID', async () => {
    const dir = await brokenCopy('mobilenet_v2_mid_5class');
    await rename(join(dir, 'group1-shard2of2'), join(dir, 'elsewhere'));
    await rejectsWith(loadModel(dir), 'E_MODEL_INVALID');
  });

  test('a truncated shard → E_MODEL_INVALID (quantized and float weights)', async () => {
    const quantized = await brokenCopy('mobilenet_v2_mid_5class');
    await chmod(join(quantized, 'group1-shard2of2'), 0o644);
    await truncate(join(quantized, 'group1-shard2of2'), 106471 - 1);
    await rejectsWith(loadModel(quantized), 'E_MODEL_INVALID');

    const float = await brokenCopy('mnist_layers_sequential');
    await chmod(join(float, 'mnist.weights.bin'), 0o644);
    await truncate(join(float, 'mnist.weights.bin'), 1000);
    await rejectsWith(loadModel(float), 'E_MODEL_INVALID');
  });

  test('a malformed model.json → E_MODEL_INVALID', async () => {
    const dir = await brokenCopy('lenet_graph');
    const file = join(dir, 'model.json');
    const text = await readFile(file, 'utf8');
    await chmod(file, 0o644);
    await writeFile(file, text.slice(0, text.length / 2));
    await rejectsWith(loadModel(dir), 'E_MODEL_INVALID');
    await rejectsWith(loadModel(file), 'E_MODEL_INVALID');

    await writeFile(file, JSON.stringify({ ...JSON.parse(text), weightsManifest: { paths: 'group1-shard1of1' } }));
    await rejectsWith(loadModel(dir), 'E_MODEL_INVALID');
  });

  test('an invalid igx.json → E_CONFIG', async () => {
    const dir = await brokenCopy('lenet_graph');
    const sidecar = join(dir, 'igx.json');
    const bad: unknown[] = [
      { preprocess: '[0,2]' },
      { labels: 7 },
      { colour: 'red' },
      { labels: ['zero', 'one', 'two'] }, // 3 labels, 10 classes
      { labels: '../labels.json' },
      { labels: 'missing.json' },
      { output: 'no_such_output' },
      { inputShape: [32, 32, 1] }, // the model fixes 28x28
    ];
    for (const content of bad) {
      await writeFile(sidecar, JSON.stringify(content));
      await rejectsWith(loadModel(dir), 'E_CONFIG');
    }
    await writeFile(sidecar, '{"preprocess": ');
    await rejectsWith(loadModel(dir), 'E_CONFIG');

    await writeFile(join(dir, 'digits.json'), JSON.stringify(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']));
    await writeFile(sidecar, JSON.stringify({ labels: 'digits.json', preprocess: '[0,1]', outputSpace: 'logits' }));
    const m = await loadModel(dir);
    try {
      assert.deepEqual(m.labels?.slice(0, 3), ['0', '1', '2']);
      assert.equal(m.buildForward().space, 'logits');
      assert.equal(m.buildForward({ outputSpace: 'probabilities' }).space, 'probabilities');
    } finally {
      m.dispose();
    }
  });

  test('a graph output that needs executeAsync (dynamic op Where) → E_UNSUPPORTED_OP', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'igx-model-test-'));
    temps.push(dir);
    const shape = { shape: { dim: [{ size: '-1' }, { size: '2' }, { size: '2' }, { size: '1' }] } };
    const graph = {
      format: 'graph-model',
      modelTopology: {
        versions: { producer: 27 },
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape } },
          { name: 'where', op: 'Where', input: ['x'], attr: { T: { type: 'DT_FLOAT' } } },
          { name: 'out', op: 'Identity', input: ['where'], attr: { T: { type: 'DT_INT64' } } },
        ],
      },
      weightsManifest: [],
    };
    await writeFile(join(dir, 'model.json'), JSON.stringify(graph));
    const m = await loadModel(dir);
    try {
      assert.deepEqual(m.inputShape, [2, 2, 1]);
      throwsWith(() => m.buildForward(), 'E_UNSUPPORTED_OP');
    } finally {
      m.dispose();
    }
  });

  test('an input shape that leaves height and width open needs inputShape in igx.json', async () => {
    const dir = await brokenCopy('emotion_64_gray');
    await editJson(join(dir, 'model.json'), (j) => {
      const nodes = (j.modelTopology as { node: { name: string; attr: { shape: { shape: { dim: { size: string }[] } } } }[] }).node;
      const input = nodes.find((n) => n.name === 'input_1');
      input!.attr.shape.shape.dim = [{ size: '-1' }, { size: '-1' }, { size: '-1' }, { size: '1' }];
    });
    await rejectsWith(loadModel(dir), 'E_MODEL_INVALID');
    await writeFile(join(dir, 'igx.json'), JSON.stringify({ inputShape: [64, 64, 1] }));
    const m = await loadModel(dir);
    try {
      assert.deepEqual(m.inputShape, [64, 64, 1]);
      assert.equal(m.buildForward().numClasses, 7);
    } finally {
      m.dispose();
    }
  });
});

describe('memory and gradients', () => {
  test('numTensors is flat after load, forwards in every space and dispose', async () => {
    const x = await imageInput('dog.jpg', 28, 1, 0, 255);
    const before = tf.memory().numTensors;
    for (const name of ['lenet_layers_multi_output', 'lenet_graph', 'mnist_layers_sequential']) {
      const m = await loadModel(model(name));
      assert.ok(tf.memory().numTensors > before, 'weights are loaded');
      for (const outputSpace of ['probabilities', 'logits'] as const) {
        const sum = tf.tidy(() => tf.sum(m.buildForward({ outputSpace }).forward(x)).dataSync()[0]);
        assert.ok(Number.isFinite(sum));
      }
      m.dispose();
      m.dispose(); // idempotent
      assert.equal(tf.memory().numTensors, before, name);
    }
    x.dispose();
  });

  test('F is differentiable: tf.grad matches central differences (cpu; graph and layers logits)', async () => {
    const previous = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      for (const name of ['lenet_graph', 'lenet_layers_multi_output']) {
        const m = await loadModel(model(name));
        // A generic point: on flat image regions ReLU and max-pool ties make finite differences meaningless.
        const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
        try {
          const f = m.buildForward({ outputSpace: 'logits' });
          const before = tf.memory().numTensors;
          const k = 3;
          const score = (input: tf.Tensor): tf.Scalar => tf.sum(tf.slice(f.forward(input as tf.Tensor4D), [0, k], [1, 1]));
          const [directional, numeric] = tf.tidy(() => {
            const v = tf.randomUniform(x.shape, -1, 1, 'float32', 11) as tf.Tensor4D;
            const g = tf.grad(score)(x);
            const eps = 1e-3; // small: ReLU and max-pool kinks make larger steps disagree
            const up = score(tf.add(x, tf.mul(v, eps)));
            const down = score(tf.sub(x, tf.mul(v, eps)));
            return [tf.sum(tf.mul(g, v)).dataSync()[0] ?? NaN, ((up.dataSync()[0] ?? NaN) - (down.dataSync()[0] ?? NaN)) / (2 * eps)];
          });
          assert.ok(Math.abs(directional) > 1e-3, `${name}: gradient is not zero`);
          assert.ok(Math.abs(directional - numeric) <= 5e-2 * Math.abs(numeric) + 1e-3, `${name}: ${directional} vs ${numeric}`);
          assert.equal(tf.memory().numTensors, before, name);
        } finally {
          x.dispose();
          m.dispose();
        }
      }
    } finally {
      await tf.setBackend(previous);
    }
  });
});
