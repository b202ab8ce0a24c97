/**
 * Fallback OpDef facts for SavedModels whose stripped_op_list omits ops used only inside functions
 * (TF 2.0–2.2 list only the top-level graph's ops) while their nodes still drop default-valued attrs.
 * Defaults are those of TensorFlow's op registrations (tensorflow/core/ops/*.cc) for the attrs that
 * tfjs-converter reads; output args are listed for ops with more than one.
 */
import type { AttrValueMsg } from './messages.js';
import { DT } from './tensor-value.js';

const s = (v: string): AttrValueMsg => ({ value: 's', s: new TextEncoder().encode(v) });
const b = (v: boolean): AttrValueMsg => ({ value: 'b', b: v });
const f = (v: number): AttrValueMsg => ({ value: 'f', f: v });
const i = (v: number): AttrValueMsg => ({ value: 'i', i: v });
const type = (v: number): AttrValueMsg => ({ value: 'type', type: v });
const ints = (v: number[]): AttrValueMsg => ({
  value: 'list',
  list: { s: [], i: v, f: [], b: [], type: [], shape: [], tensor: [], func: [] },
});

const NHWC = { data_format: s('NHWC') };
const CONV = { ...NHWC, dilations: ints([1, 1, 1, 1]), explicit_paddings: ints([]) };
const KEEP_DIMS = { keep_dims: b(false), Tidx: type(DT.INT32) };
const FUSED_BN = { epsilon: f(0.0001), exponential_avg_factor: f(1), ...NHWC, is_training: b(true) };
const RESIZE = { align_corners: b(false), half_pixel_centers: b(false) };

export const DEFAULT_ATTRS: Readonly<Record<string, Record<string, AttrValueMsg>>> = {
  Conv2D: { ...CONV, use_cudnn_on_gpu: b(true) },
  Conv2DBackpropInput: { ...CONV, use_cudnn_on_gpu: b(true) },
  DepthwiseConv2dNative: CONV,
  Conv3D: { data_format: s('NDHWC'), dilations: ints([1, 1, 1, 1, 1]) },
  MaxPool: { ...NHWC, explicit_paddings: ints([]) },
  AvgPool: NHWC,
  MaxPool3D: { data_format: s('NDHWC') },
  AvgPool3D: { data_format: s('NDHWC') },
  BiasAdd: NHWC,
  DepthToSpace: NHWC,
  SpaceToDepth: NHWC,
  FusedBatchNorm: FUSED_BN,
  FusedBatchNormV2: FUSED_BN,
  FusedBatchNormV3: FUSED_BN,
  MatMul: { transpose_a: b(false), transpose_b: b(false) },
  BatchMatMul: { adj_x: b(false), adj_y: b(false) },
  BatchMatMulV2: { adj_x: b(false), adj_y: b(false) },
  BatchMatMulV3: { adj_x: b(false), adj_y: b(false) },
  Mean: KEEP_DIMS,
  Sum: KEEP_DIMS,
  Max: KEEP_DIMS,
  Min: KEEP_DIMS,
  Prod: KEEP_DIMS,
  All: KEEP_DIMS,
  Any: KEEP_DIMS,
  Squeeze: { squeeze_dims: ints([]) },
  ResizeBilinear: RESIZE,
  ResizeNearestNeighbor: RESIZE,
  Cast: { Truncate: b(false) },
  LeakyRelu: { alpha: f(0.2) },
  ArgMax: { output_type: type(DT.INT64) },
  ArgMin: { output_type: type(DT.INT64) },
  Pack: { axis: i(0) },
  Unpack: { axis: i(0) },
  Shape: { out_type: type(DT.INT32) },
  StridedSlice: { begin_mask: i(0), end_mask: i(0), ellipsis_mask: i(0), new_axis_mask: i(0), shrink_axis_mask: i(0) },
  Cumsum: { exclusive: b(false), reverse: b(false) },
  Cumprod: { exclusive: b(false), reverse: b(false) },
  TopKV2: { sorted: b(true) },
  OneHot: { axis: i(-1) },
  GatherV2: { batch_dims: i(0) },
  LRN: { depth_radius: i(5), bias: f(1), alpha: f(1), beta: f(0.5) },
  CropAndResize: { method: s('bilinear'), extrapolation_value: f(0) },
};

/** Output args (in order) of ops with several, for "node:arg:i" references when the OpDef is missing. */
export const OUTPUT_ARGS: Readonly<Record<string, readonly string[]>> = {
  FusedBatchNorm: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2'],
  FusedBatchNormV2: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2'],
  FusedBatchNormV3: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2', 'reserve_space_3'],
  Unique: ['y', 'idx'],
  TopKV2: ['values', 'indices'],
  MaxPoolWithArgmax: ['output', 'argmax'],
  Switch: ['output_false', 'output_true'],
};
