import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, cp, mkdtemp, readdir, readFile, rm, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import textformat from 'protobufjs/ext/textformat.js';
import { computeIntegratedGradients } from '../src/attribution/integrated-gradients.js';
import { isIgxError } from '../src/errors.js';
import { createFileIOHandler } from '../src/model/io-handler.js';
import { loadModel } from '../src/model/load-model.js';
import { convertSavedModel, inspectSavedModel, isSavedModelDir, writeGraphModel, type ConvertOptions } from '../src/savedmodel/index.js';
import { crc32c, maskCrc, unmaskCrc } from '../src/savedmodel/crc32c.js';
import { protoType } from '../src/savedmodel/proto.js';
import { snappyUncompress } from '../src/savedmodel/snappy.js';
import { TensorBundle } from '../src/savedmodel/tensor-bundle.js';
import { decodeTensorBytes, tensorFromProto } from '../src/savedmodel/tensor-value.js';
import { TFJS_OPS } from '../src/savedmodel/tfjs-ops.js';
import { readSavedModelFiles } from '../src/model/saved-model-adapter.js';
import type { LoadedModel } from '../src/model/types.js';
import { fixture } from './support/paths.js';
import { NESTED_BIAS, NESTED_KERNEL, writeBatchNormModel, writeNestedModel, writeTf2IfModel } from './support/savedmodel-synthetic.js';
import { TF1_BIAS, TF1_KERNEL, writeKerasCondModel, writeSignaturelessModel, writeUint8ImageModel } from './support/savedmodel-tf1.js';

const SM = (name: string): string => fixture('savedmodels', name);

let tmp: string;
before(async () => {
  await tf.setBackend('cpu');
  tmp = await mkdtemp(join(tmpdir(), 'igx-savedmodel-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Converts and loads a SavedModel as a tfjs GraphModel from memory. */
async function load(dir: string, options: ConvertOptions = {}): Promise<GraphModel> {
  const { artifacts } = await convertSavedModel(dir, options);
  return loadGraphModel(tf.io.fromMemory(artifacts));
}

/** Runs every output of `model` on `feeds`; returns [dtype, shape, values] per output, all tensors freed. */
function run(model: GraphModel, feeds: Record<string, tf.Tensor>): { dtype: string; shape: number[]; values: number[] }[] {
  const raw = model.execute(feeds, model.outputNodes);
  const outs = Array.isArray(raw) ? raw : [raw];
  const result = outs.map((t) => ({ dtype: t.dtype, shape: t.shape, values: Array.from(t.dataSync()) }));
  tf.dispose(outs);
  tf.dispose(Object.values(feeds));
  return result;
}

function assertClose(actual: number[], expected: number[], tol = 1e-5): void {
  assert.equal(actual.length, expected.length, `length ${actual.length} vs ${expected.length}`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - (expected[i] as number)) <= tol, `[${i}] ${a} vs ${expected[i]}`));
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isIgxError(err), `expected an IgxError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.exitCode, 2);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

/** IG of the top class of `x` against a zero baseline: its completeness relative error; tensors freed. */
async function completenessOf(model: LoadedModel, x: tf.Tensor4D): Promise<number> {
  const f = model.buildForward();
  const baseline = tf.zerosLike(x);
  const top = tf.tidy(() => tf.argMax(f.forward(x), 1));
  const index = (top.dataSync() as Int32Array)[0] as number;
  top.dispose();
  const r = await computeIntegratedGradients({ forward: f.forward, input: x, baselines: [baseline], target: { kind: 'index', index } }, { method: 'gausslegendre', steps: 32, batchSize: 16 });
  assert.ok(!r.completeness.isDeltaNegligible, 'F(x) − F(baseline) is not negligible');
  r.attributions.dispose();
  baseline.dispose();
  return r.completeness.relativeError;
}

/** softmax(scale·pixels·K + bias) of the TF1 synthetic models, rows of 12 pixels. */
function tf1Reference(pixels: number[], scale: number, bias: number[]): number[] {
  return tf.tidy(() => {
    const x = tf.mul(tf.tensor2d(pixels, [pixels.length / 12, 12]), scale);
    return Array.from(tf.softmax(tf.add(tf.matMul(x, tf.tensor2d(TF1_KERNEL, [12, 2])), tf.tensor1d(bias))).dataSync());
  });
}

/** A writable copy of a fixture SavedModel. */
async function copyFixture(name: string): Promise<string> {
  const dir = join(tmp, `${name}-${Math.random().toString(36).slice(2)}`);
  await cp(SM(name), dir, { recursive: true });
  for (const f of ['saved_model.pb', 'variables/variables.index', 'variables/variables.data-00000-of-00001']) {
    await chmod(join(dir, f), 0o644).catch(() => undefined);
  }
  return dir;
}

describe('checksums and compression', () => {
  it('computes CRC-32C and its mask as LevelDB does', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    for (const c of [0, 1, 0xe3069283, 0xffffffff]) assert.equal(unmaskCrc(maskCrc(c)), c);
  });

  it('decompresses Snappy literals and overlapping copies', () => {
    // "abc" literal, then a 9-byte copy at offset 3 that overlaps its own output.
    const data = Uint8Array.from([12, (3 - 1) << 2, 97, 98, 99, ((9 - 4) << 2) | 1, 3]);
    assert.equal(new TextDecoder().decode(snappyUncompress(data)), 'abcabcabcabc');
    assert.throws(() => snappyUncompress(Uint8Array.from([5, 0, 97])));
  });

  it('lists exactly the ops of the installed tfjs-converter', async () => {
    const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-converter');
    const dir = join(dirname(main), 'operations', 'op_list');
    const names = new Set<string>();
    for (const file of (await readdir(dir)).filter((f) => f.endsWith('.js') && f !== 'tfdf.js' && f !== 'ragged.js')) {
      for (const m of (await readFile(join(dir, file), 'utf8')).matchAll(/'tfOpName': '([A-Za-z0-9_]+)'/g)) names.add(m[1] as string);
    }
    assert.deepEqual([...TFJS_OPS].sort(), [...names].sort());
  });
});

describe('tensor values', () => {
  it('decodes tensor_content that lies inside a larger Buffer (as protobufjs hands it out)', () => {
    const whole = Buffer.alloc(3 + 12);
    [7, -1, 400].forEach((v, i) => whole.writeInt32LE(v, 3 + 4 * i));
    const content = whole.subarray(3);
    assert.deepEqual(Array.from(tensorFromProto({ dtype: 3, tensorShape: { dim: [{ size: 3 }] }, tensorContent: content }, 't').data as Int32Array), [7, -1, 400]);
    const floats = Buffer.alloc(1 + 8);
    floats.writeFloatLE(1.5, 1);
    floats.writeFloatLE(-2, 5);
    assert.deepEqual(Array.from(decodeTensorBytes(1, [2], floats.subarray(1), 'f').data as Float32Array), [1.5, -2]);
  });

  it('repeats the last listed value, narrows int64 (saturating) and widens half to float32', () => {
    const filled = tensorFromProto({ dtype: 1, tensorShape: { dim: [{ size: 2 }, { size: 2 }] }, floatVal: [0.5] }, 't');
    assert.deepEqual(Array.from(filled.data as Float32Array), [0.5, 0.5, 0.5, 0.5]);
    const int64 = tensorFromProto({ dtype: 9, tensorShape: { dim: [{ size: 2 }] }, int64Val: [5, 2 ** 40] }, 't');
    assert.deepEqual([int64.dtype, ...Array.from(int64.data as Int32Array)], ['int32', 5, 2147483647]);
    const half = tensorFromProto({ dtype: 19, tensorShape: { dim: [{ size: 2 }] }, halfVal: [0x3c00, 0xc000] }, 't');
    assert.deepEqual(Array.from(half.data as Float32Array), [1, -2]);
  });

  it('refuses a few bytes that ask for a huge constant (E_MODEL_INVALID, one line) before allocating it', () => {
    const cases: [number, number[], RegExp][] = [
      [7, [300_000_000], /^c: a constant of shape \[300000000\] \(300000000 values\), over igx's limit of 1048576$/], // string
      [3, [20_000, 20_000], /^c: a constant of shape \[20000,20000\] \(400000000 values\), over igx's limit of 67108864$/],
      [1, [8193, 8192], /over igx's limit of 67108864/],
    ];
    for (const [dtype, dims, message] of cases) {
      assert.throws(
        () => tensorFromProto({ dtype, tensorShape: { dim: dims.map((size) => ({ size })) }, intVal: [1], floatVal: [1], stringVal: [new Uint8Array(1)] }, 'c'),
        (err: unknown) => isIgxError(err) && err.code === 'E_MODEL_INVALID' && message.test(err.message),
      );
    }
    // At the limit it is read.
    assert.equal(tensorFromProto({ dtype: 1, tensorShape: { dim: [{ size: 8192 }, { size: 8192 }] }, floatVal: [1] }, 'c').data.length, 2 ** 26);
  });
});

describe('variables checkpoint', () => {
  it('reads the LeNet checkpoint: Snappy index, CRCs, shapes, Adam slots', async () => {
    const bundle = await TensorBundle.open(join(SM('lenet_tf1'), 'variables', 'variables'));
    assert.equal(bundle.numShards, 1);
    assert.ok(bundle.has('Variable/Adam') && bundle.has('beta1_power'));
    const v = await bundle.read('Variable_4');
    assert.deepEqual(v.shape, [400, 120]);
    assert.equal(v.dtype, 'float32');
  });

  it('reads int64 variables as int32 and the TF2 object graph string', async () => {
    const bundle = await TensorBundle.open(join(SM('int64_multiply'), 'variables', 'variables'));
    const v1 = await bundle.read('v1/.ATTRIBUTES/VARIABLE_VALUE');
    assert.equal(v1.dtype, 'int32');
    assert.deepEqual(Array.from(v1.data as Int32Array), [3]);
    const graph = await bundle.read('_CHECKPOINTABLE_OBJECT_GRAPH');
    const decoded = protoType('TrackableObjectGraph').toObject(protoType('TrackableObjectGraph').decode((graph.data as Uint8Array[])[0] as Uint8Array));
    assert.equal(decoded.nodes[1].attributes[0].checkpointKey, 'v1/.ATTRIBUTES/VARIABLE_VALUE');
  });
});

describe('fixtures give their known outputs', () => {
  it('half_plus_two (TF 1.14): y = x/2 + 2', async () => {
    const model = await load(SM('half_plus_two_tf1'));
    const [y] = run(model, { x: tf.tensor2d([1, 2, 5], [3, 1]) });
    assert.deepEqual(y?.shape, [3, 1]);
    assertClose(y?.values ?? [], [2.5, 3, 4.5]);
    model.dispose();
  });

  it('half_plus_two (TF 2.14): y = x/2 + 2, and regress_x2_to_y3: x/2 + 3', async () => {
    const model = await load(SM('half_plus_two_tf2'));
    const ys = [1, 2, 5].map((x) => run(model, { x: tf.tensor1d([x]) })[0]?.values[0] ?? NaN);
    assertClose(ys, [2.5, 3, 4.5]);
    model.dispose();
    const other = await load(SM('half_plus_two_tf2'), { signature: 'regress_x2_to_y3' });
    assert.deepEqual(other.outputNodes, ['outputs']);
    assertClose(run(other, { inputs: tf.tensor1d([1]) })[0]?.values ?? [], [3.5]);
    other.dispose();
  });

  it('times_three_float and times_two_int (TF 2.0 scalars)', async () => {
    const three = await load(SM('times_three_float'));
    assertClose(run(three, { x: tf.scalar(4) })[0]?.values ?? [], [12]);
    three.dispose();
    const two = await load(SM('times_two_int'));
    const [y] = run(two, { x: tf.scalar(4, 'int32') });
    assert.equal(y?.dtype, 'int32');
    assert.deepEqual(y?.values, [8]);
    two.dispose();
  });

  it('module_with_multiple_signatures: serving_default 3x, timestwo 2x', async () => {
    const byDefault = await load(SM('module_with_multiple_signatures'));
    assertClose(run(byDefault, { x: tf.scalar(5) })[0]?.values ?? [], [15]);
    byDefault.dispose();
    const timestwo = await load(SM('module_with_multiple_signatures'), { signature: 'timestwo' });
    assertClose(run(timestwo, { x: tf.scalar(5) })[0]?.values ?? [], [10]);
    timestwo.dispose();
  });

  it('model_multi_output and model_single_input_multi_output: every output', async () => {
    const multi = await load(SM('model_multi_output'));
    assert.deepEqual(multi.outputNodes, ['output_0', 'output_1']);
    const outs = run(multi, { x: tf.scalar(5, 'int32'), y: tf.scalar(7, 'int32') });
    assert.deepEqual(
      outs.map((o) => o.values),
      [[10], [7]],
    );
    multi.dispose();
    const single = await load(SM('model_single_input_multi_output'));
    assert.deepEqual(
      run(single, { x: tf.scalar(3, 'int32') }).map((o) => o.values),
      [[6], [3]],
    );
    single.dispose();
  });

  it('int64 and uint8 inputs (TF 2.3): x·v1·v2', async () => {
    const { signature } = await convertSavedModel(SM('int64_multiply'));
    assert.equal(signature.inputs[0]?.dtype, 'DT_INT64');
    const int64 = await load(SM('int64_multiply'));
    assert.deepEqual(run(int64, { x: tf.tensor1d([1, -2], 'int32') })[0]?.values, [6, -12]);
    int64.dispose();
    const uint8 = await load(SM('uint8_multiply'));
    assert.deepEqual(run(uint8, { x: tf.tensor1d([3], 'int32') })[0]?.values, [18]);
    uint8.dispose();
  });

  it("half_plus_two_pbtxt (TensorFlow's saved_model.pbtxt, TF 0.12, signature without dtypes): y = x/2 + 2", async () => {
    const result = await convertSavedModel(SM('half_plus_two_pbtxt'));
    assert.match(result.savedModelPath, /saved_model\.pbtxt$/);
    assert.equal(result.tensorflowVersion, '0.12.head');
    // dtype and shape come from the graph: x's Identity and its _output_shapes.
    assert.deepEqual(result.signature.inputs, [{ name: 'x:0', key: 'x', dtype: 'DT_FLOAT', shape: [-1, 1] }]);
    assert.deepEqual(result.signature.outputs, [{ name: 'y:0', key: 'y', dtype: 'DT_FLOAT', shape: [-1, 1] }]);
    assert.deepEqual(result.opCounts, { Add: 1, Const: 2, Identity: 1, Mul: 1, Placeholder: 1 });
    const model = await loadGraphModel(tf.io.fromMemory(result.artifacts));
    assertClose(run(model, { x: tf.tensor2d([1, 2, 5, -3], [4, 1]) })[0]?.values ?? [], [2.5, 3, 4.5, 0.5]);
    model.dispose();
    // The regress signature parses tf.Examples: named, not converted.
    await rejectsWith(convertSavedModel(SM('half_plus_two_pbtxt'), { signature: 'tensorflow/serving/regress' }), 'E_UNSUPPORTED_OP');
    const info = await inspectSavedModel(SM('half_plus_two_pbtxt'));
    assert.deepEqual(info.signatures.map((sig) => [sig.name, sig.unsupportedOps]), [
      ['serving_default', {}],
      ['tensorflow/serving/regress', { ParseExample: 1 }],
    ]);
    assert.deepEqual(info.signatures[0]?.inputs, [{ key: 'x', name: 'x:0', dtype: 'DT_FLOAT', shape: [-1, 1] }]);
  });

  it('LeNet (TF 1.12): matches the network recomputed from the checkpoint; training ops left out', async () => {
    const dir = SM('lenet_tf1');
    const result = await convertSavedModel(dir);
    assert.deepEqual(result.signature.inputs, [{ name: 'input:0', key: 'input', dtype: 'DT_FLOAT', shape: [-1, 32, 32, 1] }]);
    assert.deepEqual(result.signature.outputs.map((o) => o.key), ['output']);
    for (const op of ['Assign', 'ApplyAdam', 'VariableV2', 'TruncatedNormal', 'SaveV2', 'RestoreV2', 'NoOp', 'SoftmaxCrossEntropyWithLogits']) {
      assert.equal(result.opCounts[op], undefined, op);
    }
    // 10 variables, no Adam slots.
    assert.equal(result.artifacts.weightSpecs?.filter((w) => w.name.startsWith('Variable')).length, 10);
    const model = await loadGraphModel(tf.io.fromMemory(result.artifacts));
    const bundle = await TensorBundle.open(join(dir, 'variables', 'variables'));
    const w = await bundle.readMany(Array.from({ length: 10 }, (_, i) => (i === 0 ? 'Variable' : `Variable_${i}`)));
    const weight = (i: number): tf.Tensor => {
      const v = w.get(i === 0 ? 'Variable' : `Variable_${i}`);
      return tf.tensor(v?.data as Float32Array, v?.shape);
    };
    const x = tf.randomUniform([3, 32, 32, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
    const expected = tf.tidy(() => {
      const block = (h: tf.Tensor4D, i: number): tf.Tensor4D =>
        tf.maxPool(tf.relu(tf.add(tf.conv2d(h, weight(i) as tf.Tensor4D, 1, 'valid'), weight(i + 1))) as tf.Tensor4D, 2, 2, 'valid');
      let h: tf.Tensor = tf.reshape(block(block(x, 0), 2), [3, 400]);
      h = tf.relu(tf.add(tf.matMul(h as tf.Tensor2D, weight(4) as tf.Tensor2D), weight(5)));
      h = tf.relu(tf.add(tf.matMul(h as tf.Tensor2D, weight(6) as tf.Tensor2D), weight(7)));
      return tf.softmax(tf.add(tf.matMul(h as tf.Tensor2D, weight(8) as tf.Tensor2D), weight(9)));
    });
    const [y] = run(model, { input: x.clone() });
    assert.deepEqual(y?.shape, [3, 10]);
    assertClose(y?.values ?? [], Array.from(expected.dataSync()), 1e-5);
    tf.dispose([x, expected]);
    model.dispose();
  });
});

describe('Keras 3-style nesting (synthetic)', () => {
  const reference = (rows: number[][]): number[] =>
    tf.tidy(() => {
      const x = tf.tensor2d(rows);
      const h = tf.add(tf.matMul(x, tf.tensor2d(NESTED_KERNEL, [4, 6])), tf.tensor1d(NESTED_BIAS));
      return Array.from(tf.softmax(tf.sub(tf.slice(h, [0, 3], [-1, 3]), tf.slice(h, [0, 0], [-1, 3]))).dataSync());
    });
  const rows = [
    [1, 2, 3, 4],
    [-1, 0.5, 0, 2],
  ];

  it('inlines three levels of calls, resource Identity, IdentityN and split:output:1, finding variables by object graph', async () => {
    const dir = join(tmp, 'nested-objgraph');
    await writeNestedModel(dir, { objectGraph: true, restoreFunction: false });
    const result = await convertSavedModel(dir);
    assert.equal(result.opCounts.StatefulPartitionedCall, undefined);
    assert.equal(result.opCounts.ReadVariableOp, undefined);
    assert.equal(result.opCounts.AssignVariableOp, undefined);
    assert.equal(result.opCounts.IdentityN, undefined);
    // The unread optimizer variable is not a weight.
    assert.deepEqual(result.artifacts.weightSpecs?.map((s) => s.name).sort(), [
      'StatefulPartitionedCall/StatefulPartitionedCall/sequential/dense/StatefulPartitionedCall/split/split_dim',
      'dense/bias',
      'dense/kernel',
    ]);
    const model = await loadGraphModel(tf.io.fromMemory(result.artifacts));
    assertClose(run(model, { keras_tensor: tf.tensor2d(rows) })[0]?.values ?? [], reference(rows));
    model.dispose();
  });

  it('finds variables through the saver restore function when there is no object graph', async () => {
    const dir = join(tmp, 'nested-restore');
    await writeNestedModel(dir, { objectGraph: false, restoreFunction: true });
    const model = await load(dir);
    assertClose(run(model, { keras_tensor: tf.tensor2d(rows) })[0]?.values ?? [], reference(rows));
    model.dispose();
  });

  it('fails with E_MODEL_INVALID when nothing links a variable to the checkpoint', async () => {
    const dir = join(tmp, 'nested-none');
    await writeNestedModel(dir, { objectGraph: false, restoreFunction: false });
    await rejectsWith(convertSavedModel(dir), 'E_MODEL_INVALID');
  });

  it('rewrites training-mode and NCHW FusedBatchNormV3 (Keras 2 LayerNormalization) into plain ops', async () => {
    const dir = join(tmp, 'batchnorm');
    const [gamma, beta, mean, variance] = [
      [2, 0.5],
      [0.1, -0.3],
      [0.2, -0.1],
      [1.5, 0.25],
    ];
    await writeBatchNormModel(dir, gamma, beta, mean, variance);
    const result = await convertSavedModel(dir);
    assert.equal(result.opCounts.FusedBatchNormV3, undefined);
    const x = [
      [1, 2, 4],
      [-1, 0, 3],
    ];
    const expected = x.flatMap((row, c) => {
      const m = row.reduce((a, b) => a + b, 0) / row.length;
      const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / row.length;
      return row.map((value) => {
        const ln = (value - m) / Math.sqrt(v + 0.001);
        return ((ln - (mean[c] as number)) / Math.sqrt((variance[c] as number) + 0.01)) * (gamma[c] as number) + (beta[c] as number);
      });
    });
    const model = await loadGraphModel(tf.io.fromMemory(result.artifacts));
    assertClose(run(model, { x: tf.tensor4d(x.flat(), [1, 2, 3, 1]) })[0]?.values ?? [], expected, 1e-4);
    model.dispose();
  });
});

describe('TF1 control flow: tf.cond on keras_learning_phase (synthetic Keras 2 in TF1)', () => {
  const pixels = Array.from({ length: 24 }, (_, i) => (i % 7) / 7 - 0.3);

  it('folds the conds on the default phase (false: x·2 and the bias; true: x·0.5 and zeros; a plain Placeholder: false), leaving no Switch or Merge', async () => {
    for (const [phase, scale, bias] of [
      [false, 2, TF1_BIAS],
      [true, 0.5, [0, 0]],
      ['placeholder', 2, TF1_BIAS],
    ] as const) {
      const dir = join(tmp, `keras-cond-${phase}`);
      await writeKerasCondModel(dir, phase);
      const result = await convertSavedModel(dir);
      for (const op of ['Switch', 'Merge', 'PlaceholderWithDefault']) assert.equal(result.opCounts[op], undefined, op);
      // The branch not taken is gone: one Mul and its one constant, the other's left out.
      assert.equal(result.opCounts.Mul, 1);
      const model = await loadGraphModel(tf.io.fromMemory(result.artifacts));
      assertClose(run(model, { x: tf.tensor4d(pixels, [2, 2, 2, 3]) })[0]?.values ?? [], tf1Reference(pixels, scale, [...bias]));
      model.dispose();
      const valueIndex = await load(dir, { signature: 'value_index' });
      assert.deepEqual(run(valueIndex, { x: tf.tensor4d(pixels, [2, 2, 2, 3]) })[0]?.values, [phase === true ? 1 : 0]);
      valueIndex.dispose();
    }
  });

  it('keeps the conds when the signature feeds the predicate (E_UNSUPPORTED_OP naming Switch and Merge), folds them when only x is fed', async () => {
    const dir = join(tmp, 'keras-cond-fed');
    await writeKerasCondModel(dir, false);
    await assert.rejects(convertSavedModel(dir, { signature: 'with_learning_phase' }), (err: unknown) => {
      assert.ok(isIgxError(err) && err.code === 'E_UNSUPPORTED_OP', String(err));
      assert.match(err.message, /Merge ×2, Switch ×3/);
      return true;
    });
    const model = await load(dir, { signature: 'with_learning_phase', inputs: ['x'], computableOutputsOnly: true });
    assertClose(run(model, { x: tf.tensor4d(pixels, [2, 2, 2, 3]) })[0]?.values ?? [], tf1Reference(pixels, 2, TF1_BIAS));
    model.dispose();
  });

  it('loadModel: IG through the folded graph passes completeness ≤ 0.01, tensors freed', async () => {
    const dir = join(tmp, 'keras-cond-ig');
    await writeKerasCondModel(dir, false);
    const before = tf.memory().numTensors;
    const model = await loadModel(dir);
    assert.deepEqual([model.inputShape, model.outputNames], [[2, 2, 3], ['probs']]);
    const x = tf.tensor4d(pixels.slice(0, 12), [1, 2, 2, 3]);
    assert.ok((await completenessOf(model, x)) <= 0.01);
    x.dispose();
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});

describe('TF2 control flow: If/StatelessIf on a constant cond (synthetic tf.function)', () => {
  it('inlines the branch the cond takes (then: x·0.5, else: x·2), leaving no If; a fed cond stays If and is E_UNSUPPORTED_OP', async () => {
    for (const [cond, op, factor] of [
      [true, 'StatelessIf', 0.5],
      [false, 'StatelessIf', 2],
      [true, 'If', 0.5],
    ] as const) {
      const dir = join(tmp, `tf2-if-${op}-${cond}`);
      await writeTf2IfModel(dir, cond, op);
      const result = await convertSavedModel(dir);
      assert.equal(result.opCounts[op], undefined);
      assert.equal(result.opCounts.Mul, 1);
      const model = await loadGraphModel(tf.io.fromMemory(result.artifacts));
      assert.deepEqual(run(model, { x: tf.tensor2d([1, -2, 4], [1, 3]) })[0]?.values, [1 * factor, -2 * factor, 4 * factor]);
      model.dispose();
    }
    const fed = join(tmp, 'tf2-if-fed');
    await writeTf2IfModel(fed, 'input');
    await assert.rejects(convertSavedModel(fed), (err: unknown) => isIgxError(err) && err.code === 'E_UNSUPPORTED_OP' && /StatelessIf/.test(err.message));
  });
});

describe('integer image inputs', () => {
  const pixels = Array.from({ length: 24 }, (_, i) => (i * 37) % 256);

  it('convert keeps uint8 by default; floatInputs feeds float32 straight to the Cast\'s consumers, same outputs for integer pixels', async () => {
    const dir = join(tmp, 'uint8-image');
    await writeUint8ImageModel(dir);
    const kept = await convertSavedModel(dir);
    assert.deepEqual(kept.signature.inputs, [{ name: 'images:0', key: 'images', dtype: 'DT_UINT8', shape: [-1, 2, 2, 3] }]);
    assert.equal(kept.opCounts.Cast, 1);
    const float = await convertSavedModel(dir, { floatInputs: true });
    assert.deepEqual(float.signature.inputs, [{ name: 'images:0', key: 'images', dtype: 'DT_FLOAT', shape: [-1, 2, 2, 3], castFrom: 'DT_UINT8' }]);
    assert.equal(float.opCounts.Cast, undefined);
    const [a, b] = await Promise.all([kept, float].map((r) => loadGraphModel(tf.io.fromMemory(r.artifacts))));
    const expected = tf1Reference(pixels, 1 / 255, TF1_BIAS);
    const fromInt = run(a as GraphModel, { images: tf.tensor4d(pixels, [2, 2, 2, 3], 'int32') })[0]?.values ?? [];
    const fromFloat = run(b as GraphModel, { images: tf.tensor4d(pixels, [2, 2, 2, 3], 'float32') })[0]?.values ?? [];
    assertClose(fromInt, expected);
    assert.deepEqual(fromFloat, fromInt);
    a?.dispose();
    b?.dispose();
  });

  it('loadModel feeds raw 0..255 pixels as float32; IG passes completeness ≤ 0.01', async () => {
    const dir = join(tmp, 'uint8-image-ig');
    await writeUint8ImageModel(dir);
    const { isRawPixelInput, result } = await readSavedModelFiles(dir);
    assert.equal(isRawPixelInput, true);
    assert.equal(result.signature.inputs[0]?.castFrom, 'DT_UINT8');
    const before = tf.memory().numTensors;
    const model = await loadModel(dir);
    const x = tf.tensor4d(pixels.slice(0, 12), [1, 2, 2, 3]);
    assert.ok((await completenessOf(model, x)) <= 0.01);
    x.dispose();
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
    // A float model is not raw.
    assert.equal((await readSavedModelFiles(SM('lenet_tf1'))).isRawPixelInput, false);
  });

  it('uint8_multiply (TF 2.3) computes in int32: floatInputs leaves it uint8 and says why; loadModel fails with E_UNSUPPORTED_OP', async () => {
    const { signature, artifacts } = await convertSavedModel(SM('uint8_multiply'), { floatInputs: true });
    assert.equal(signature.inputs[0]?.dtype, 'DT_UINT8');
    assert.deepEqual(signature.inputs[0]?.integerConsumers, ['StatefulPartitionedCall/StatefulPartitionedCall/Cast (Cast to DT_INT32)']);
    const model = await loadGraphModel(tf.io.fromMemory(artifacts));
    assert.deepEqual(run(model, { x: tf.tensor1d([3], 'int32') })[0]?.values, [18]);
    model.dispose();
    await rejectsWith(loadModel(SM('uint8_multiply')), 'E_UNSUPPORTED_OP');
  });
});

describe('convert, write, load', () => {
  it('writes model.json and ≤ shardBytes shards via temporary names; loading from disk gives the same outputs', async () => {
    const result = await convertSavedModel(SM('lenet_tf1'));
    const out = join(tmp, 'lenet-converted');
    const written = await writeGraphModel(result.artifacts, out, { shardBytes: 100_000 });
    const files = (await readdir(out)).sort();
    assert.deepEqual(files, ['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin', 'model.json']);
    assert.equal(written.weightPaths.length, 3);
    const json = JSON.parse(await readFile(written.modelJsonPath, 'utf8'));
    assert.equal(json.format, 'graph-model');
    assert.deepEqual(json.weightsManifest[0].paths, ['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin']);

    const fromMemory = await loadGraphModel(tf.io.fromMemory(result.artifacts));
    const fromDisk = await loadGraphModel(createFileIOHandler(written.modelJsonPath));
    const x = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 5);
    const a = run(fromMemory, { input: x.clone() });
    const b = run(fromDisk, { input: x });
    assert.deepEqual(b, a);
    fromMemory.dispose();
    fromDisk.dispose();
    // Writing again with larger shards replaces the set: no stale shard stays behind.
    await writeGraphModel(result.artifacts, out);
    assert.deepEqual((await readdir(out)).sort(), ['group1-shard1of1.bin', 'model.json']);
  });

  it('round-trips the small fixtures through disk with the default shard size', async () => {
    const result = await convertSavedModel(SM('half_plus_two_tf1'));
    const written = await writeGraphModel(result.artifacts, join(tmp, 'hp2'));
    assert.equal(written.weightPaths.length, 1);
    const model = await loadGraphModel(createFileIOHandler(written.modelJsonPath));
    assertClose(run(model, { x: tf.tensor2d([1, 2, 5], [3, 1]) })[0]?.values ?? [], [2.5, 3, 4.5]);
    model.dispose();
  });

  it('converts half_plus_two_pbtxt to disk with the same outputs', async () => {
    const written = await writeGraphModel((await convertSavedModel(SM('half_plus_two_pbtxt'))).artifacts, join(tmp, 'hp2-pbtxt'));
    const model = await loadGraphModel(createFileIOHandler(written.modelJsonPath));
    assertClose(run(model, { x: tf.tensor2d([1, 2, 5], [3, 1]) })[0]?.values ?? [], [2.5, 3, 4.5]);
    model.dispose();
  });

  it('parses every schema field under its .proto name in text format (keep_checkpoint_every_n_hours too)', () => {
    const T = protoType('SaverDef');
    const saver = T.toObject(textformat.fromText(T, 'keep_checkpoint_every_n_hours: 10000.0\nmax_to_keep: 5'));
    // protobufjs's camelCase would be keepCheckpointEveryNHours, which its text format maps back to keep_checkpoint_everyN_hours.
    assert.deepEqual(saver, { keepCheckpointEvery_nHours: 10000, maxToKeep: 5 });
  });

  it('reads saved_model.pbtxt (text format) as saved_model.pb', async () => {
    const dir = await copyFixture('half_plus_two_tf1');
    const pb = join(dir, 'saved_model.pb');
    const T = protoType('SavedModel');
    await writeFile(join(dir, 'saved_model.pbtxt'), textformat.toText(T, T.decode(await readFile(pb))));
    await unlink(pb);
    assert.equal(await isSavedModelDir(dir), true);
    const model = await load(dir);
    assertClose(run(model, { x: tf.tensor2d([1, 2, 5], [3, 1]) })[0]?.values ?? [], [2.5, 3, 4.5]);
    model.dispose();
  });
});

describe('inspect', () => {
  it('shows tags, signatures with dtypes and shapes, and op counts', async () => {
    const info = await inspectSavedModel(SM('half_plus_two_tf2'));
    assert.deepEqual(info.tags, [['serve']]);
    assert.equal(info.tensorflowVersion, '2.14.0');
    assert.deepEqual(info.signatures.map((s) => s.name), ['classify_x2_to_y3', 'classify_x_to_y', 'regress_x2_to_y3', 'regress_x_to_y', 'regress_x_to_y2', 'serving_default']);
    const serving = info.signatures.find((s) => s.name === 'serving_default');
    assert.deepEqual(serving?.inputs, [{ key: 'x', name: 'serving_default_x:0', dtype: 'DT_FLOAT', shape: [1] }]);
    assert.deepEqual(serving?.outputs, [{ key: 'y', name: 'StatefulPartitionedCall_5:0', dtype: 'DT_FLOAT', shape: [1] }]);
    assert.deepEqual(info.opCounts, { AddV2: 1, Const: 2, Identity: 1, Mul: 1, Placeholder: 1 });
    const classify = info.signatures.find((s) => s.name === 'classify_x_to_y');
    assert.equal(classify?.inputs[0]?.dtype, 'DT_STRING');
    assert.equal(classify?.unsupportedOps.ParseExampleV2, 1);
  });

  it('inspects TF1 LeNet: one signature, inference ops only', async () => {
    const info = await inspectSavedModel(SM('lenet_tf1'));
    assert.deepEqual(info.signatures.map((s) => [s.name, s.inputs[0]?.shape, s.outputs[0]?.shape]), [['serving_default', [-1, 32, 32, 1], [-1, 10]]]);
    assert.equal(info.opCounts.Conv2D, 2);
    assert.equal(info.opCounts.Softmax, 1);
    assert.deepEqual(info.signatures[0]?.unsupportedOps, {});
  });
});

describe('loadModel on SavedModels', () => {
  it('loads LeNet as format savedmodel; IG passes completeness ≤ 0.05 with tensors freed', async () => {
    const before = tf.memory().numTensors;
    const model = await loadModel(SM('lenet_tf1'));
    assert.equal(model.format, 'savedmodel');
    assert.deepEqual(model.inputShape, [32, 32, 1]);
    assert.deepEqual(model.outputNames, ['output']);
    assert.match(model.sha256, /^[0-9a-f]{64}$/);
    for (const outputSpace of [undefined, 'logits'] as const) {
      const f = model.buildForward({ outputSpace });
      assert.equal(f.numClasses, 10);
      assert.equal(f.space, outputSpace ?? 'probabilities');
      const x = tf.randomUniform([1, 32, 32, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
      const baseline = tf.zerosLike(x);
      const scores = tf.tidy(() => f.forward(x));
      const top = tf.argMax(scores, 1);
      const index = (top.dataSync() as Int32Array)[0] as number;
      top.dispose();
      const r = await computeIntegratedGradients({ forward: f.forward, input: x, baselines: [baseline], target: { kind: 'index', index } }, { method: 'gausslegendre', steps: 32, batchSize: 16 });
      assert.ok(r.completeness.relativeError <= 0.05, `relative error ${r.completeness.relativeError}`);
      assert.ok(!r.completeness.isDeltaNegligible);
      r.attributions.dispose();
      tf.dispose([x, baseline, scores]);
    }
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('gives the same forward as the graph model that convert writes', async () => {
    const out = join(tmp, 'lenet-for-loadmodel');
    await writeGraphModel((await convertSavedModel(SM('lenet_tf1'))).artifacts, out);
    const saved = await loadModel(SM('lenet_tf1'));
    const graph = await loadModel(out);
    assert.equal(graph.format, 'graph');
    assert.deepEqual([graph.inputShape, graph.outputNames], [saved.inputShape, saved.outputNames]);
    const x = tf.randomUniform([2, 32, 32, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    for (const outputSpace of [undefined, 'logits'] as const) {
      const [a, b] = [saved, graph].map((m) => tf.tidy(() => Array.from(m.buildForward({ outputSpace }).forward(x).dataSync())));
      assert.deepEqual(b, a);
    }
    x.dispose();
    saved.dispose();
    graph.dispose();
  });

  it('takes saved_model.pb as the path, and a signature option', async () => {
    const model = await loadModel(join(SM('lenet_tf1'), 'saved_model.pb'), { signature: 'serving_default', tags: ['serve'] });
    assert.equal(model.format, 'savedmodel');
    model.dispose();
    await rejectsWith(loadModel(SM('lenet_tf1'), { signature: 'nope' }), 'E_MODEL_SIGNATURE');
  });

  it('a SavedModel with no signatures says it has nothing to run and how to re-export it', async () => {
    const dir = join(tmp, 'no-signatures');
    await writeSignaturelessModel(dir);
    await rejectsWith(loadModel(dir), 'E_MODEL_SIGNATURE');
    await assert.rejects(convertSavedModel(dir), /has no signatures, so there is no function to run; re-export it/);
  });

  it('a multi-input signature needs --input, which keeps the outputs that input suffices for', async () => {
    await rejectsWith(loadModel(SM('model_multi_output')), 'E_MODEL_SIGNATURE');
    const { artifacts, signature } = await convertSavedModel(SM('model_multi_output'), { inputs: ['x'], computableOutputsOnly: true });
    assert.deepEqual(signature.outputs.map((o) => o.key), ['output_0']);
    const model = await loadGraphModel(tf.io.fromMemory(artifacts));
    assert.deepEqual(run(model, { x: tf.scalar(4, 'int32') })[0]?.values, [8]);
    model.dispose();
    await rejectsWith(convertSavedModel(SM('model_multi_output'), { inputs: ['y'], outputs: ['output_0'] }), 'E_MODEL_SIGNATURE');
  });
});

describe('bad input: one line, exit 2', () => {
  it('a folder that is not a SavedModel, and one that does not exist', async () => {
    assert.equal(await isSavedModelDir(fixture('images')), false);
    await rejectsWith(convertSavedModel(fixture('images')), 'E_MODEL_NOT_FOUND');
    await rejectsWith(convertSavedModel(join(tmp, 'missing')), 'E_MODEL_NOT_FOUND');
  });

  it('a truncated saved_model.pb', async () => {
    const dir = await copyFixture('half_plus_two_tf2');
    await truncate(join(dir, 'saved_model.pb'), 20_000);
    await rejectsWith(convertSavedModel(dir), 'E_MODEL_INVALID');
  });

  it('a corrupt byte in the variables shard fails its CRC', async () => {
    const dir = await copyFixture('lenet_tf1');
    const shard = join(dir, 'variables', 'variables.data-00000-of-00001');
    const bytes = await readFile(shard);
    const bundle = await TensorBundle.open(join(dir, 'variables', 'variables'));
    const at = (bundle.entry('Variable_4')?.offset ?? 0) + 1000;
    bytes[at] = (bytes[at] as number) ^ 0x40;
    await writeFile(shard, bytes);
    await rejectsWith(convertSavedModel(dir), 'E_MODEL_CHECKSUM');
  });

  it('a corrupt byte in the variables index fails its block CRC', async () => {
    const dir = await copyFixture('lenet_tf1');
    const index = join(dir, 'variables', 'variables.index');
    const bytes = await readFile(index);
    bytes[10] = (bytes[10] as number) ^ 0x01;
    await writeFile(index, bytes);
    await rejectsWith(convertSavedModel(dir), 'E_MODEL_CHECKSUM');
  });

  it('a missing or truncated variables shard', async () => {
    const missing = await copyFixture('times_three_float');
    await unlink(join(missing, 'variables', 'variables.data-00000-of-00001'));
    await rejectsWith(convertSavedModel(missing), 'E_MODEL_INVALID');
    const short = await copyFixture('lenet_tf1');
    await truncate(join(short, 'variables', 'variables.data-00000-of-00001'), 1000);
    await rejectsWith(convertSavedModel(short), 'E_MODEL_INVALID');
  });

  it('a FIFO shard and an index linked to /dev/zero are refused, not waited on or read for ever', async () => {
    const fifo = await copyFixture('lenet_tf1');
    const shard = join(fifo, 'variables', 'variables.data-00000-of-00001');
    await unlink(shard);
    execFileSync('mkfifo', [shard]);
    await rejectsWith(convertSavedModel(fifo), 'E_MODEL_INVALID');
    const zero = await copyFixture('lenet_tf1');
    await unlink(join(zero, 'variables', 'variables.index'));
    await symlink('/dev/zero', join(zero, 'variables', 'variables.index'));
    await rejectsWith(convertSavedModel(zero), 'E_MODEL_INVALID');
  });

  it('unknown signature, tags, input or output; an output needing an input left out', async () => {
    await rejectsWith(convertSavedModel(SM('half_plus_two_tf2'), { signature: 'nope' }), 'E_MODEL_SIGNATURE');
    await rejectsWith(convertSavedModel(SM('half_plus_two_tf2'), { signature: '__saved_model_init_op' }), 'E_MODEL_SIGNATURE');
    await rejectsWith(convertSavedModel(SM('half_plus_two_tf2'), { tags: ['serve', 'gpu'] }), 'E_MODEL_SIGNATURE');
    await rejectsWith(convertSavedModel(SM('model_multi_output'), { inputs: ['z'] }), 'E_MODEL_SIGNATURE');
    await rejectsWith(convertSavedModel(SM('model_multi_output'), { outputs: ['output_9'] }), 'E_MODEL_SIGNATURE');
    await rejectsWith(convertSavedModel(SM('model_multi_output'), { inputs: ['x'] }), 'E_MODEL_SIGNATURE');
    // Choosing the input and the output it alone needs works.
    const model = await load(SM('model_multi_output'), { inputs: ['x'], outputs: ['output_0'] });
    assert.deepEqual(run(model, { x: tf.scalar(4, 'int32') })[0]?.values, [8]);
    model.dispose();
  });

  it('ops TensorFlow.js cannot run: E_UNSUPPORTED_OP', async () => {
    await rejectsWith(convertSavedModel(SM('half_plus_two_tf2'), { signature: 'classify_x_to_y' }), 'E_UNSUPPORTED_OP');
  });
});
