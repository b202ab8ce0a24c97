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
import { assertOnnxCheck, checkOnnxFixture, maxRelative, ONNX_FIXTURES, readNpy } from './support/onnx-check.js';
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


/**
 * From scripts/make-onnx-op-references.py (PyTorch 1.13, float32): F.interpolate(mode='bicubic') — ONNX
 * Resize cubic, cubic_coeff_a −0.75 — up 3×4 → 5×7, down 6×7 → 4×3, and with align_corners 3×4 → 6×5;
 * F.conv_transpose2d with groups=2 and with dilation (2, 3). ONNX_CUBIC_ASYMMETRIC_EXCLUDE: onnx 1.12's
 * own reference (backend/test/case/node/resize.py, float64; PyTorch has no such bicubic) for asymmetric,
 * cubic_coeff_a −0.5, exclude_outside 1, 3×4 → 6×8. Each: input x, output y, ∇ of Σ y·linspace(−1, 1).
 */
const TORCH_CUBIC_UP = { x: [0.29552022, 0.8835445, 1.0908313, 0.77678263, 0.049896795, -0.76482236, -1.2707891, -1.1926638, -0.52342731, 0.45173499, 1.2756549, 1.5335053, 1.0607507, 0.040879451, -1.06262, -1.7166384, -1.5758139, -0.6627242, 0.62220144, 1.6753656, 1.9735439, 1.3330901, 0.016722687, -1.3719294, -2.164943, -1.9512049, -0.78770542, 0.80679005, 2.0823457, 2.4105713, 1.5935565, -0.022570839, -1.692502, -2.6153262, -2.3185089, -0.89824659], y: [0.24739772, 0.5483923, 0.98770052, 1.280391, 1.3101619, 1.1026465, 0.93095523, 0.24994203, 0.22265619, 0.16888672, 0.082192719, -0.026455382, -0.13423611, -0.2009923, 0.13073035, -0.1965972, -0.69483584, -1.10151, -1.2896903, -1.2504001, -1.1849123, -0.33649081, -0.27321246, -0.16110401, -0.01412367, 0.14182845, 0.27600923, 0.35541776, -0.69226706, -0.24615809, 0.45894262, 1.1260587, 1.579809, 1.7599981, 1.8225125, 1.4334607, 0.98508096, 0.23895948, -0.59429967, -1.3327234, -1.8455373, -2.123421, -0.20211127, -0.2722826, -0.36726061, -0.40264761, -0.35429126, -0.24324727, -0.16286185, -1.6664081, -1.3437052, -0.77432048, -0.033393141, 0.74181163, 1.3955266, 1.7798567, 0.39649117, 0.44945249, 0.50848818, 0.47986177, 0.3485024, 0.1547987, 0.023063159, 2.3926244, 2.1415453, 1.6422063, 0.81978041, -0.20660843, -1.2077314, -1.8255047, -2.5927999, -2.5868437, -2.4440625, -1.852493, -0.84491497, 0.32131612, 1.0751895, -0.27975634, -0.14591052, 0.068560302, 0.28090599, 0.43988356, 0.52306062, 0.56095964, 2.0497811, 2.244431, 2.4295306, 2.1843467, 1.4633491, 0.47786921, -0.18291734, 0.12052412, -0.051201902, -0.31383637, -0.53146833, -0.64138758, -0.63903219, -0.617109, -1.9514129, -2.4350867, -3.0567899, -3.1541915, -2.5774779, -1.5407516, -0.81247723], grad: [-2.7098074, -2.6986866, -2.5939183, -2.4157448, -2.1580472, -2.1233513, -2.0126922, -1.8474482, -1.3764961, -1.3219196, -1.2171519, -1.0824332, -0.81368685, -0.74076658, -0.63599956, -0.5196237, -0.15529995, -0.05532914, 0.055329125, 0.15529999, 0.51962364, 0.63599998, 0.74076647, 0.81368732, 1.082433, 1.2171528, 1.3219191, 1.376497, 1.8474469, 2.0126929, 2.1233504, 2.1580477, 2.4157434, 2.5939202, 2.6986852, 2.7098083] };
const TORCH_CUBIC_DOWN = { x: [0.29552022, 0.8835445, 1.0908313, 0.77678263, 0.049896795, -0.76482236, -1.2707891, -1.1926638, -0.52342731, 0.45173499, 1.2756549, 1.5335053, 1.0607507, 0.040879451, -1.06262, -1.7166384, -1.5758139, -0.6627242, 0.62220144, 1.6753656, 1.9735439, 1.3330901, 0.016722687, -1.3719294, -2.164943, -1.9512049, -0.78770542, 0.80679005, 2.0823457, 2.4105713, 1.5935565, -0.022570839, -1.692502, -2.6153262, -2.3185089, -0.89824659, 1.0053633, 2.4962611, 2.8442135, 1.8419125, -0.076989897, -2.0240834], y: [0.35554838, 0.95795447, -0.67122751, -1.6475316, -0.047584709, 1.8898535, 1.2946781, -1.9387841, -0.9915601, 0.79297775, 2.2700253, -1.3799078], grad: [-0.23845866, -0.6031605, 0.084161967, -0.62322444, 0.054332409, -0.38938224, -0.15394153, -0.1198442, -0.30313551, 0.042298, -0.28551134, 0.021149, -0.15156782, -0.059922047, -0.11772008, -0.29776275, 0.041548308, -0.23970169, 0.011718753, -0.08398439, -0.033203065, 0.033203095, 0.083984353, -0.011718753, 0.23970167, -0.041548312, 0.29776287, 0.11771998, 0.059922099, 0.15156774, -0.021149, 0.28551134, -0.042298, 0.30313563, 0.1198441, 0.15394168, 0.38938206, -0.054332409, 0.62322444, -0.084161967, 0.60316074, 0.23845842] };
const TORCH_CUBIC_CORNERS = { x: [0.29552022, 0.8835445, 1.0908313, 0.77678263, 0.049896795, -0.76482236, -1.2707891, -1.1926638, -0.52342731, 0.45173499, 1.2756549, 1.5335053], y: [0.29552022, 0.72845799, 1.0717572, 1.0415419, 0.77678263, 0.24149767, 0.19309336, 0.08219292, -0.065854453, -0.1836468, 0.14816563, -0.37032989, -0.91413033, -1.1550381, -1.1077534, -0.07458818, -0.52932912, -0.95243168, -1.0518329, -0.90192449, -0.31866243, -0.20674299, -0.014124038, 0.19367567, 0.33395159, -0.52342731, 0.14390196, 0.93094295, 1.420972, 1.5335053], grad: [-1.6792297, -1.8364066, -1.6164496, -1.181708, -0.42381462, -0.18737073, 0.1873707, 0.42381459, 1.1817081, 1.6164496, 1.8364066, 1.6792299] };
const ONNX_CUBIC_ASYMMETRIC_EXCLUDE = { x: [0.29552022, 0.8835445, 1.0908313, 0.77678263, 0.049896795, -0.76482236, -1.2707891, -1.1926638, -0.52342731, 0.45173499, 1.2756549, 1.5335053], y: [0.29552022, 0.56004419, 0.8835445, 1.0435675, 1.0908313, 0.93676357, 0.77678263, 0.73752655, 0.21365767, 0.14233833, 0.036280252, -0.069346866, -0.17031034, -0.2566165, -0.31037857, -0.3278871, 0.049896795, -0.3037377, -0.76482236, -1.0736085, -1.2707891, -1.2591914, -1.1926638, -1.1828981, -0.26807617, -0.25356606, -0.21772535, -0.14878246, -0.061590552, 0.051540127, 0.13475242, 0.15929529, -0.52342731, -0.11299328, 0.45173499, 0.90852694, 1.2756549, 1.4606298, 1.5335053, 1.5657366, -0.59509282, -0.089150228, 0.60380466, 1.1562939, 1.5939604, 1.8006075, 1.8742765, 1.909316], grad: [-1.9595772, -2.5000782, -2.1136301, -2.4780286, -1.0644745, -1.1915118, -0.81220609, -0.58637578, 1.8004911, 2.8763522, 3.1102855, 4.9187536] };
const TORCH_CONVT_GROUPED = { x: [0.29552022, 0.8835445, 1.0908313, 0.77678263, 0.049896795, -0.76482236, -1.2707891, -1.1926638, -0.52342731, 0.45173499, 1.2756549, 1.5335053, 1.0607507, 0.040879451, -1.06262, -1.7166384, -1.5758139, -0.6627242, 0.62220144, 1.6753656, 1.9735439, 1.3330901, 0.016722687, -1.3719294, -2.164943, -1.9512049, -0.78770542], k: [1.5409961, -0.2934289, -2.1787894, 0.56843126, -1.0845224, -1.3985955, 0.40334684, 0.83802634, -0.71925759, -0.40334353, -0.59663534, 0.18203649], w: [0.46809641, -0.15771244, 1.4436601, 0.26604941, 0.16645534, 0.87438184, -0.14347385, -0.11160933, 0.93182659, 1.2590092, 2.0049806, 0.053736903, 0.61805665, -0.41280222, -0.84106481, -2.3160419, -0.21586326, -0.74254817, 0.56272137, 0.2596274, -0.173961, -0.67874622, 0.93826073, 0.48886982, 1.2032237, 0.084534697, -1.2001394, -0.004785738, -0.51807481, -0.30670419, -1.5809939, 1.7066433, 0.20552567, -0.45032975, -0.57307708, -0.55535841, 0.59432304, 1.5419426, 0.50733441, -0.59103316, -1.325326, 0.18855357, -0.069072686, -0.49492535, -1.4959149, -0.19383712, 0.44551218, 1.3252748, 1.5091219, 2.0819554, 1.7067116, 2.3803675, -1.1256016, -0.31699809, -1.0924683, -0.085194297, 0.32761431, -0.7607072, -1.599082, 0.018486667, -0.75042683, 0.18540798, 0.62113833, 0.63818157, -0.0033038729, -0.5344407, 1.1686878, 0.39450276, 1.941462, 0.79149806, -0.020251827, -0.43716955, -1.5352871, -0.41267914, 0.96630329, 1.6247832, -0.3656188, -1.3024404, 0.099403463, 0.44182202, 0.073246047, 1.1133184, 0.28226724, 0.43422565, -0.80249292, -1.2951862, -0.7501815, -1.3119657, 0.20641631, -0.33344787, -0.42883, 0.23291829, 0.61036462, 0.46688354, 1.9506571, -1.0630985, 1.1403507, -0.089882068, 0.72979623, -1.845319, -0.10209263, -1.0335484, -0.31263882, 0.24578547, 0.37718192, 1.1012348, -1.1427778, 0.037585396], b: [0.76795745, 0.057112999, 0.22395839, 0.55196428, -0.578798, 0.017722117], y: [-1.438519, 4.0091338, -5.1782217, 2.9731636, -6.2336731, -2.6971369, 3.2179697, 0.19010729, 2.928911, 3.2642, 1.5894281, 2.2757528, -3.9598048, -1.4562902, 0.70552123, -2.8188224, 5.6207333, 3.1655712, -0.20549226, 5.0893784, -1.6141698, 2.8325131, -1.9429142, 2.4083281, 8.4230194, -0.70244241, 7.6636295, 1.9413209, 3.5507686, 2.0463612, -1.9843142, -0.61222482, -1.7077768, 0.51530844, -0.22800338, 0.95104522, 2.0634327, 0.96079975, 5.4298053, 2.0399976, 6.3645234, 1.9211783, -7.1453958, 7.5962286, 2.2241755, 18.449028, 10.922471, 9.476903, 4.300941, 1.3106652, 0.097529411, -0.22074217, -4.3131719, -1.2308156, 14.733175, 13.487174, 11.63401, -0.64544153, 2.8560412, -4.6308174, -6.8125796, -2.3459156, -6.1132398, -1.8703048, -2.4169879, -0.58436668, -2.7095971, -15.519329, -2.4245801, -10.365275, -0.93493903, -3.0408504, -3.227066, -5.3740721, -8.98773, -10.237576, -10.573705, -7.7674031, -0.19204019, -12.073643, 3.618083, -7.6775041, 5.9710665, 8.2375689, -7.0276885, -5.233573, 0.16871573, 2.7088916, 7.7042794, 5.7611947, 5.653398, 9.247695, 2.6924226, 13.840579, -1.5991113, -1.3327496, 11.960967, 12.653535, 10.750335, 9.5958891, 4.4304838, 3.3628538, -4.190927, 7.3980079, -3.7652066, 0.53424776, -1.3968714, -1.5838767, 0.82839066, 1.2439044, 1.2518783, 1.732089, 1.3528343, 1.3045444, 0.28510264, 1.2574165, 0.40979919, 3.0356746, 0.61672425, 1.3050755, 1.0739143, 1.0852925, 0.53794718, 0.18937677, -0.0059053302, 0.028359056, 0.8079834, 2.9493523, 0.88609308, 0.90899539, 0.80337131, 0.32475376, -0.29796314, -0.86510599, -0.19199425, -0.47469401, 0.27183926, 0.20083311, 0.7147789, -1.1735803, 0.69818252, -0.50842834, 0.61049235, 0.27334267, -1.0962943, -0.31020048, -2.0767539, 0.6051473, -2.4004357, 1.0730329, -0.71972406, -2.0685589, -0.52003193, -2.6420698, -0.33344135, -0.9027921, -1.8550975, 0.67183262, -0.64298522, -0.37706855, 0.68878144, -1.7272708, -0.25304252, -1.0156713, -0.32631028, 0.53171009, -0.5282321, 0.40907604, 1.4947293, -2.5261834, 1.3436024, -2.5026639, 0.24574184, -1.4593315, -0.6735245, 1.3278537, -0.66655219, 0.74317032, -0.61637634, -0.15339649, -0.068349086, 0.4604916, -0.26255533, 0.23206328, -0.33873671, -0.75587028, 0.32607383, 0.11204317, 1.0303503, -1.9314731, 1.3074304, -0.91836768, -0.24419002, -0.48288167, -0.0079570804, -0.61447823, 0.26558018, 0.55541778, 0.97517514, -2.949918, 0.13932659, -1.2732308, -0.83246338, -0.64365989, 0.44263038, -0.018409802, 0.42533523, 0.46881077, 0.20465566, 0.45281798, -1.4621797, 1.1661972, -1.3764737, 0.51876765, -0.59987563, 0.020484399], grad: [-0.81514615, 1.3860708, 1.389787, -4.861237, -4.5855441, -4.3894377, -4.0466886, -3.4088907, -3.2127812, -0.27729812, -1.0171398, -0.99288803, 1.991909, 2.0386066, 1.944397, 1.5844145, 1.4733423, 1.3791311, 0.95327961, -3.6358733, -3.6541915, 7.4275427, 6.2840056, 5.966258, 6.1037903, 4.3775024, 4.0597506] };
const TORCH_CONVT_DILATED = { x: [0.29552022, 0.8835445, 1.0908313, 0.77678263, 0.049896795, -0.76482236, -1.2707891, -1.1926638, -0.52342731, 0.45173499, 1.2756549, 1.5335053, 1.0607507, 0.040879451, -1.06262, -1.7166384, -1.5758139, -0.6627242, 0.62220144, 1.6753656, 1.9735439, 1.3330901, 0.016722687, -1.3719294, -2.164943, -1.9512049, -0.78770542, 0.80679005, 2.0823457, 2.4105713, 1.5935565, -0.022570839, -1.692502, -2.6153262, -2.3185089, -0.89824659], w: [0.96714568, -0.99108273, 0.30160543, -0.10731693, 0.9984566, -0.49871477, 0.7611109, 0.61830086, 0.31404856, 0.213333, -0.12005083, 0.36045972, -0.314035, -1.0787081, 0.24081051, -1.3962272, -0.066144049, -0.35835508, -1.5615617, -0.35464329, 1.0810726, 0.13147806, 1.5735383, 0.78142995, -1.078658, -0.72090983, 1.4707927, 0.275635, 0.66678107, -0.99438965, -1.189364, -1.1959494, -0.5596301, 0.53347182, 0.40688661, 0.39458653, 0.17151096, 0.87604475, -0.49465504, -1.283043, 0.43864921, -0.010704049, 1.3383542, -0.27940503, -0.55183399, -2.8890612, -1.0618885, -0.11442617, 0.19539291, -0.73710948, 1.7001015, 0.34621555, 0.97112471, 1.4502501], y: [0.70862949, 2.3336282, -1.9273318, 3.1048012, -3.7735374, 2.4348245, -0.81751704, 1.2216144, 0.37985465, -0.79758573, 1.4508045, -2.5474436, -2.1395288, -2.8842788, -0.49889275, -3.0979218, 1.4626427, -1.8264186, 2.9617088, 3.1918988, 0.62123299, 3.094563, -2.1480343, 1.4741008, -0.74906862, -1.2785619, 0.40924227, -0.16224718, 1.4355282, 1.1029106, 1.4014953, 1.8213438, 0.28298771, 0.84442413, -1.0216601, -0.59830296, 3.3589365, 0.58505309, 0.49438906, -0.6686517, -2.7451036, -1.679529, -3.1800184, 5.3365884, -2.9357464, 5.8859129, -1.2812477, 3.6400301, -2.5451565, -6.4397287, -0.36333883, -7.3101201, 2.1020164, -4.7034831, 5.5389409, 4.6215053, 1.7016103, 8.5207539, -3.1351418, 8.5150566, -2.9098322, 1.346684, -1.1247479, 0.10748595, 1.28425, -1.2591236, 3.6118329, -1.9574796, 2.3200047, -0.86351693, -0.14503747, 0.70849144, 1.4994098, 0.2958529, -0.029582083, -0.15925026, -1.6224914, -0.54793662, -5.3657632, -1.1443437, -1.3553312, -2.0411751, 3.4940028, -2.049706, 4.2849193, -0.1893791, 2.0549858, 1.5488985, -1.2631638, 2.6579514, -7.020246, -1.6293691, -4.9133463, -3.9552529, -0.35641617, -4.5274572, 2.1219001, 2.3802466, 1.8847626, 3.5085073, 0.73865241, 3.0119617, -2.0272708, -1.4882445, -2.329134, -3.4287393, -1.5319614, -3.8129568], grad: [-0.53356111, -1.5341423, -1.5385571, -0.80901951, -0.34525943, -2.5376539, -2.5434618, -1.8408353, -0.70843434, -2.5550773, -2.5608859, -1.495084, -0.16931382, -2.41992, -2.2045312, -1.945684, 0.090986013, -0.2211068, -0.23379573, -0.20857856, -0.037906379, -0.25917402, -0.27186313, -0.11775342, 2.8674238, 4.471839, 4.4157915, 1.7727804, 1.5447994, 2.7145562, 2.7170057, 1.4708691, 1.2485857, 2.7219038, 2.7243531, 1.7744305] };
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

  it('bicubic_groups (a torch export: Conv, MaxPool, grouped dilated ConvTranspose2d, tanh, bicubic interpolate, Linear): logits and input gradient ≤ 1e-5 of the largest, batch 2', async () => {
    const dir = join(ONNX_FIXTURES, 'bicubic_groups');
    const ref = JSON.parse(await readFile(join(dir, 'reference.json'), 'utf8')) as { input_shape: [number, number, number, number]; input: number[]; logits: number[]; grad: number[] };
    const before = tf.memory().numTensors;
    const model = await loadModel(dir);
    const f = model.buildForward().forward;
    const [y, grad] = tf.tidy(() => {
      const x = tf.transpose(tf.tensor4d(ref.input, ref.input_shape), [0, 2, 3, 1]) as tf.Tensor4D;
      const w = tf.linspace(-1, 1, 5);
      const g = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(f(z as tf.Tensor4D), w)))(x);
      return [f(x).dataSync(), tf.transpose(g, [0, 3, 1, 2]).dataSync()];
    });
    model.dispose();
    assert.equal(tf.memory().numTensors, before);
    assert.ok(maxRelative(y as Float32Array, ref.logits) <= 1e-5, `logits: ${maxRelative(y as Float32Array, ref.logits)}`);
    assert.ok(maxRelative(grad as Float32Array, ref.grad) <= 1e-5, `gradient: ${maxRelative(grad as Float32Array, ref.grad)}`);
  });

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

  /** Resize of x (NCHW `dims`) to `out`: sizes [1, C, h, w] (torch's form), or scales where `scales` is given. */
  const cubic = (attrs: TinyModel['nodes'][number]['attrs'], to: { out?: number[]; scales?: number[]; opset?: number }): TinyModel => ({
    opset: to.opset ?? 17,
    nodes: [
      { op: 'Resize', inputs: to.scales === undefined ? ['x', 'roi', '', 'sizes'] : ['x', 'roi', 'scales'], outputs: ['r'], attrs: { mode: 'cubic', ...attrs } },
      { op: 'Flatten', inputs: ['r'], outputs: ['y'] },
    ],
    initializers: [
      { name: 'roi', dims: [0], values: [] },
      to.scales === undefined ? { name: 'sizes', dims: [4], values: to.out ?? [], int64: true } : { name: 'scales', dims: [4], values: to.scales },
    ],
    output: 'y',
  });

  it('Resize cubic as PyTorch\'s bicubic (cubic_coeff_a −0.75): half_pixel up (opset 11), pytorch_half_pixel down, align_corners; values and gradient', async () => {
    const cases = [
      { name: 'cubic-up', ref: TORCH_CUBIC_UP, dims: [1, 3, 3, 4], model: cubic({ coordinate_transformation_mode: 'half_pixel', cubic_coeff_a: -0.75 }, { out: [1, 3, 5, 7], opset: 11 }) },
      // pytorch_half_pixel is half_pixel for outputs longer than 1.
      { name: 'cubic-down', ref: TORCH_CUBIC_DOWN, dims: [1, 1, 6, 7], model: cubic({ coordinate_transformation_mode: 'pytorch_half_pixel', cubic_coeff_a: -0.75 }, { out: [1, 1, 4, 3] }) },
      { name: 'cubic-corners', ref: TORCH_CUBIC_CORNERS, dims: [1, 1, 3, 4], model: cubic({ coordinate_transformation_mode: 'align_corners', cubic_coeff_a: -0.75 }, { out: [1, 1, 6, 5] }) },
    ] as const;
    for (const c of cases) {
      const r = await runOne(dir, c.name, c.model, [...c.ref.x], [...c.dims]);
      close(r.y, [...c.ref.y], 1e-5, `${c.name} y`);
      close(r.grad, [...c.ref.grad], 1e-5, `${c.name} grad`);
    }
  });

  it('Resize cubic asymmetric, cubic_coeff_a −0.5, exclude_outside 1, scales ×2 (the ONNX reference; the default a is −0.75): values and gradient', async () => {
    const attrs = { coordinate_transformation_mode: 'asymmetric', cubic_coeff_a: -0.5, exclude_outside: 1 };
    const r = await runOne(dir, 'cubic-asym', cubic(attrs, { scales: [1, 1, 2, 2] }), ONNX_CUBIC_ASYMMETRIC_EXCLUDE.x, [1, 1, 3, 4]);
    close(r.y, ONNX_CUBIC_ASYMMETRIC_EXCLUDE.y, 1e-5, 'y');
    close(r.grad, ONNX_CUBIC_ASYMMETRIC_EXCLUDE.grad, 1e-5, 'grad');
  });

  it('Resize-18 with antialias 1 or axes: E_UNSUPPORTED_OP (the antialiased kernel and axes are not implemented)', async () => {
    const cases: [string, Record<string, number | number[]>][] = [['antialias', { antialias: 1 }], ['axes', { axes: [2, 3] }]];
    for (const [name, attrs] of cases) {
      await mkdir(join(dir, `cubic-${name}`), { recursive: true });
      const path = join(dir, `cubic-${name}`, 'model.onnx');
      await writeFile(path, encodeModel({ ...cubic(attrs, { out: [1, 1, 2, 2] }), opset: 18, input: { name: 'x', dims: ['batch', 1, 6, 7] } }));
      await rejects(loadModel(path), 'E_UNSUPPORTED_OP');
    }
  });

  it('ConvTranspose with group 2 after a 1×1 Conv 3 → 4 (stride 2, pads, output_padding, bias): values and gradient', async () => {
    const model: TinyModel = {
      nodes: [
        { op: 'Conv', inputs: ['x', 'k'], outputs: ['c'], attrs: { kernel_shape: [1, 1] } },
        { op: 'ConvTranspose', inputs: ['c', 'w', 'b'], outputs: ['t'], attrs: { group: 2, strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1], kernel_shape: [3, 3] } },
        { op: 'Flatten', inputs: ['t'], outputs: ['y'] },
      ],
      initializers: [
        { name: 'k', dims: [4, 3, 1, 1], values: TORCH_CONVT_GROUPED.k },
        { name: 'w', dims: [4, 3, 3, 3], values: TORCH_CONVT_GROUPED.w },
        { name: 'b', dims: [6], values: TORCH_CONVT_GROUPED.b },
      ],
      output: 'y',
    };
    const r = await runOne(dir, 'convt-grouped', model, TORCH_CONVT_GROUPED.x, [1, 3, 3, 3]);
    close(r.y, TORCH_CONVT_GROUPED.y, 1e-5, 'y');
    close(r.grad, TORCH_CONVT_GROUPED.grad, 1e-5, 'grad');
  });

  it('ConvTranspose with dilations [2, 3] (strides [1, 2], pads [1, 2, 1, 2], output_padding [1, 0]): values and gradient', async () => {
    const model: TinyModel = {
      nodes: [
        { op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['t'], attrs: { dilations: [2, 3], strides: [1, 2], pads: [1, 2, 1, 2], output_padding: [1, 0], kernel_shape: [3, 2] } },
        { op: 'Flatten', inputs: ['t'], outputs: ['y'] },
      ],
      initializers: [{ name: 'w', dims: [3, 3, 3, 2], values: TORCH_CONVT_DILATED.w }],
      output: 'y',
    };
    const r = await runOne(dir, 'convt-dilated', model, TORCH_CONVT_DILATED.x, [1, 3, 3, 4]);
    close(r.y, TORCH_CONVT_DILATED.y, 1e-5, 'y');
    close(r.grad, TORCH_CONVT_DILATED.grad, 1e-5, 'grad');
  });

  it('MaxPool with an Indices output nothing reads: the pooled values and gradient; read by a node or as a graph output: E_UNSUPPORTED_OP naming the node', async () => {
    const pool = (outputs: string[], rest: TinyModel['nodes'], output: string): TinyModel => ({
      nodes: [{ op: 'MaxPool', inputs: ['x'], outputs, name: '/pool/MaxPool', attrs: { kernel_shape: [2, 2], strides: [2, 2] } }, ...rest],
      output,
    });
    const flatten = [{ op: 'Flatten', inputs: ['p'], outputs: ['y'] }];
    const x = TORCH_CONVT_DILATED.x; // [1, 3, 3, 4] → [1, 3, 1, 2]: the top 2×2 windows of each channel
    const withIndices = await runOne(dir, 'pool-indices', pool(['p', 'idx'], flatten, 'y'), x, [1, 3, 3, 4]);
    const without = await runOne(dir, 'pool-plain', pool(['p'], flatten, 'y'), x, [1, 3, 3, 4]);
    const maxima = [0, 12, 24].flatMap((c) => [0, 2].map((j) => Math.max(...[0, 1, 4, 5].map((i) => x[c + j + i] as number))));
    close(withIndices.y, maxima, 1e-7, 'y');
    assert.deepEqual(withIndices, without);
    const readers: [string, TinyModel][] = [
      ['pool-read', pool(['p', 'idx'], [{ op: 'Cast', inputs: ['idx'], outputs: ['f'], attrs: { to: 1 } }, { op: 'Add', inputs: ['p', 'f'], outputs: ['s'] }, { op: 'Flatten', inputs: ['s'], outputs: ['y'] }], 'y')],
      ['pool-output', pool(['p', 'idx'], [], 'idx')],
    ];
    for (const [name, model] of readers) {
      await mkdir(join(dir, name), { recursive: true });
      await writeFile(join(dir, name, 'model.onnx'), encodeModel({ ...model, input: { name: 'x', dims: ['batch', 3, 3, 4] } }));
      await assert.rejects(loadModel(join(dir, name, 'model.onnx')), (err: unknown) => {
        assert.ok(isIgxError(err) && err.code === 'E_UNSUPPORTED_OP', String(err));
        assert.ok(err.message.includes("node '/pool/MaxPool'") && err.message.includes("'idx'"), err.message);
        return true;
      });
    }
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
          { op: 'Resize', inputs: ['x', '', 'scales'], outputs: ['r'], name: '/up/Resize', attrs: { mode: 'cubic', coordinate_transformation_mode: 'tf_crop_and_resize' } },
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
