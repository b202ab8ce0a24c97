/**
 * TF1-style SavedModels for tests, written with igx's own protobuf schema (not by TensorFlow): a
 * Keras-2-in-TF1 graph with tf.cond on keras_learning_phase (Switch/Merge, constants in a branch tied
 * to it by control edges, as in Keras's dropout), and a uint8 image model that casts to float inside.
 * Both: VariableV2 weights read through Identity, checkpoint keyed by variable name.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { protoType } from '../../src/savedmodel/proto.js';
import { constNode, DT_FLOAT, DT_INT32, floatBytes, int, node, shape, type, writeTensorBundle } from './savedmodel-synthetic.js';

export const DT_UINT8 = 4;
export const DT_BOOL = 10;

/** dense/kernel [12, 2] and dense/bias [2] of both models. */
export const TF1_KERNEL = [0.02, -0.01, 0.015, 0.03, -0.02, 0.01, 0.005, -0.025, 0.03, 0.02, -0.01, 0.015, 0.01, 0.02, -0.03, 0.005, 0.025, -0.015, 0.02, 0.01, -0.005, 0.03, 0.01, -0.02];
export const TF1_BIAS = [0.1, -0.2];

type Attr = Record<string, unknown>;
type TensorSpec = { name: string; dtype: number; dims: number[] | undefined };

function tensorInfo(t: TensorSpec): Attr {
  return { name: t.name, dtype: t.dtype, tensorShape: t.dims === undefined ? { unknownRank: true } : { dim: t.dims.map((size) => ({ size })) } };
}

function signature(inputs: Record<string, TensorSpec>, outputs: Record<string, TensorSpec>): Attr {
  const map = (m: Record<string, TensorSpec>): Attr => Object.fromEntries(Object.entries(m).map(([k, t]) => [k, tensorInfo(t)]));
  return { inputs: map(inputs), outputs: map(outputs), methodName: 'tensorflow/serving/predict' };
}

function variable(name: string, dims: number[]): Attr[] {
  return [
    node(name, 'VariableV2', [], { dtype: type(DT_FLOAT), shape: shape(dims) }),
    node(`${name}/read`, 'Identity', [name], { T: type(DT_FLOAT) }),
  ];
}

/** Flatten [-1,2,2,3] → [-1,12], dense 12 → 2, softmax. */
function dense(input: string): Attr[] {
  return [
    ...variable('dense/kernel', [12, 2]),
    ...variable('dense/bias', [2]),
    node('dense/MatMul', 'MatMul', [input, 'dense/kernel/read'], { T: type(DT_FLOAT) }),
  ];
}

async function write(dir: string, nodes: Attr[], signatureDef: Record<string, Attr>): Promise<void> {
  await mkdir(join(dir, 'variables'), { recursive: true });
  const metaGraph = { metaInfoDef: { tags: ['serve'] }, graphDef: { node: nodes, versions: { producer: 134 } }, signatureDef };
  const SM = protoType('SavedModel');
  await writeFile(join(dir, 'saved_model.pb'), SM.encode(SM.fromObject({ savedModelSchemaVersion: 1, metaGraphs: [metaGraph] })).finish());
  await writeTensorBundle(join(dir, 'variables', 'variables'), [
    { key: 'dense/bias', dtype: DT_FLOAT, shape: [2], bytes: floatBytes(TF1_BIAS) },
    { key: 'dense/kernel', dtype: DT_FLOAT, shape: [12, 2], bytes: floatBytes(TF1_KERNEL) },
  ]);
}

/** A tf.cond as TF1 builds it: pred Switch, switch_t/switch_f, pred_id (see tensorflow/python/ops/control_flow_ops.py). */
function condHead(scope: string, pred: string): Attr[] {
  return [
    node(`${scope}/Switch`, 'Switch', [pred, pred], { T: type(DT_BOOL) }),
    node(`${scope}/switch_t`, 'Identity', [`${scope}/Switch:1`], { T: type(DT_BOOL) }),
    node(`${scope}/switch_f`, 'Identity', [`${scope}/Switch`], { T: type(DT_BOOL) }),
    node(`${scope}/pred_id`, 'Identity', [pred], { T: type(DT_BOOL) }),
  ];
}

function withControl(n: Attr, control: string): Attr {
  return { ...n, input: [...(n.input as string[]), `^${control}`] };
}

/**
 * x [-1,2,2,3] → probs [-1,2] = softmax(flatten(h)·K + c) where, on keras_learning_phase (a
 * PlaceholderWithDefault of `learningPhase`, or with 'placeholder' a bool Placeholder as older Keras
 * made it): h = cond(phase, x·0.5, x·2) and c = cond(phase, 0, bias),
 * the 0 a Const in the true branch that only a control edge ties to it. Signatures: serving_default;
 * with_learning_phase (feeds the phase too, so the conds stay); value_index (the first Merge's
 * value_index output).
 */
export async function writeKerasCondModel(dir: string, learningPhase: boolean | 'placeholder'): Promise<void> {
  const phase = 'keras_learning_phase';
  const nodes: Attr[] = [
    node('x', 'Placeholder', [], { dtype: type(DT_FLOAT), shape: shape([-1, 2, 2, 3]) }),
    ...(learningPhase === 'placeholder'
      ? [node(phase, 'Placeholder', [], { dtype: type(DT_BOOL), shape: shape([]) })]
      : [
          node(`${phase}/input`, 'Const', [], { dtype: type(DT_BOOL), value: { tensor: { dtype: DT_BOOL, tensorShape: {}, boolVal: [learningPhase] } } }),
          node(phase, 'PlaceholderWithDefault', [`${phase}/input`], { dtype: type(DT_BOOL), shape: shape([]) }),
        ]),
    ...condHead('dropout/cond', phase),
    // True branch (training): x·0.5.
    node('dropout/cond/mul/Switch', 'Switch', ['x', 'dropout/cond/pred_id'], { T: type(DT_FLOAT) }),
    withControl(constNode('dropout/cond/mul/y', [], [0.5]), 'dropout/cond/switch_t'),
    node('dropout/cond/mul', 'Mul', ['dropout/cond/mul/Switch:1', 'dropout/cond/mul/y'], { T: type(DT_FLOAT) }),
    // False branch (inference): x·2.
    node('dropout/cond/mul_1/Switch', 'Switch', ['x', 'dropout/cond/pred_id'], { T: type(DT_FLOAT) }),
    withControl(constNode('dropout/cond/mul_1/y', [], [2]), 'dropout/cond/switch_f'),
    node('dropout/cond/mul_1', 'Mul', ['dropout/cond/mul_1/Switch', 'dropout/cond/mul_1/y'], { T: type(DT_FLOAT) }),
    node('dropout/cond/Merge', 'Merge', ['dropout/cond/mul_1', 'dropout/cond/mul'], { T: type(DT_FLOAT), N: int(2) }),
    constNode('flatten/shape', [2], [-1, 12], DT_INT32),
    node('flatten/Reshape', 'Reshape', ['dropout/cond/Merge', 'flatten/shape'], { T: type(DT_FLOAT), Tshape: type(DT_INT32) }),
    ...dense('flatten/Reshape'),
    ...condHead('bias/cond', phase),
    // False branch: the bias passed straight through its Switch; true branch: zeros, live only by ^switch_t.
    node('bias/cond/Switch_1', 'Switch', ['dense/bias/read', 'bias/cond/pred_id'], { T: type(DT_FLOAT) }),
    withControl(constNode('bias/cond/zeros', [2], [0, 0]), 'bias/cond/switch_t'),
    node('bias/cond/Merge', 'Merge', ['bias/cond/Switch_1', 'bias/cond/zeros'], { T: type(DT_FLOAT), N: int(2) }),
    node('dense/BiasAdd', 'BiasAdd', ['dense/MatMul', 'bias/cond/Merge'], { T: type(DT_FLOAT) }),
    node('dense/Softmax', 'Softmax', ['dense/BiasAdd'], { T: type(DT_FLOAT) }),
  ];
  const x = { name: 'x:0', dtype: DT_FLOAT, dims: [-1, 2, 2, 3] };
  const probs = { name: 'dense/Softmax:0', dtype: DT_FLOAT, dims: [-1, 2] };
  await write(dir, nodes, {
    serving_default: signature({ x }, { probs }),
    with_learning_phase: signature({ x, learning_phase: { name: `${phase}:0`, dtype: DT_BOOL, dims: [] } }, { probs }),
    value_index: signature({ x }, { branch: { name: 'dropout/cond/Merge:1', dtype: DT_INT32, dims: [] } }),
  });
}

/**
 * images uint8 [-1,2,2,3] → probs [-1,2] = softmax(flatten(float(images)/255)·K + b), the Cast reached
 * through an Identity, the flatten's batch size read by Shape(images) (as shape-only use of the input).
 */
export async function writeUint8ImageModel(dir: string): Promise<void> {
  const nodes: Attr[] = [
    node('images', 'Placeholder', [], { dtype: type(DT_UINT8), shape: shape([-1, 2, 2, 3]) }),
    node('images/read', 'Identity', ['images'], { T: type(DT_UINT8) }),
    node('to_float', 'Cast', ['images/read'], { SrcT: type(DT_UINT8), DstT: type(DT_FLOAT) }),
    constNode('scale/y', [], [1 / 255]),
    node('scale', 'Mul', ['to_float', 'scale/y'], { T: type(DT_FLOAT) }),
    node('flatten/Shape', 'Shape', ['images'], { T: type(DT_UINT8), out_type: type(DT_INT32) }),
    constNode('flatten/begin', [1], [0], DT_INT32),
    constNode('flatten/end', [1], [1], DT_INT32),
    node('flatten/strided_slice', 'StridedSlice', ['flatten/Shape', 'flatten/begin', 'flatten/end', 'flatten/end'], {
      T: type(DT_INT32),
      Index: type(DT_INT32),
      shrink_axis_mask: int(1),
    }),
    constNode('flatten/features', [], [12], DT_INT32),
    node('flatten/shape', 'Pack', ['flatten/strided_slice', 'flatten/features'], { T: type(DT_INT32), N: int(2) }),
    node('flatten/Reshape', 'Reshape', ['scale', 'flatten/shape'], { T: type(DT_FLOAT), Tshape: type(DT_INT32) }),
    ...dense('flatten/Reshape'),
    node('dense/BiasAdd', 'BiasAdd', ['dense/MatMul', 'dense/bias/read'], { T: type(DT_FLOAT) }),
    node('dense/Softmax', 'Softmax', ['dense/BiasAdd'], { T: type(DT_FLOAT) }),
  ];
  await write(dir, nodes, {
    serving_default: signature({ images: { name: 'images:0', dtype: DT_UINT8, dims: [-1, 2, 2, 3] } }, { probs: { name: 'dense/Softmax:0', dtype: DT_FLOAT, dims: [-1, 2] } }),
  });
}

/**
 * What tf.saved_model.save writes for a module whose __call__ is no tf.function: variables, and no
 * signature to run.
 */
export async function writeSignaturelessModel(dir: string): Promise<void> {
  await write(dir, dense('x'), {});
}
