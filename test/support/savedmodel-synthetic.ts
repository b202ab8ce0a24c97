/**
 * Writes small SavedModels for tests: saved_model.pb from plain objects (through igx's own schema) and a
 * TensorBundle checkpoint (LevelDB table with prefix-compressed keys, restart points and masked CRCs;
 * data shard with per-tensor CRCs). The nested model mimics what TF 2.16+ / Keras 3 exports look like:
 * a signature wrapper calling the model function calling a layer function, resources passed through
 * Identity, multi-output ops referenced as "node:arg:i", default attrs stripped without OpDefs.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32cExtend, maskCrc } from '../../src/savedmodel/crc32c.js';
import { protoType } from '../../src/savedmodel/proto.js';

export const DT_FLOAT = 1;
export const DT_INT32 = 3;
export const DT_STRING = 7;
export const DT_INT64 = 9;
export const DT_RESOURCE = 20;

export interface BundleTensor {
  key: string;
  dtype: number;
  shape: number[];
  /** Raw little-endian bytes (fixed-size dtypes) or the strings (DT_STRING). */
  bytes?: Uint8Array;
  strings?: Uint8Array[];
}

export function floatBytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

/** One table block: entries with keys prefix-compressed against the previous one, a restart every `interval`. */
function block(entries: { key: Uint8Array; value: Uint8Array }[], interval: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const restarts: number[] = [];
  let size = 0;
  let last: Uint8Array = new Uint8Array(0);
  entries.forEach(({ key, value }, i) => {
    let shared = 0;
    if (i % interval === 0) restarts.push(size);
    else while (shared < last.length && shared < key.length && last[shared] === key[shared]) shared++;
    const head = Uint8Array.from([...varint(shared), ...varint(key.length - shared), ...varint(value.length)]);
    const part = concat([head, key.subarray(shared), value]);
    parts.push(part);
    size += part.length;
    last = key;
  });
  if (restarts.length === 0) restarts.push(0);
  return concat([...parts, ...restarts.map(u32), u32(restarts.length)]);
}

/** A block plus its trailer (type 0 = uncompressed, masked CRC-32C of contents and type). */
function withTrailer(contents: Uint8Array): Uint8Array {
  const type = Uint8Array.of(0);
  const crc = maskCrc(crc32cExtend(crc32cExtend(0, contents), type));
  return concat([contents, type, u32(crc)]);
}

/** A LevelDB table holding sorted key/value entries (one data block). */
export function encodeTable(entries: { key: string; value: Uint8Array }[]): Uint8Array {
  const enc = new TextEncoder();
  const sorted = entries.map((e) => ({ key: enc.encode(e.key), value: e.value })).sort((a, b) => Buffer.compare(a.key, b.key));
  const data = withTrailer(block(sorted, 3));
  const meta = withTrailer(block([], 16));
  const lastKey = sorted[sorted.length - 1]?.key ?? new Uint8Array(0);
  const dataHandle = Uint8Array.from([...varint(0), ...varint(data.length - 5)]);
  const index = withTrailer(block([{ key: lastKey, value: dataHandle }], 1));
  const metaOffset = data.length;
  const indexOffset = metaOffset + meta.length;
  const footer = new Uint8Array(48);
  footer.set([...varint(metaOffset), ...varint(meta.length - 5), ...varint(indexOffset), ...varint(index.length - 5)], 0);
  footer.set([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb], 40);
  return concat([data, meta, index, footer]);
}

/** Writes PREFIX.index and PREFIX.data-00000-of-00001. */
export async function writeTensorBundle(prefix: string, tensors: BundleTensor[]): Promise<void> {
  const Entry = protoType('BundleEntryProto');
  const Header = protoType('BundleHeaderProto');
  const data: Uint8Array[] = [];
  let offset = 0;
  const entries: { key: string; value: Uint8Array }[] = [{ key: '', value: Header.encode(Header.fromObject({ numShards: 1 })).finish() }];
  for (const t of [...tensors].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    let bytes: Uint8Array;
    let crc: number;
    if (t.strings !== undefined) {
      const lengths = Uint8Array.from(t.strings.flatMap((s) => varint(s.length)));
      let c = 0;
      for (const s of t.strings) c = crc32cExtend(c, u32(s.length));
      const lengthCrc = u32(maskCrc(c));
      c = crc32cExtend(c, lengthCrc);
      for (const s of t.strings) c = crc32cExtend(c, s);
      bytes = concat([lengths, lengthCrc, ...t.strings]);
      crc = c;
    } else {
      bytes = t.bytes ?? new Uint8Array(0);
      crc = crc32cExtend(0, bytes);
    }
    const entry = {
      dtype: t.dtype,
      shape: { dim: t.shape.map((size) => ({ size })) },
      shardId: 0,
      offset,
      size: bytes.length,
      crc32c: maskCrc(crc),
    };
    entries.push({ key: t.key, value: Entry.encode(Entry.fromObject(entry)).finish() });
    data.push(bytes);
    offset += bytes.length;
  }
  await writeFile(`${prefix}.index`, encodeTable(entries));
  await writeFile(`${prefix}.data-00000-of-00001`, concat(data));
}

type Attr = Record<string, unknown>;
export const type = (t: number): Attr => ({ type: t });
export const str = (v: string): Attr => ({ s: new TextEncoder().encode(v) });
export const int = (v: number): Attr => ({ i: v });
export const bool = (v: boolean): Attr => ({ b: v });
export const float = (v: number): Attr => ({ f: v });
export const types = (ts: number[]): Attr => ({ list: { type: ts } });
export const func = (name: string): Attr => ({ func: { name } });
export const shape = (dims: number[]): Attr => ({ shape: { dim: dims.map((size) => ({ size })) } });

export function node(name: string, op: string, input: string[] = [], attr: Record<string, Attr> = {}): Attr {
  return { name, op, input, attr };
}

export function constNode(name: string, dims: number[], values: number[], dtype = DT_FLOAT): Attr {
  const tensor: Attr = { dtype, tensorShape: { dim: dims.map((size) => ({ size })) } };
  if (dtype === DT_FLOAT) tensor.floatVal = values;
  else tensor.intVal = values;
  return node(name, 'Const', [], { dtype: type(dtype), value: { tensor } });
}

export function fn(name: string, inputs: [string, number][], outputs: [string, number][], nodes: Attr[], ret: Record<string, string>): Attr {
  return {
    signature: {
      name,
      inputArg: inputs.map(([n, t]) => ({ name: n, type: t })),
      outputArg: outputs.map(([n, t]) => ({ name: n, type: t })),
    },
    nodeDef: nodes,
    ret,
  };
}

/** OpDefs for the ops the synthetic graphs use at the top level (what TF 2.0-2.2 strip lists hold). */
const TOP_OPS = [
  { name: 'Placeholder', outputArg: [{ name: 'output', typeAttr: 'dtype' }], attr: [{ name: 'dtype', type: 'type' }] },
  { name: 'VarHandleOp', outputArg: [{ name: 'resource', type: DT_RESOURCE }], attr: [{ name: 'dtype', type: 'type' }] },
  {
    name: 'StatefulPartitionedCall',
    inputArg: [{ name: 'args', typeListAttr: 'Tin' }],
    outputArg: [{ name: 'output', typeListAttr: 'Tout' }],
    attr: [
      { name: 'Tin', type: 'list(type)' },
      { name: 'Tout', type: 'list(type)' },
      { name: 'f', type: 'func' },
    ],
  },
  { name: 'Const', outputArg: [{ name: 'output', typeAttr: 'dtype' }], attr: [{ name: 'value', type: 'tensor' }, { name: 'dtype', type: 'type' }] },
];

export interface Variable {
  /** Top-level VarHandleOp name. */
  node: string;
  /** Path of child names from the root object, e.g. ["layer", "kernel"]. */
  path: string[];
  shape: number[];
  values: number[];
}

export interface NestedModelOptions {
  /** Write the SavedObjectGraph and the checkpoint's object graph (TF2's way to find variables). */
  objectGraph: boolean;
  /** Write a saver restore function (the fallback way). */
  restoreFunction: boolean;
}

export const NESTED_KERNEL = [0.5, -1, 0.25, 2, 1, 0, -0.5, 0.75, 1.5, -0.25, 0.3, 0.1, -1, 0.2, 0.4, 0.6, -0.3, 0.9, 0.7, -0.6, 0.05, 1.1, -0.8, 0.35];
export const NESTED_BIAS = [0.1, -0.2, 0.3, 0.05, 0, -0.1];

/**
 * serving_default: x [-1,4] → probs [-1,3] = softmax(h[:, 3:6] − h[:, 0:3]) with h = x·K + b, K [4,6],
 * b [6]; built from three nested functions as Keras 3 exports are.
 */
export async function writeNestedModel(dir: string, options: NestedModelOptions): Promise<void> {
  await mkdir(join(dir, 'variables'), { recursive: true });
  const variables: Variable[] = [
    { node: 'dense/kernel', path: ['layers', '0', 'kernel'], shape: [4, 6], values: NESTED_KERNEL },
    { node: 'dense/bias', path: ['layers', '0', 'bias'], shape: [6], values: NESTED_BIAS },
  ];
  const layer = fn(
    '__inference_dense_call_11',
    [
      ['inputs', DT_FLOAT],
      ['matmul_readvariableop_resource', DT_RESOURCE],
      ['biasadd_readvariableop_resource', DT_RESOURCE],
    ],
    [['identity', DT_FLOAT]],
    [
      node('MatMul/ReadVariableOp', 'ReadVariableOp', ['matmul_readvariableop_resource'], { dtype: type(DT_FLOAT) }),
      // No transpose_a/transpose_b: stripped defaults, and MatMul is not in the top-level OpDef list.
      node('MatMul', 'MatMul', ['inputs', 'MatMul/ReadVariableOp:value:0'], { T: type(DT_FLOAT) }),
      node('BiasAdd/ReadVariableOp', 'ReadVariableOp', ['biasadd_readvariableop_resource'], { dtype: type(DT_FLOAT) }),
      node('BiasAdd', 'BiasAdd', ['MatMul:product:0', 'BiasAdd/ReadVariableOp:value:0'], { T: type(DT_FLOAT) }),
      constNode('split/split_dim', [], [1], DT_INT32),
      node('split', 'Split', ['split/split_dim:output:0', 'BiasAdd:output:0'], { T: type(DT_FLOAT), num_split: int(2) }),
      node('IdentityN', 'IdentityN', ['split:output:1', 'split:output:0', '^MatMul/ReadVariableOp'], { T: types([DT_FLOAT, DT_FLOAT]) }),
      node('sub', 'Sub', ['IdentityN:output:0', 'IdentityN:output:1'], { T: type(DT_FLOAT) }),
      node('Identity', 'Identity', ['sub:z:0', '^NoOp'], { T: type(DT_FLOAT) }),
      node('NoOp', 'NoOp', ['^BiasAdd/ReadVariableOp', '^MatMul/ReadVariableOp']),
    ],
    { identity: 'Identity:output:0' },
  );
  const model = fn(
    '__inference_serve_22',
    [
      ['keras_tensor', DT_FLOAT],
      ['kernel_handle', DT_RESOURCE],
      ['bias_handle', DT_RESOURCE],
    ],
    [['identity', DT_FLOAT]],
    [
      node('kernel_id', 'Identity', ['kernel_handle'], { T: type(DT_RESOURCE) }),
      node('sequential/dense/StatefulPartitionedCall', 'StatefulPartitionedCall', ['keras_tensor', 'kernel_id:output:0', 'bias_handle'], {
        Tin: types([DT_FLOAT, DT_RESOURCE, DT_RESOURCE]),
        Tout: types([DT_FLOAT]),
        f: func('__inference_dense_call_11'),
      }),
      node('sequential/softmax/Softmax', 'Softmax', ['sequential/dense/StatefulPartitionedCall:output:0'], { T: type(DT_FLOAT) }),
      node('Identity', 'Identity', ['sequential/softmax/Softmax:softmax:0'], { T: type(DT_FLOAT) }),
      // A training-only branch that must drop out: an assignment to the kernel.
      node('AssignVariableOp', 'AssignVariableOp', ['kernel_handle', 'sequential/softmax/Softmax:softmax:0'], { dtype: type(DT_FLOAT) }),
    ],
    { identity: 'Identity:output:0' },
  );
  const wrapper = fn(
    '__inference_signature_wrapper_33',
    [
      ['keras_tensor', DT_FLOAT],
      ['unknown', DT_RESOURCE],
      ['unknown_0', DT_RESOURCE],
    ],
    [['identity', DT_FLOAT]],
    [
      node('StatefulPartitionedCall', 'StatefulPartitionedCall', ['keras_tensor', 'unknown', 'unknown_0'], {
        Tin: types([DT_FLOAT, DT_RESOURCE, DT_RESOURCE]),
        Tout: types([DT_FLOAT]),
        f: func('__inference_serve_22'),
      }),
      node('Identity', 'Identity', ['StatefulPartitionedCall:output:0', '^NoOp'], { T: type(DT_FLOAT) }),
      node('NoOp', 'NoOp', ['^StatefulPartitionedCall']),
    ],
    { identity: 'Identity:output:0' },
  );
  const functions = [layer, model, wrapper];
  const top: Attr[] = [
    // Names the object graph gives no clue about: only bound_inputs or the restore ops link them.
    node('dense/kernel', 'VarHandleOp', [], { dtype: type(DT_FLOAT), shape: shape([4, 6]), shared_name: str('dense/kernel') }),
    node('dense/bias', 'VarHandleOp', [], { dtype: type(DT_FLOAT), shape: shape([6]), shared_name: str('dense/bias') }),
    node('serving_default_keras_tensor', 'Placeholder', [], { dtype: type(DT_FLOAT), shape: shape([-1, 4]) }),
    node('StatefulPartitionedCall', 'StatefulPartitionedCall', ['serving_default_keras_tensor', 'dense/kernel', 'dense/bias'], {
      Tin: types([DT_FLOAT, DT_RESOURCE, DT_RESOURCE]),
      Tout: types([DT_FLOAT]),
      f: func('__inference_signature_wrapper_33'),
    }),
  ];
  const key = (v: Variable): string => `${v.path.join('/')}/.ATTRIBUTES/VARIABLE_VALUE`;
  if (options.restoreFunction) {
    const names = variables.map(key);
    functions.push(
      fn(
        '__inference__traced_restore_44',
        [
          ['file_prefix', DT_STRING],
          ['assignvariableop_kernel', DT_RESOURCE],
          ['assignvariableop_1_bias', DT_RESOURCE],
        ],
        [['identity_2', DT_STRING]],
        [
          node('RestoreV2/tensor_names', 'Const', [], {
            dtype: type(DT_STRING),
            value: { tensor: { dtype: DT_STRING, tensorShape: { dim: [{ size: 2 }] }, stringVal: names.map((n) => new TextEncoder().encode(n)) } },
          }),
          node('RestoreV2', 'RestoreV2', ['file_prefix', 'RestoreV2/tensor_names:output:0', 'RestoreV2/tensor_names:output:0'], { dtypes: types([DT_FLOAT, DT_FLOAT]) }),
          node('Identity', 'Identity', ['RestoreV2:tensors:0'], { T: type(DT_FLOAT) }),
          node('AssignVariableOp', 'AssignVariableOp', ['assignvariableop_kernel', 'Identity:output:0'], { dtype: type(DT_FLOAT) }),
          node('Identity_1', 'Identity', ['RestoreV2:tensors:1'], { T: type(DT_FLOAT) }),
          node('AssignVariableOp_1', 'AssignVariableOp', ['assignvariableop_1_bias', 'Identity_1:output:0'], { dtype: type(DT_FLOAT) }),
          node('Identity_2', 'Identity', ['file_prefix', '^AssignVariableOp', '^AssignVariableOp_1'], { T: type(DT_STRING) }),
        ],
        { identity_2: 'Identity_2:output:0' },
      ),
    );
    top.push(
      node('saver_filename', 'Placeholder', [], { dtype: type(DT_STRING), shape: shape([]) }),
      node('StatefulPartitionedCall_1', 'StatefulPartitionedCall', ['saver_filename', 'dense/kernel', 'dense/bias'], {
        Tin: types([DT_STRING, DT_RESOURCE, DT_RESOURCE]),
        Tout: types([DT_STRING]),
        f: func('__inference__traced_restore_44'),
      }),
    );
  }
  const metaGraph: Attr = {
    metaInfoDef: { tags: ['serve'], tensorflowVersion: '2.16.1', strippedOpList: { op: TOP_OPS }, strippedDefaultAttrs: true },
    graphDef: { node: top, library: { function: functions }, versions: { producer: 1645 } },
    signatureDef: {
      serving_default: {
        inputs: { keras_tensor: { name: 'serving_default_keras_tensor:0', dtype: DT_FLOAT, tensorShape: { dim: [{ size: -1 }, { size: 4 }] } } },
        outputs: { output_0: { name: 'StatefulPartitionedCall:0', dtype: DT_FLOAT, tensorShape: { dim: [{ size: -1 }, { size: 3 }] } } },
        methodName: 'tensorflow/serving/predict',
      },
    },
  };
  if (options.restoreFunction) metaGraph.saverDef = { filenameTensorName: 'saver_filename:0', restoreOpName: 'StatefulPartitionedCall_1', version: 2 };
  const tensors: BundleTensor[] = variables.map((v) => ({ key: key(v), dtype: DT_FLOAT, shape: v.shape, bytes: floatBytes(v.values) }));
  // A variable no signature reads (an optimizer's step count): must not be needed.
  tensors.push({ key: 'optimizer/iterations/.ATTRIBUTES/VARIABLE_VALUE', dtype: DT_INT64, shape: [], bytes: new Uint8Array(8) });
  if (options.objectGraph) {
    // SavedObjectGraph: 0 root → layers(1) → 0(2) → kernel(3), bias(4); signatures(5) → serving_default(6).
    metaGraph.objectGraphDef = {
      nodes: [
        { children: [{ nodeId: 1, localName: 'layers' }, { nodeId: 5, localName: 'signatures' }], userObject: { identifier: '_generic_user_object' } },
        { children: [{ nodeId: 2, localName: '0' }], userObject: { identifier: 'trackable_list_wrapper' } },
        { children: [{ nodeId: 3, localName: 'kernel' }, { nodeId: 4, localName: 'bias' }], userObject: { identifier: '_generic_user_object' } },
        { variable: { dtype: DT_FLOAT, shape: { dim: [{ size: 4 }, { size: 6 }] }, name: 'kernel' } },
        { variable: { dtype: DT_FLOAT, shape: { dim: [{ size: 6 }] }, name: 'bias' } },
        { children: [{ nodeId: 6, localName: 'serving_default' }], userObject: { identifier: 'signature_map' } },
        { bareConcreteFunction: { concreteFunctionName: '__inference_signature_wrapper_33', argumentKeywords: ['keras_tensor'] } },
      ],
      concreteFunctions: {
        __inference_signature_wrapper_33: { boundInputs: [3, 4] },
        __inference_serve_22: { boundInputs: [3, 4] },
      },
    };
    // The checkpoint's graph numbers its nodes differently: matching must go by child names.
    const graph = {
      nodes: [
        { children: [{ nodeId: 1, localName: 'layers' }] },
        { children: [{ nodeId: 2, localName: '0' }] },
        { children: [{ nodeId: 4, localName: 'bias' }, { nodeId: 3, localName: 'kernel' }] },
        { attributes: [{ name: 'VARIABLE_VALUE', fullName: 'kernel', checkpointKey: key(variables[0] as Variable) }] },
        { attributes: [{ name: 'VARIABLE_VALUE', fullName: 'bias', checkpointKey: key(variables[1] as Variable) }] },
      ],
    };
    const G = protoType('TrackableObjectGraph');
    tensors.push({ key: '_CHECKPOINTABLE_OBJECT_GRAPH', dtype: DT_STRING, shape: [], strings: [G.encode(G.fromObject(graph)).finish()] });
  }
  const SM = protoType('SavedModel');
  await writeFile(join(dir, 'saved_model.pb'), SM.encode(SM.fromObject({ savedModelSchemaVersion: 1, metaGraphs: [metaGraph] })).finish());
  await writeTensorBundle(join(dir, 'variables', 'variables'), tensors);
}

/**
 * Two batch norms tfjs's FusedBatchNormV3 would get wrong, as Keras 2 exports them: training mode in
 * NCHW (its fused LayerNormalization) and inference in NCHW. x [-1,2,3,1] → y [-1,2,3,1].
 */
export async function writeBatchNormModel(dir: string, gamma: number[], beta: number[], mean: number[], variance: number[]): Promise<void> {
  await mkdir(join(dir, 'variables'), { recursive: true });
  const body = fn(
    '__inference_call_5',
    [['x', DT_FLOAT]],
    [['identity', DT_FLOAT]],
    [
      constNode('ones', [2], [1, 1]),
      constNode('zeros', [2], [0, 0]),
      constNode('empty', [0], []),
      // Layer norm over each row of 3: [1, rows, 3, 1] in NCHW with the batch's own moments.
      node('ln', 'FusedBatchNormV3', ['x', 'ones:output:0', 'zeros:output:0', 'empty:output:0', 'empty:output:0'], {
        T: type(DT_FLOAT),
        U: type(DT_FLOAT),
        epsilon: float(0.001),
        data_format: str('NCHW'),
      }),
      constNode('gamma', [2], gamma),
      constNode('beta', [2], beta),
      constNode('mean', [2], mean),
      constNode('variance', [2], variance),
      node('bn', 'FusedBatchNormV3', ['ln:y:0', 'gamma:output:0', 'beta:output:0', 'mean:output:0', 'variance:output:0'], {
        T: type(DT_FLOAT),
        U: type(DT_FLOAT),
        epsilon: float(0.01),
        data_format: str('NCHW'),
        is_training: bool(false),
      }),
      node('Identity', 'Identity', ['bn:y:0'], { T: type(DT_FLOAT) }),
    ],
    { identity: 'Identity:output:0' },
  );
  const metaGraph = {
    metaInfoDef: { tags: ['serve'], tensorflowVersion: '2.10.0', strippedOpList: { op: TOP_OPS } },
    graphDef: {
      node: [
        node('serving_default_x', 'Placeholder', [], { dtype: type(DT_FLOAT), shape: shape([1, 2, 3, 1]) }),
        node('PartitionedCall', 'PartitionedCall', ['serving_default_x'], { Tin: types([DT_FLOAT]), Tout: types([DT_FLOAT]), f: func('__inference_call_5') }),
      ],
      library: { function: [body] },
    },
    signatureDef: {
      serving_default: {
        inputs: { x: { name: 'serving_default_x:0', dtype: DT_FLOAT, tensorShape: { dim: [{ size: 1 }, { size: 2 }, { size: 3 }, { size: 1 }] } } },
        outputs: { y: { name: 'PartitionedCall:0', dtype: DT_FLOAT, tensorShape: { dim: [{ size: 1 }, { size: 2 }, { size: 3 }, { size: 1 }] } } },
        methodName: 'tensorflow/serving/predict',
      },
    },
  };
  const SM = protoType('SavedModel');
  await writeFile(join(dir, 'saved_model.pb'), SM.encode(SM.fromObject({ savedModelSchemaVersion: 1, metaGraphs: [metaGraph] })).finish());
  await writeTensorBundle(join(dir, 'variables', 'variables'), []);
}

/**
 * TF2's functional tf.cond, as a tf.function traces it: an If (or StatelessIf) in the serving function
 * with then_branch x·0.5 and else_branch x·2. cond: a bool Const, or 'input' to feed it from a second
 * signature input (then the If stays). x [-1, 3] → y [-1, 3].
 */
export async function writeTf2IfModel(dir: string, cond: boolean | 'input', op: 'If' | 'StatelessIf' = 'StatelessIf'): Promise<void> {
  const DT_BOOL = 10;
  await mkdir(join(dir, 'variables'), { recursive: true });
  const branch = (name: string, factor: number): Attr =>
    fn(name, [['x', DT_FLOAT]], [['y', DT_FLOAT]], [constNode('k', [], [factor]), node('mul', 'Mul', ['x', 'k:output:0'], { T: type(DT_FLOAT) })], { y: 'mul:z:0' });
  const condNodes =
    cond === 'input' ? [] : [node('pred', 'Const', [], { dtype: type(DT_BOOL), value: { tensor: { dtype: DT_BOOL, tensorShape: {}, boolVal: [cond] } } })];
  const inputs: [string, number][] = cond === 'input' ? [['x', DT_FLOAT], ['c', DT_BOOL]] : [['x', DT_FLOAT]];
  const body = fn(
    '__inference_serve_7',
    inputs,
    [['identity', DT_FLOAT]],
    [
      ...condNodes,
      node('cond', op, [cond === 'input' ? 'c' : 'pred:output:0', 'x'], {
        Tcond: type(DT_BOOL),
        Tin: types([DT_FLOAT]),
        Tout: types([DT_FLOAT]),
        then_branch: func('cond_true_3'),
        else_branch: func('cond_false_4'),
      }),
      node('Identity', 'Identity', ['cond:output:0'], { T: type(DT_FLOAT) }),
    ],
    { identity: 'Identity:output:0' },
  );
  const placeholders = [node('serving_default_x', 'Placeholder', [], { dtype: type(DT_FLOAT), shape: shape([-1, 3]) })];
  if (cond === 'input') placeholders.push(node('serving_default_c', 'Placeholder', [], { dtype: type(DT_BOOL), shape: shape([]) }));
  const spec = (name: string, dtype: number, dims: number[]): Attr => ({ name, dtype, tensorShape: { dim: dims.map((size) => ({ size })) } });
  const metaGraph = {
    metaInfoDef: { tags: ['serve'], tensorflowVersion: '2.12.0', strippedOpList: { op: TOP_OPS } },
    graphDef: {
      node: [
        ...placeholders,
        node('PartitionedCall', 'PartitionedCall', placeholders.map((p) => p.name as string), {
          Tin: types(inputs.map(([, t]) => t)),
          Tout: types([DT_FLOAT]),
          f: func('__inference_serve_7'),
        }),
      ],
      library: { function: [body, branch('cond_true_3', 0.5), branch('cond_false_4', 2)] },
    },
    signatureDef: {
      serving_default: {
        inputs: { x: spec('serving_default_x:0', DT_FLOAT, [-1, 3]), ...(cond === 'input' ? { c: spec('serving_default_c:0', DT_BOOL, []) } : {}) },
        outputs: { y: spec('PartitionedCall:0', DT_FLOAT, [-1, 3]) },
        methodName: 'tensorflow/serving/predict',
      },
    },
  };
  const SM = protoType('SavedModel');
  await writeFile(join(dir, 'saved_model.pb'), SM.encode(SM.fromObject({ savedModelSchemaVersion: 1, metaGraphs: [metaGraph] })).finish());
  await writeTensorBundle(join(dir, 'variables', 'variables'), []);
}
