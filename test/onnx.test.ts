import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import * as tf from '@tensorflow/tfjs-core';
import { computeIntegratedGradients } from '../src/attribution/integrated-gradients.js';
import { main } from '../src/cli/main.js';
import { selectBackend } from '../src/engine/backend.js';
import { isIgxError } from '../src/errors.js';
import { loadModel } from '../src/model/load-model.js';
import { convertOnnx, inspectOnnx } from '../src/onnx/index.js';
import { getOnnxRoot, ONNX_PROTO } from '../src/onnx/onnx-proto.js';
import { writeGraphModel } from '../src/savedmodel/index.js';
import { assertOnnxCheck, checkOnnxFixture, ONNX_FIXTURES, readNpy } from './support/onnx-check.js';
import { fixture, ROOT } from './support/paths.js';

before(async () => {
  await selectBackend('wasm');
});

/** The model a test builds: NCHW float input, nodes, float initializers (raw or external). */
interface TinyModel {
  /** The default domain's opset (17). */
  opset?: number;
  input?: { name: string; dims: (number | string)[] } | null;
  nodes: { op: string; inputs: string[]; outputs: string[]; name?: string; attrs?: Record<string, number | number[] | string | { floats: number[] }> }[];
  initializers?: { name: string; dims: number[]; values: number[]; int64?: boolean; external?: { location: string; offset?: number; length?: number } }[];
  output: string;
}

function encodeModel(m: TinyModel): Uint8Array {
  const type = getOnnxRoot().lookupType('onnx.ModelProto');
  const attr = (name: string, v: number | number[] | string | { floats: number[] }): Record<string, unknown> =>
    typeof v === 'string'
      ? { name, type: 3, s: new TextEncoder().encode(v) }
      : Array.isArray(v)
        ? { name, type: 7, ints: v }
        : typeof v === 'object'
          ? { name, type: 6, floats: v.floats }
          : Number.isInteger(v)
            ? { name, type: 2, i: v }
            : { name, type: 1, f: v };
  const dims = (list: (number | string)[]): Record<string, unknown>[] => list.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  const tensorType = (list: (number | string)[]): Record<string, unknown> => ({ tensorType: { elemType: 1, shape: { dim: dims(list) } } });
  const msg = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: m.opset ?? 17 }],
    producerName: 'igx-test',
    graph: {
      name: 'tiny',
      node: m.nodes.map((n, i) => ({ opType: n.op, input: n.inputs, output: n.outputs, name: n.name ?? `${n.op}_${i}`, attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attr(k, v)) })),
      input: m.input === null ? [] : [{ name: m.input?.name ?? 'x', type: tensorType(m.input?.dims ?? ['batch', 3, 4, 4]) }],
      output: [{ name: m.output, type: tensorType(['batch', 1]) }],
      initializer: (m.initializers ?? []).map((t) =>
        t.external === undefined
          ? t.int64 === true
            ? { name: t.name, dims: t.dims, dataType: 7, rawData: new Uint8Array(BigInt64Array.from(t.values.map(BigInt)).buffer) }
            : { name: t.name, dims: t.dims, dataType: 1, rawData: new Uint8Array(Float32Array.from(t.values).buffer) }
          : {
              name: t.name,
              dims: t.dims,
              dataType: 1,
              dataLocation: 1,
              externalData: Object.entries(t.external).map(([key, value]) => ({ key, value: String(value) })),
            },
      ),
    },
  };
  return type.encode(type.fromObject(msg)).finish();
}

/** x [N,3,4,4] → 1×1 conv to 2 channels → global average → flatten: F = mean over pixels of W·x + b. */
const CONV_W = [0.5, -1, 2, 0.25, 1.5, -0.75];
const CONV_B = [0.1, -0.2];
function convModel(weight: TinyModel['initializers'] extends (infer T)[] | undefined ? Partial<T> : never = {}): TinyModel {
  return {
    nodes: [
      { op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attrs: { kernel_shape: [1, 1] } },
      { op: 'GlobalAveragePool', inputs: ['c'], outputs: ['p'] },
      { op: 'Flatten', inputs: ['p'], outputs: ['y'] },
    ],
    initializers: [
      { name: 'w', dims: [2, 3, 1, 1], values: CONV_W, ...weight },
      { name: 'b', dims: [2], values: CONV_B },
    ],
    output: 'y',
  };
}

/** PyTorch 1.13 on the same inputs (F.interpolate bilinear, align_corners=False; F.conv_transpose2d; F.instance_norm), float32. */
const TORCH_RESIZE = { x: [0, 0.14237173, 0.28184286, 0.41557187, 0.54083425, 0.65507793, 0.75597537, 0.84147096, 0.90982294, 0.9596386, 0.98990309, 0.99999982], y: [0, 0.05084705, 0.13220233, 0.21210732, 0.29139495, 0.36781153, 0.41557187, 0.21633372, 0.26316246, 0.33808848, 0.40947506, 0.4796699, 0.54506165, 0.58593154, 0.54083425, 0.58163553, 0.6469177, 0.70552665, 0.76208222, 0.81093681, 0.84147096, 0.76222748, 0.78922278, 0.83241534, 0.86707318, 0.89920747, 0.92221105, 0.93658829, 0.90982294, 0.92761421, 0.95608038, 0.97477084, 0.99062431, 0.99639386, 0.99999982], grad: [-2.245378, -2.0663865, -1.7571429, -1.4252104, -0.46134454, -0.17394966, 0.17394942, 0.46134448, 1.42521, 1.7571429, 2.0663865, 2.2453785] };
const TORCH_CONVT = { x: [0, 0.32719472, 0.61836982, 0.84147096, 0.97193789, 0.99540794, 0.90929741, 0.72308594, 0.45727256, 0.14112, -0.19056788, -0.50127715], w: [1, 0.96891242, 0.87758255, 0.73168886, 0.54030234, 0.31532237, 0.070737198, -0.17824605, -0.41614684, -0.62817365, -0.80114359, -0.9243024, -0.9899925, -0.99412966, -0.93645668, -0.82055938, -0.65364361, -0.44608748, -0.2107958, 0.037602153, 0.2836622, 0.5120855, 0.70866978, 0.86119241, 0.96017027, 0.99944943, 0.97658765], y: [-0.39217705, -0.94015419, -0.46277303, -0.45745313, -0.064777553, -0.25408745, -0.10075399, -0.26446718, -0.45490253, -0.92749882, -0.36943245, -0.59350014, -0.64504135, -1.6141882, -0.87363052, -0.91227615], grad: [-0.59168458, -1.1797323, -1.0577239, -0.63078499, 2.2594547, 2.5828834, -0.29091573, -2.1494703, -2.2469754, -2.0652664, 1.4232152, 3.3312659] };
const TORCH_INORM = { x: [1, 0.9800666, 0.92106098, 0.82533562, 0.69670671, 0.54030234, 0.36235771, 0.16996716, -0.029199546, -0.22720204, -0.41614684, -0.58850116, -0.7373938, -0.85688871, -0.94222236, -0.9899925, -0.99829477, -0.96679819, -0.89675844, -0.79096776, -0.65364361, -0.49026099, -0.30733278, -0.11215262, 0.087499171, 0.2836622, 0.4685165], y: [1.7783051, 1.6930928, 1.440853, 1.0316421, 0.48177353, -0.18683082, -0.94751638, -1.769956, -2.6213627, 0.78582698, 0.42751595, 0.10066677, -0.18169019, -0.4082979, -0.57012284, -0.6607132, -0.67645741, -0.61672795, -1.0809788, -0.84864759, -0.54706448, -0.18825334, 0.21348266, 0.64212567, 1.0805891, 1.5113906, 1.9173565], grad: [-0.38917878, -0.10736823, 0.082269594, 0.18528453, 0.21067834, 0.17054936, 0.07960593, -0.045415889, -0.18642296, 0.10890655, 0.0031176577, -0.080573611, -0.13301523, -0.14630066, -0.11408508, -0.031837013, 0.10298, 0.29080713, -0.075414285, -0.0074764281, 0.030357109, 0.043313213, 0.037609708, 0.020209398, -0.0014598746, -0.019798502, -0.027340965] };

/** A one-node model of `op` on an NCHW input of `dims` (the extra inputs and initializers given), its output flattened; F's value and ∇ of Σ F·linspace(−1, 1). */
async function runOne(dir: string, name: string, model: TinyModel, x: number[], dims: [number, number, number, number]): Promise<{ y: number[]; grad: number[] }> {
  await mkdir(join(dir, name), { recursive: true });
  const path = join(dir, name, 'model.onnx');
  await writeFile(path, encodeModel({ ...model, input: { name: 'x', dims: ['batch', ...dims.slice(1)] } }));
  const loaded = await loadModel(path);
  const f = loaded.buildForward().forward;
  const [y, grad] = tf.tidy(() => {
    const nhwc = tf.transpose(tf.tensor4d(x, dims), [0, 2, 3, 1]) as tf.Tensor4D;
    const out = f(nhwc);
    const w = tf.linspace(-1, 1, out.shape[1]);
    const g = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(f(z as tf.Tensor4D), w)))(nhwc);
    return [Array.from(out.dataSync()), Array.from(tf.transpose(g, [0, 3, 1, 2]).dataSync())];
  });
  loaded.dispose();
  return { y: y as number[], grad: grad as number[] };
}

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isIgxError(err), `an IgxError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

describe('ONNX schema', () => {
  it('every embedded field has the number, type and rule of vendor/onnx/onnx.proto3', async () => {
    const vendored = protobuf.parse(await readFile(join(ROOT, 'vendor', 'onnx', 'onnx.proto3'), 'utf8'), { keepCase: false }).root;
    const embedded = protobuf.parse(ONNX_PROTO).root;
    let checked = 0;
    const visit = (ns: protobuf.NamespaceBase): void => {
      for (const nested of ns.nestedArray) {
        if (nested instanceof protobuf.Type) {
          const theirs = vendored.lookupType(nested.fullName);
          for (const field of nested.fieldsArray) {
            const other = theirs.fields[field.name];
            assert.ok(other !== undefined, `${nested.fullName}.${field.name} is in the vendored schema`);
            assert.deepEqual([field.id, field.type, field.repeated], [other.id, other.type, other.repeated], `${nested.fullName}.${field.name}`);
            checked++;
          }
        }
        if (nested instanceof protobuf.Namespace) visit(nested);
      }
    };
    visit(embedded);
    assert.ok(checked > 50, `${checked} fields checked`);
  });
});

describe('ONNX models against PyTorch (igx-wasm)', () => {
  // The fast set: a channel shuffle (Reshape → Transpose → Reshape on 5-D tensors, shape arithmetic
  // folded), depthwise convolutions with hard-swish and squeeze-excite, and ConvNeXt's LayerNorm,
  // Transpose, MatMul and erf-GELU, and a 2-layer ViT (attention folds the heads into the batch; the
  // class token is expanded to the batch). test/slow/onnx-architectures.test.ts runs every fixture.
  for (const name of ['shufflenet_v2_x0_5', 'mobilenet_v3_small', 'convnext_mini', 'vit_tiny_2layer']) {
    it(`${name}: logits ≤ 1e-4 of the largest, input gradients within float32's bound, any batch, no tensors left`, async () => {
      assertOnnxCheck(name, await checkOnnxFixture(name));
    });
  }

  it('IG completeness on convnext_mini (smooth: GELU, LayerNorm): attributions sum to F(x) − F(0)', async () => {
    const model = await loadModel(join(ONNX_FIXTURES, 'convnext_mini', 'model.onnx'));
    const { target } = JSON.parse(await readFile(join(ONNX_FIXTURES, 'convnext_mini', 'reference.json'), 'utf8')) as { target: number };
    const input = await readNpy(join(ONNX_FIXTURES, 'input.npy'));
    const before = tf.memory().numTensors;
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(input.data, input.shape as [number, number, number, number]), [0, 2, 3, 1])) as tf.Tensor4D;
    const baseline = tf.zerosLike(x);
    const f = model.buildForward();
    const r = await computeIntegratedGradients({ forward: f.forward, input: x, baselines: [baseline], target: { kind: 'index', index: target } }, { method: 'gausslegendre', steps: 16, batchSize: 16 });
    assert.ok(!r.completeness.isDeltaNegligible);
    assert.ok(r.completeness.relativeError <= 1e-3, JSON.stringify(r.completeness));
    r.attributions.dispose();
    tf.dispose([x, baseline]);
    assert.equal(tf.memory().numTensors, before);
    model.dispose();
  });
});

describe('ONNX ops against PyTorch on small inputs', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'igx-onnx-ops-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const close = (a: number[], b: number[], tol: number, what: string): void => {
    assert.equal(a.length, b.length, what);
    const scale = Math.max(...b.map(Math.abs));
    a.forEach((v, i) => assert.ok(Math.abs(v - (b[i] as number)) <= tol * scale, `${what}[${i}]: ${v} vs ${b[i]}`));
  };

  it('Resize bilinear (half_pixel, sizes from Shape → Concat): values and gradient (tfjs\'s own ResizeBilinear gradient is wrong here)', async () => {
    const model: TinyModel = {
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Slice', inputs: ['s', 'zero', 'two'], outputs: ['nc'] },
        { op: 'Concat', inputs: ['nc', 'hw'], outputs: ['sizes'], attrs: { axis: 0 } },
        { op: 'Resize', inputs: ['x', '', '', 'sizes'], outputs: ['r'], attrs: { mode: 'linear', coordinate_transformation_mode: 'half_pixel' } },
        { op: 'Flatten', inputs: ['r'], outputs: ['y'] },
      ],
      initializers: [
        { name: 'zero', dims: [1], values: [0], int64: true },
        { name: 'two', dims: [1], values: [2], int64: true },
        { name: 'hw', dims: [2], values: [5, 7], int64: true },
      ],
      output: 'y',
    };
    const r = await runOne(dir, 'resize', model, TORCH_RESIZE.x, [1, 1, 3, 4]);
    close(r.y, TORCH_RESIZE.y, 1e-6, 'y');
    close(r.grad, TORCH_RESIZE.grad, 1e-6, 'grad');
  });

  it('ConvTranspose (stride 2, pads, output_padding, bias): values and gradient', async () => {
    const model: TinyModel = {
      nodes: [
        { op: 'ConvTranspose', inputs: ['x', 'w', 'b'], outputs: ['t'], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1], kernel_shape: [3, 3] } },
        { op: 'Flatten', inputs: ['t'], outputs: ['y'] },
      ],
      initializers: [
        { name: 'w', dims: [3, 1, 3, 3], values: TORCH_CONVT.w },
        { name: 'b', dims: [1], values: [0.25] },
      ],
      output: 'y',
    };
    const r = await runOne(dir, 'convt', model, TORCH_CONVT.x, [1, 3, 2, 2]);
    close(r.y, TORCH_CONVT.y, 1e-6, 'y');
    close(r.grad, TORCH_CONVT.grad, 1e-6, 'grad');
  });

  it('InstanceNormalization: values and gradient', async () => {
    const model: TinyModel = {
      nodes: [
        { op: 'InstanceNormalization', inputs: ['x', 'scale', 'bias'], outputs: ['n'], attrs: { epsilon: 1e-5 } },
        { op: 'Flatten', inputs: ['n'], outputs: ['y'] },
      ],
      initializers: [
        { name: 'scale', dims: [3], values: [1.5, 0.5, 1.0] },
        { name: 'bias', dims: [3], values: [0.1, -0.2, 0.3] },
      ],
      output: 'y',
    };
    const r = await runOne(dir, 'inorm', model, TORCH_INORM.x, [1, 3, 3, 3]);
    close(r.y, TORCH_INORM.y, 1e-5, 'y');
    close(r.grad, TORCH_INORM.grad, 1e-4, 'grad');
  });
});

describe('igx convert and inspect on ONNX', () => {
  it('the converted tfjs graph model loads as a graph model and computes exactly what the ONNX file does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'igx-onnx-convert-'));
    try {
      const onnxPath = join(ONNX_FIXTURES, 'convnext_mini', 'model.onnx');
      const converted = await convertOnnx(onnxPath);
      assert.equal(converted.opset, 17);
      assert.deepEqual(converted.input.shape, [-1, 224, 224, 3]);
      await writeGraphModel(converted.artifacts, dir);
      const [a, b] = [await loadModel(onnxPath), await loadModel(dir)];
      assert.equal(a.format, 'onnx');
      assert.equal(b.format, 'graph');
      const input = await readNpy(join(ONNX_FIXTURES, 'input.npy'));
      const [ya, yb] = [a, b].map((m) =>
        tf.tidy(() => m.buildForward().forward(tf.transpose(tf.tensor4d(input.data, input.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D).dataSync()),
      );
      assert.deepEqual(Array.from(yb as Float32Array), Array.from(ya as Float32Array));
      a.dispose();
      b.dispose();
      const info = await inspectOnnx(onnxPath);
      assert.equal(info.opCounts.LayerNormalization, converted.onnxOpCounts.LayerNormalization);
      assert.ok((info.opCounts.Conv ?? 0) > 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ONNX files igx refuses', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'igx-onnx-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = async (name: string, bytes: Uint8Array): Promise<string> => {
    await mkdir(join(dir, name), { recursive: true });
    const path = join(dir, name, 'model.onnx');
    await writeFile(path, bytes);
    return path;
  };

  it('a tiny conv model loads and computes W·x + b averaged (the builder the cases below break)', async () => {
    const path = await write('ok', encodeModel(convModel()));
    const model = await loadModel(path);
    assert.equal(model.format, 'onnx');
    assert.deepEqual(model.inputShape, [4, 4, 3]);
    const y = tf.tidy(() => model.buildForward().forward(tf.mul(tf.ones([2, 4, 4, 3]), tf.tensor1d([1, 2, 3])) as tf.Tensor4D).dataSync());
    // channel c of the image is c + 1: out_k = Σ_c W[k, c]·(c + 1) + b_k
    const expected = [0.5 - 2 + 6 + 0.1, 0.25 + 3 - 2.25 - 0.2];
    for (const [i, v] of [...expected, ...expected].entries()) assert.ok(Math.abs((y[i] as number) - v) < 1e-6, `${i}: ${y[i]} vs ${v}`);
    model.dispose();
  });

  it('weights in an external data file beside the model load; a folder holding one .onnx loads', async () => {
    await mkdir(join(dir, 'external'), { recursive: true });
    await writeFile(join(dir, 'external', 'weights.bin'), new Uint8Array(Float32Array.from([9, 9, ...CONV_W]).buffer));
    const path = await write('external', encodeModel(convModel({ external: { location: 'weights.bin', offset: 8, length: 24 } })));
    const model = await loadModel(join(dir, 'external'));
    assert.equal(model.modelJsonPath, path);
    const y = tf.tidy(() => model.buildForward().forward(tf.ones([1, 4, 4, 3])).dataSync());
    assert.ok(Math.abs((y[0] as number) - (0.5 - 1 + 2 + 0.1)) < 1e-6);
    model.dispose();
  });

  it('an export traced at batch 1 runs any batch: batch-agnostic graphs with the batch open, others at batch 1', async () => {
    const open = await loadModel(await write('traced', encodeModel({ ...convModel(), input: { name: 'x', dims: [1, 3, 4, 4] } })));
    assert.equal(open.fixedBatch, undefined);
    // A constant of batch 1 concatenated to the features, as ViT's class token is when traced at batch 1.
    const baked: TinyModel = {
      ...convModel(),
      input: { name: 'x', dims: [1, 3, 4, 4] },
      nodes: [...convModel().nodes.map((n) => (n.op === 'Flatten' ? { ...n, outputs: ['f'] } : n)), { op: 'Concat', inputs: ['f', 'token'], outputs: ['y'], attrs: { axis: 1 } }],
      initializers: [...(convModel().initializers ?? []), { name: 'token', dims: [1, 1], values: [7] }],
    };
    const fixed = await loadModel(await write('baked', encodeModel(baked)));
    assert.equal(fixed.fixedBatch, 1);
    for (const model of [open, fixed]) {
      const [all, one] = tf.tidy(() => {
        const x = tf.randomNormal([3, 4, 4, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
        const f = model.buildForward().forward;
        return [f(x).dataSync(), f(tf.slice(x, [2, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D).dataSync()];
      });
      const width = (all as Float32Array).length / 3;
      assert.deepEqual(Array.from((all as Float32Array).slice(2 * width)), Array.from(one as Float32Array));
      model.dispose();
    }
  });

  it('an open height and width: E_MODEL_INVALID, unless igx.json gives inputShape', async () => {
    const path = await write('open-size', encodeModel({ ...convModel(), input: { name: 'x', dims: ['batch', 3, 'h', 'w'] } }));
    await rejects(loadModel(path), 'E_MODEL_INVALID');
    await writeFile(join(dir, 'open-size', 'igx.json'), JSON.stringify({ inputShape: [6, 5, 3] }));
    const model = await loadModel(path);
    assert.deepEqual(model.inputShape, [6, 5, 3]);
    const y = tf.tidy(() => model.buildForward().forward(tf.ones([1, 6, 5, 3])).dataSync());
    assert.ok(Math.abs((y[0] as number) - (0.5 - 1 + 2 + 0.1)) < 1e-6);
    model.dispose();
  });

  it('E_MODEL_PATH: external data that leaves the model folder (.., an absolute path, a link)', async () => {
    await rejects(loadModel(await write('escape', encodeModel(convModel({ external: { location: '../external/weights.bin' } })))), 'E_MODEL_PATH');
    await rejects(loadModel(await write('absolute', encodeModel(convModel({ external: { location: join(dir, 'external', 'weights.bin') } })))), 'E_MODEL_PATH');
    const linked = await write('link', encodeModel(convModel({ external: { location: 'weights.bin', offset: 8, length: 24 } })));
    await symlink(join(dir, 'external', 'weights.bin'), join(dir, 'link', 'weights.bin'));
    await rejects(loadModel(linked), 'E_MODEL_PATH');
  });

  it('E_MODEL_INVALID: initializer bytes that disagree with its shape, in the file or outside it', async () => {
    await rejects(loadModel(await write('short', encodeModel(convModel({ values: CONV_W.slice(0, 5) })))), 'E_MODEL_INVALID');
    await rejects(loadModel(await write('ext-short', encodeModel(convModel({ external: { location: 'w.bin', length: 20 } })))), 'E_MODEL_INVALID');
  });

  it('E_MODEL_INVALID: a truncated file, no graph inputs, an input of rank 3', async () => {
    const good = encodeModel(convModel());
    await rejects(loadModel(await write('truncated', good.subarray(0, Math.floor(good.length * 0.6)))), 'E_MODEL_INVALID');
    await rejects(loadModel(await write('no-input', encodeModel({ ...convModel(), input: null }))), 'E_MODEL_INVALID');
    await rejects(loadModel(await write('rank3', encodeModel({ ...convModel(), input: { name: 'x', dims: ['batch', 4, 4] } }))), 'E_MODEL_INVALID');
  });

  it('E_UNSUPPORTED_OP: names every unsupported op, its node and the opset', async () => {
    const model: TinyModel = {
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['r'] },
        { op: 'NonMaxSuppression', inputs: ['r'], outputs: ['n'], name: 'nms_node' },
        { op: 'TopK', inputs: ['n'], outputs: ['y'], name: 'topk_node' },
      ],
      output: 'y',
    };
    await assert.rejects(loadModel(await write('unsupported', encodeModel(model))), (err: unknown) => {
      assert.ok(isIgxError(err) && err.code === 'E_UNSUPPORTED_OP');
      for (const part of ['NonMaxSuppression', 'nms_node', 'TopK', 'topk_node', 'opset 17']) assert.ok(err.message.includes(part), `${part} in ${err.message}`);
      return true;
    });
  });

  it('E_MODEL_NOT_FOUND: a folder with two .onnx files', async () => {
    const path = await write('two', encodeModel(convModel()));
    await copyFile(path, join(dir, 'two', 'other.onnx'));
    await rejects(loadModel(join(dir, 'two')), 'E_MODEL_NOT_FOUND');
  });
});

describe('ONNX ops igx lacks: all named at once; igx inspect still describes the file', () => {
  // LRN ×2, Softplus and com.microsoft.Gelu between Conv, Relu and pooling (scripts/make-onnx-fixtures.py).
  const file = join(ONNX_FIXTURES, 'unsupported_ops', 'model.onnx');
  const lacking = [
    { op: 'LRN', count: 2, nodes: ['/features/features.1/LRN', '/features/features.4/LRN'] },
    { op: 'Softplus', count: 1, nodes: ['/features/features.3/Softplus'] },
    { op: 'com.microsoft.Gelu', count: 1, nodes: ['/features/features.5/Gelu'] },
  ];
  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const [stdout, stderr] = [[] as string[], [] as string[]];
    const sink = (to: string[]): NodeJS.WritableStream => ({ write: (s: string) => (to.push(String(s)), true) }) as unknown as NodeJS.WritableStream;
    const code = await main(['node', 'igx', ...args], { stdout: sink(stdout), stderr: sink(stderr), env: {} });
    return { code, stdout: stdout.join(''), stderr: stderr.join('') };
  };

  it('loadModel and convertOnnx: one E_UNSUPPORTED_OP line naming each op type, its count, its first node and the opset', async () => {
    const parts = ['3 ONNX op types', 'opset 17', "LRN ×2 (first: node '/features/features.1/LRN')", "Softplus ×1 (first: node '/features/features.3/Softplus')", "com.microsoft.Gelu ×1 (first: node '/features/features.5/Gelu')"];
    for (const attempt of [() => loadModel(file), () => convertOnnx(file)]) {
      await assert.rejects(attempt(), (err: unknown) => {
        assert.ok(isIgxError(err) && err.code === 'E_UNSUPPORTED_OP' && !err.message.includes('\n'), String(err));
        for (const part of parts) assert.ok(err.message.includes(part), `${part} in ${err.message}`);
        return true;
      });
    }
  });

  it('igx explain and convert: exit 2, the one line on stderr, no stack', async () => {
    for (const args of [['explain', fixture('images', 'cat.jpg'), '--model', file, '--backend', 'wasm'], ['convert', file, join(tmpdir(), 'igx-never-written')]]) {
      const r = await cli(...args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^igx: .*3 ONNX op types igx does not support \(opset 17\): LRN ×2 .* \[E_UNSUPPORTED_OP\]\n$/);
    }
  });

  it('inspectOnnx lists every unsupported op with its count and first nodes', async () => {
    const info = await inspectOnnx(file);
    assert.deepEqual(info.unsupportedOps, lacking);
    assert.deepEqual(info.inputs, [{ name: 'input', dtype: 'FLOAT', dims: ['batch', 3, 8, 8] }]);
    assert.equal((await inspectOnnx(join(ONNX_FIXTURES, 'squeezenet1_1', 'model.onnx'))).unsupportedOps.length, 0);
  });

  it('igx inspect: describes the file, lists the ops and says explain fails; exit 1, as for any model igx cannot explain', async () => {
    const json = await cli('inspect', file, '--json', '--backend', 'wasm');
    assert.equal(json.code, 1, json.stderr);
    assert.equal(json.stderr, '');
    const info = JSON.parse(json.stdout) as { input: { shape: number[] }; opCounts: Record<string, number>; unsupportedOps: Record<string, number>; gradient: { isDifferentiable: boolean; error: string }; onnx: { opset: number; unsupportedOps: unknown } };
    assert.deepEqual(info.input.shape, [8, 8, 3]);
    assert.equal(info.opCounts.Conv, 1);
    assert.deepEqual(info.unsupportedOps, { LRN: 2, Softplus: 1, 'com.microsoft.Gelu': 1 });
    assert.deepEqual(info.onnx.unsupportedOps, lacking);
    assert.equal(info.gradient.isDifferentiable, false);
    assert.match(info.gradient.error, /3 ONNX op types igx does not support/);
    const text = await cli('inspect', file, '--backend', 'wasm');
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /^cannot run: LRN×2 \(nodes '\/features\/features\.1\/LRN', '\/features\/features\.4\/LRN'\), Softplus×1 \(node '\/features\/features\.3\/Softplus'\), com\.microsoft\.Gelu×1 /m);
    assert.match(text.stdout, /^explain and convert fail on this model \(E_UNSUPPORTED_OP\)/m);
  });

  it('igx inspect on a file whose op types are all supported but one node\'s setting is not: that node, exit 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'igx-onnx-cubic-'));
    try {
      const model: TinyModel = {
        opset: 13,
        input: { name: 'x', dims: ['batch', 3, 4, 4] },
        nodes: [
          { op: 'Resize', inputs: ['x', '', 'scales'], outputs: ['r'], name: '/up/Resize', attrs: { mode: 'cubic' } },
          { op: 'GlobalAveragePool', inputs: ['r'], outputs: ['p'] },
          { op: 'Flatten', inputs: ['p'], outputs: ['y'] },
        ],
        initializers: [{ name: 'scales', dims: [4], values: [1, 1, 2, 2] }],
        output: 'y',
      };
      await writeFile(join(dir, 'model.onnx'), encodeModel(model));
      const r = await cli('inspect', dir, '--backend', 'wasm');
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /^cannot run: .*node '\/up\/Resize' \(Resize, opset 13\): mode 'cubic'/m);
      assert.match(r.stdout, /^explain and convert fail on this model \(E_UNSUPPORTED_OP\)$/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Upsample, Resize-10 nearest and Pad edge against references written out by hand', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'igx-onnx-upsample-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const X = [1, 2, 4, 8, 16, 32, -1, 0.5, 3, -2, 7, 0.25, 5, -3, 0.75, 6, -0.5, 9]; // NCHW [1, 3, 2, 3]
  const at = (x: number[], c: number, i: number, j: number): number => x[c * 6 + i * 3 + j] as number;
  /** 1-D linear upsampling ×2 in asymmetric coordinates: o → o/2, clamped at the last input. */
  const lerp2 = (get: (i: number) => number, size: number, o: number): number => {
    const src = Math.min(o / 2, size - 1);
    const i0 = Math.floor(src);
    return (1 - (src - i0)) * get(i0) + (src - i0) * get(Math.min(i0 + 1, size - 1));
  };
  const references: Record<string, { out: [number, number, number]; f: (x: number[], c: number, i: number, j: number) => number }> = {
    nearest: { out: [3, 4, 9], f: (x, c, i, j) => at(x, c, Math.floor(i / 2), Math.floor(j / 3)) },
    linear: { out: [3, 4, 6], f: (x, c, i, j) => lerp2((r) => lerp2((q) => at(x, c, r, q), 3, j), 2, i) },
    // pads: channels 1 before; height 1 before, 2 after; width 2 before, 1 after
    edge: { out: [4, 5, 6], f: (x, c, i, j) => at(x, Math.max(c - 1, 0), Math.min(Math.max(i - 1, 0), 1), Math.min(Math.max(j - 2, 0), 2)) },
  };
  /** The reference applied to x; and, the map being linear, Σ F·linspace(−1, 1)'s gradient as the sum over basis images. */
  const expected = (kind: string): { y: number[]; grad: number[] } => {
    const { out, f } = references[kind] as (typeof references)[string];
    const apply = (x: number[]): number[] => Array.from({ length: out[0] * out[1] * out[2] }, (_, k) => f(x, Math.floor(k / (out[1] * out[2])), Math.floor(k / out[2]) % out[1], k % out[2]));
    const y = apply(X);
    const w = y.map((_, k) => -1 + (2 * k) / (y.length - 1));
    const grad = X.map((_, i) => apply(X.map((_, k) => (k === i ? 1 : 0))).reduce((s, v, k) => s + v * (w[k] as number), 0));
    return { y, grad };
  };
  const flat = (op: TinyModel['nodes'][number], opset: number, initializers: TinyModel['initializers'] = []): TinyModel => ({
    opset,
    nodes: [op, { op: 'Flatten', inputs: ['u'], outputs: ['y'] }],
    initializers,
    output: 'y',
  });
  const check = async (name: string, model: TinyModel, kind: string): Promise<void> => {
    const r = await runOne(dir, name, model, X, [1, 3, 2, 3]);
    const e = expected(kind);
    assert.deepEqual(r.y.length, e.y.length, name);
    r.y.forEach((v, i) => assert.ok(Math.abs(v - (e.y[i] as number)) < 1e-5, `${name} y[${i}]: ${v} vs ${e.y[i]}`));
    r.grad.forEach((v, i) => assert.ok(Math.abs(v - (e.grad[i] as number)) < 1e-5, `${name} grad[${i}]: ${v} vs ${e.grad[i]}`));
  };

  it('Upsample-9 nearest (scales input ×2, ×3) and Upsample-7 linear (scales attribute ×2): values and gradient', async () => {
    await check('up9', flat({ op: 'Upsample', inputs: ['x', 'scales'], outputs: ['u'] }, 9, [{ name: 'scales', dims: [4], values: [1, 1, 2, 3] }]), 'nearest');
    await check('up7', flat({ op: 'Upsample', inputs: ['x'], outputs: ['u'], attrs: { mode: 'linear', scales: { floats: [1, 1, 2, 2] } } }, 7), 'linear');
  });

  it('Resize-10 nearest (no nearest_mode: floor when enlarging, as onnxruntime) equals Upsample', async () => {
    await check('resize10', flat({ op: 'Resize', inputs: ['x', 'scales'], outputs: ['u'], attrs: { mode: 'nearest' } }, 10, [{ name: 'scales', dims: [4], values: [1, 1, 2, 3] }]), 'nearest');
  });

  it('Pad edge on channels, height and width: values and gradient (border cells collect their copies)', async () => {
    const pads = { name: 'pads', dims: [8], values: [0, 1, 1, 2, 0, 0, 2, 1], int64: true };
    await check('edge', flat({ op: 'Pad', inputs: ['x', 'pads'], outputs: ['u'], attrs: { mode: 'edge' } }, 17, [pads]), 'edge');
  });
});
