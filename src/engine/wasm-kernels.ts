/**
 * igx's kernels for the 'igx-wasm' backend: input gradients of convolutions expressed through the wasm
 * backend's forward (XNNPACK) convolutions, no-op weight gradients, the kernels tfjs-backend-wasm 4.22
 * lacks, and one-pass element-wise gradients. They work at the kernel level only (see wasm-heap.ts).
 */
import {
  backend_util,
  getKernel,
  util,
  type KernelFunc,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { IgxError } from '../errors.js';
import { allocate, derived, f32, free, i32, zeros, type BackendWasm } from './wasm-heap.js';
import { simdFor, type SimdLoops } from './wasm-simd.js';

type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];
type Pair = number | [number, number];
interface KernelArgs {
  inputs: NamedTensorInfoMap;
  backend: object;
  attrs?: NamedAttrMap;
}

/** Kernel names igx registers on igx-wasm only (used by igx's gradient overrides). */
export const IGX_MASKED_GRAD = 'IgxMaskedGrad';
export const IGX_LEAKY_RELU_GRAD = 'IgxLeakyReluGrad';
export const IGX_BATCH_NORM_INPUT_GRAD = 'IgxBatchNormInputGrad';

function input(args: KernelArgs, name: string): TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new IgxError('E_UNSUPPORTED_OP', `igx-wasm kernel called without input '${name}'`);
  return t;
}

/** A kernel function of the plain wasm backend, looked up when first needed. */
function wasmKernel(name: string): KernelFunc {
  const k = getKernel(name, 'wasm');
  if (k === undefined) throw new IgxError('E_BACKEND', `the wasm backend has no '${name}' kernel`);
  return k.kernelFunc;
}

function single(out: TensorInfo | TensorInfo[]): TensorInfo {
  return Array.isArray(out) ? (out[0] as TensorInfo) : out;
}

/**
 * Identity by reference, as the cpu backend and wasm's own Reshape do. wasm's Identity copies, and the
 * engine clones (Identity) every tensor a gradient saves: a copy of each saved activation per step,
 * and a new dataId for each saved filter, which defeats XNNPACK's operator cache (weights repacked on
 * every backward conv) and igx's flipped-filter cache.
 */
function identity(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = input(args, 'x');
  if (x.dtype === 'string') return single(wasmKernel('Identity')(args));
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

// ---------------------------------------------------------------------------------------------------
// Input gradients of convolutions via forward convolutions.
//
// dx of a conv with stride s, dilation d and forward padding p is a stride-1 conv, dilation d, of dy
// "dilated" by s (s-1 zeros between rows/columns) and padded by effK-1-p in front, with the filter
// flipped spatially (and, for Conv2D, its in/out channels swapped). XNNPACK runs that conv far faster
// than any backprop loop.

/**
 * dy arranged as the input of the stride-1 conv that yields dx: dy itself with explicit padding when
 * the forward stride is 1 (no copy), else a zero buffer of exactly the conv's padded input size with
 * dy's pixels scattered in (which also crops, should a forward pad exceed the filter).
 */
function arrangeDy(
  backend: BackendWasm,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
): { x: TensorInfo; pad: ExplicitPad | 'valid'; temporary: boolean } {
  const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight: sh, strideWidth: sw } = info;
  const top = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const left = info.effectiveFilterWidth - 1 - info.padInfo.left;
  const bh = inHeight + info.effectiveFilterHeight - 1; // the padded input of a VALID conv giving dx
  const bw = inWidth + info.effectiveFilterWidth - 1;
  const bottom = bh - top - ((outHeight - 1) * sh + 1);
  const right = bw - left - ((outWidth - 1) * sw + 1);
  if (sh === 1 && sw === 1 && top >= 0 && left >= 0 && bottom >= 0 && right >= 0) {
    return { x: dy, pad: [[0, 0], [top, bottom], [left, right], [0, 0]], temporary: false };
  }
  const c = dy.shape[3] as number;
  const buf = allocate(backend, [batchSize, bh, bw, c]);
  const b = f32(backend, buf);
  const d = f32(backend, dy);
  b.fill(0);
  for (let n = 0, src = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const r = top + oh * sh;
      for (let ow = 0; ow < outWidth; ow++, src += c) {
        const col = left + ow * sw;
        if (r < 0 || r >= bh || col < 0 || col >= bw) continue;
        const dst = ((n * bh + r) * bw + col) * c;
        if (c >= 16) b.set(d.subarray(src, src + c), dst);
        else for (let k = 0; k < c; k++) b[dst + k] = d[src + k] as number;
      }
    }
  }
  return { x: buf, pad: 'valid', temporary: true };
}

/** Filter [kh, kw, in, out] flipped spatially with in/out swapped: [kh, kw, out, in]. */
function flipConvFilter(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const out = allocate(backend, [kh, kw, co, ci]);
  const f = f32(backend, filter);
  const g = f32(backend, out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const srcBase = ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
      const dstBase = (i * kw + j) * co * ci;
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) g[dstBase + o * ci + c] = f[srcBase + c * co + o] as number;
      }
    }
  }
  return out;
}

/** Depthwise filter [kh, kw, C, m] flipped spatially, as a multiplier-1 filter [kh, kw, C*m, 1]. */
function flipDepthwiseFilter(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  const [kh, kw, c, m] = filter.shape as [number, number, number, number];
  const out = allocate(backend, [kh, kw, c * m, 1]);
  const f = f32(backend, filter);
  const g = f32(backend, out);
  const plane = c * m; // channel index c*m+q is the same in both layouts
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const src = ((kh - 1 - i) * kw + (kw - 1 - j)) * plane;
      g.set(f.subarray(src, src + plane), (i * kw + j) * plane);
    }
  }
  return out;
}

function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const dy = input(args, 'dy');
  const filter = input(args, 'filter');
  const attrs = args.attrs as unknown as {
    strides: Pair;
    pad: 'valid' | 'same' | number | ExplicitPad;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: [number, number, number, number];
    dilations?: Pair; // only igx's own Conv2D gradient passes it
  };
  const dilations = attrs.dilations ?? 1;
  const dataFormat = backend_util.convertConv2DDataFormat(attrs.dataFormat);
  if (dataFormat !== 'channelsLast') {
    // XNNPACK convolutions are NHWC only; wasm's own loop handles NCHW (without dilation).
    if (backend_util.tupleValuesAreOne(dilations)) return single(wasmKernel('Conv2DBackpropInput')(args));
    throw new IgxError('E_UNSUPPORTED_OP', 'igx-wasm: no input gradient for a dilated NCHW Conv2D');
  }
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    dataFormat,
  );
  if (info.inChannels <= COL2IM_MAX_IN_CHANNELS) return viaColumns(backend, dy, filter, info);
  const flipped = derived(backend, filter, 'conv-backprop-input', () => flipConvFilter(backend, filter));
  const arranged = arrangeDy(backend, dy, info);
  try {
    return single(
      wasmKernel('Conv2D')({
        backend,
        inputs: { x: arranged.x, filter: flipped },
        attrs: { strides: 1, pad: arranged.pad, dataFormat: 'NHWC', dilations, dimRoundingMode: undefined },
      } as unknown as KernelArgs),
    );
  } finally {
    if (arranged.temporary) free(backend, arranged.x);
  }
}

/**
 * Convolutions with very few input channels (a network's first layer: the image's 1-3 channels) are
 * the worst case for the flipped convolution: XNNPACK is slow with 1-4 output channels, and a strided
 * layer's dilated dy is mostly zeros. Instead: one 1x1 conv (a GEMM) turns dy into the per-tap
 * contributions [N, outH, outW, kh*kw*inC], which a short loop adds into dx (col2im).
 */
const COL2IM_MAX_IN_CHANNELS = 4;

/** Filter [kh, kw, in, out] as the 1x1 filter [1, 1, out, kh*kw*in] (a 2-D transpose). */
function columnFilter(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const taps = kh * kw * ci;
  const out = allocate(backend, [1, 1, co, taps]);
  const f = f32(backend, filter);
  const g = f32(backend, out);
  for (let t = 0; t < taps; t++) {
    for (let o = 0; o < co; o++) g[o * taps + t] = f[t * co + o] as number;
  }
  return out;
}

function viaColumns(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const columns = single(
    wasmKernel('Conv2D')({
      backend,
      inputs: { x: dy, filter: derived(backend, filter, 'conv-columns', () => columnFilter(backend, filter)) },
      attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined },
    } as unknown as KernelArgs),
  );
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, filterHeight, filterWidth } = info;
  const out = allocate(backend, [batchSize, inHeight, inWidth, c]);
  const dx = f32(backend, out);
  const cols = f32(backend, columns);
  dx.fill(0);
  const taps = filterHeight * filterWidth * c;
  for (let n = 0, row = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = oh * info.strideHeight - info.padInfo.top;
      for (let ow = 0; ow < outWidth; ow++, row += taps) {
        const w0 = ow * info.strideWidth - info.padInfo.left;
        for (let i = 0; i < filterHeight; i++) {
          const h = h0 + i * info.dilationHeight;
          if (h < 0 || h >= inHeight) continue;
          for (let j = 0; j < filterWidth; j++) {
            const w = w0 + j * info.dilationWidth;
            if (w < 0 || w >= inWidth) continue;
            const dst = ((n * inHeight + h) * inWidth + w) * c;
            const src = row + (i * filterWidth + j) * c;
            for (let k = 0; k < c; k++) dx[dst + k] = (dx[dst + k] as number) + (cols[src + k] as number);
          }
        }
      }
    }
  }
  free(backend, columns);
  return out;
}

function depthwiseConv2dNativeBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const dy = input(args, 'dy');
  const filter = input(args, 'filter');
  const attrs = args.attrs as unknown as {
    strides: Pair;
    dilations: Pair;
    pad: 'valid' | 'same' | number | ExplicitPad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: [number, number, number, number];
  };
  const info = backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  const multiplier = filter.shape[3] as number;
  const flipped = derived(backend, filter, 'depthwise-backprop-input', () => flipDepthwiseFilter(backend, filter));
  const arranged = arrangeDy(backend, dy, info);
  let perProduct: TensorInfo;
  try {
    perProduct = single(
      wasmKernel('DepthwiseConv2dNative')({
        backend,
        inputs: { x: arranged.x, filter: flipped },
        attrs: { strides: 1, dilations: attrs.dilations, pad: arranged.pad, dimRoundingMode: undefined },
      } as unknown as KernelArgs),
    );
  } finally {
    if (arranged.temporary) free(backend, arranged.x);
  }
  if (multiplier === 1) return perProduct;
  // Channel multiplier m > 1: output channel c*m+q came from input channel c, so sum each group of m.
  const out = allocate(backend, attrs.inputShape);
  const src = f32(backend, perProduct);
  const dst = f32(backend, out);
  for (let p = 0, s = 0; p < dst.length; p++) {
    let acc = 0;
    for (let q = 0; q < multiplier; q++) acc += src[s++] as number;
    dst[p] = acc;
  }
  free(backend, perProduct);
  return out;
}

/**
 * Weight gradients on igx-wasm: zeros, without computing anything. igx differentiates only w.r.t. the
 * input, but tfjs-core's fused-convolution gradients compute the filter gradient eagerly whether or
 * not anyone uses it; returning zeros makes that free. This is why igx-wasm is for input gradients
 * only and must not be used to train.
 */
function zeroFilterGradient(args: KernelArgs): TensorInfo {
  const { filterShape } = args.attrs as unknown as { filterShape: number[] };
  return zeros(args.backend as BackendWasm, filterShape);
}

/** Missing from tfjs-backend-wasm 4.22; GatherV2's gradient needs it. Out-of-range ids are dropped. */
function unsortedSegmentSum(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = input(args, 'x');
  const segmentIds = input(args, 'segmentIds');
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = util.sizeFromShape(innerShape);
  const count = util.sizeFromShape(segmentIds.shape);
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new IgxError('E_UNSUPPORTED_OP', `igx-wasm: UnsortedSegmentSum of ${x.dtype} is not supported`);
  }
  const out = allocate(backend, [numSegments, ...innerShape], x.dtype);
  const view = (t: TensorInfo): Float32Array | Int32Array => (x.dtype === 'int32' ? i32 : f32)(backend, t);
  const o = view(out);
  const xs = view(x);
  const ids = i32(backend, segmentIds);
  o.fill(0);
  for (let i = 0; i < count; i++) {
    const s = ids[i] as number;
    if (s < 0 || s >= numSegments) continue;
    const dst = s * inner;
    const src = i * inner;
    for (let k = 0; k < inner; k++) o[dst + k] = (o[dst + k] as number) + (xs[src + k] as number);
  }
  return out;
}

/**
 * MaxPoolGrad. tfjs-backend-wasm 4.22's own drops the gradient of every window whose values are all
 * negative (after LeakyReLU or tanh that is most of them), so igx-wasm routes dy to the first position
 * of each window that holds the window's maximum (the forward output), as the cpu backend does.
 * Branch-free: which position wins is data-dependent, and a mispredicted branch per window and
 * channel costs more than the arithmetic.
 */
function maxPoolGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const dyInfo = input(args, 'dy');
  const xInfo = input(args, 'input');
  const yInfo = input(args, 'output');
  const attrs = args.attrs as unknown as {
    filterSize: Pair;
    strides: Pair;
    pad: 'valid' | 'same' | number | ExplicitPad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = backend_util.computePool2DInfo(
    xInfo.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { filterHeight, filterWidth, dilationHeight, dilationWidth } = info;
  const out = allocate(backend, xInfo.shape);
  const dx = f32(backend, out);
  const x = f32(backend, xInfo);
  const y = f32(backend, yInfo);
  const dy = f32(backend, dyInfo);
  dx.fill(0);
  const open = new Float32Array(c); // 1 while a channel's window has not yet routed its dy
  for (let b = 0, o = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const h0 = oh * strideHeight - info.padInfo.top;
      for (let ow = 0; ow < outWidth; ow++, o += c) {
        const w0 = ow * strideWidth - info.padInfo.left;
        open.fill(1);
        for (let i = 0; i < filterHeight; i++) {
          const h = h0 + i * dilationHeight;
          if (h < 0 || h >= inHeight) continue;
          for (let j = 0; j < filterWidth; j++) {
            const w = w0 + j * dilationWidth;
            if (w < 0 || w >= inWidth) continue;
            const base = ((b * inHeight + h) * inWidth + w) * c;
            for (let k = 0; k < c; k++) {
              const hit = +((x[base + k] as number) === (y[o + k] as number)) * (open[k] as number);
              dx[base + k] = (dx[base + k] as number) + hit * (dy[o + k] as number);
              open[k] = (open[k] as number) - hit;
            }
          }
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// One-pass element-wise gradients: tfjs-core's chain 2-5 kernels, each a full pass over an activation.
// Each uses the SIMD loops of wasm-simd.ts on the bulk (multiples of 4 floats) and a JavaScript loop
// on the rest, or on everything where SIMD is unavailable. The JavaScript loops are branch-free:
// activations fall on either side of a kink at random, and a data-dependent branch per element costs
// 4-5x more than multiplying by a 0/1 mask.

interface GradOperands {
  backend: BackendWasm;
  out: TensorInfo;
  dy: TensorInfo;
  x: TensorInfo;
  /** Elements handled by SIMD (a multiple of 4), 0 without SIMD. */
  bulk: number;
}

function gradOperands(args: KernelArgs): GradOperands & { simd: SimdLoops | undefined } {
  const backend = args.backend as BackendWasm;
  const dy = input(args, 'dy');
  const x = input(args, 'x');
  const out = allocate(backend, dy.shape);
  const simd = simdFor(backend);
  const size = util.sizeFromShape(dy.shape);
  return { backend, out, dy, x, simd, bulk: simd === undefined ? 0 : size - (size % 4) };
}

const offset = (backend: BackendWasm, t: TensorInfo): number => backend.getMemoryOffset(t.dataId);

/**
 * dy where lo <= x <= hi, else 0 (as dy * 0, like tfjs's mul by a cast mask). With propagateNaN, NaN
 * where x is NaN, as tfjs's step(x) gives for Relu and Relu6.
 */
function maskedGrad(args: KernelArgs): TensorInfo {
  const { lo, hi, propagateNaN } = args.attrs as unknown as { lo: number; hi: number; propagateNaN: boolean };
  const { backend, out, dy, x, simd, bulk } = gradOperands(args);
  let nan = false;
  if (simd !== undefined && bulk > 0) {
    nan = simd.masked(offset(backend, out), offset(backend, dy), offset(backend, x), bulk * 4, lo, hi);
  }
  const o = f32(backend, out);
  const g = f32(backend, dy);
  const v = f32(backend, x);
  let rest = 0;
  for (let i = bulk; i < o.length; i++) {
    const xi = v[i] as number;
    o[i] = (g[i] as number) * (+(xi >= lo) & +(xi <= hi));
    rest |= +(xi !== xi);
  }
  if (propagateNaN && (nan || rest !== 0)) {
    for (let i = 0; i < o.length; i++) if ((v[i] as number) !== (v[i] as number)) o[i] = NaN;
  }
  return out;
}

/** LeakyRelu: dy where x > 0, else alpha * dy (NaN x counts as not > 0, as in tfjs). */
function leakyReluGrad(args: KernelArgs): TensorInfo {
  const { alpha } = args.attrs as unknown as { alpha: number };
  const { backend, out, dy, x, simd, bulk } = gradOperands(args);
  if (simd !== undefined && bulk > 0) {
    simd.leaky(offset(backend, out), offset(backend, dy), offset(backend, x), bulk * 4, alpha);
  }
  const o = f32(backend, out);
  const g = f32(backend, dy);
  const v = f32(backend, x);
  const rest = 1 - alpha;
  for (let i = bulk; i < o.length; i++) o[i] = (g[i] as number) * (alpha + rest * +((v[i] as number) > 0));
  return out;
}

/**
 * Batch norm's input gradient in inference mode: dy * scale / sqrt(variance + eps), with variance and
 * scale per channel (last axis) or scalar. The per-channel factor is computed once, then one pass.
 */
function batchNormInputGrad(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const dyInfo = input(args, 'dy');
  const varianceInfo = input(args, 'variance');
  const scaleInfo = args.inputs.scale;
  const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
  const channels = dyInfo.shape[dyInfo.shape.length - 1] ?? 1;
  const out = allocate(backend, dyInfo.shape);
  const factorInfo = allocate(backend, [channels]);
  const factor = f32(backend, factorInfo);
  const variance = f32(backend, varianceInfo);
  const scale = scaleInfo === undefined ? undefined : f32(backend, scaleInfo);
  for (let c = 0; c < channels; c++) {
    const v = variance.length === 1 ? (variance[0] as number) : (variance[c] as number);
    const s = scale === undefined ? 1 : scale.length === 1 ? (scale[0] as number) : (scale[c] as number);
    factor[c] = s / Math.sqrt(v + varianceEpsilon);
  }
  const simd = channels % 4 === 0 ? simdFor(backend) : undefined;
  const o = f32(backend, out);
  if (simd !== undefined) {
    simd.scaleChannels(offset(backend, out), offset(backend, dyInfo), offset(backend, factorInfo), o.length * 4, channels * 4);
  } else {
    const dy = f32(backend, dyInfo);
    for (let base = 0; base < o.length; base += channels) {
      for (let c = 0; c < channels; c++) o[base + c] = (dy[base + c] as number) * (factor[c] as number);
    }
  }
  free(backend, factorInfo);
  return out;
}

/**
 * Inference batch norm, y = x * f + b with f = scale / sqrt(variance + eps) and b = offset - mean * f
 * per channel, as one SIMD pass; wasm's own kernel is a scalar loop and, in MobileNet v1, costs as
 * much as all of the network's convolutions. Other shapes go to the wasm kernel.
 */
function fusedBatchNorm(args: KernelArgs): TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = input(args, 'x');
  const { mean, variance, offset: shift, scale } = args.inputs;
  const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
  const channels = x.shape[x.shape.length - 1] ?? 1;
  const perChannel = (t: TensorInfo | undefined): boolean => {
    if (t === undefined) return true;
    const size = util.sizeFromShape(t.shape);
    return t.dtype === 'float32' && t.shape.length <= 1 && (size === 1 || size === channels);
  };
  const simd = channels % 4 === 0 && x.dtype === 'float32' ? simdFor(backend) : undefined;
  if (simd === undefined || mean === undefined || variance === undefined || ![mean, variance, shift, scale].every(perChannel)) {
    return single(wasmKernel('FusedBatchNorm')(args));
  }
  const out = allocate(backend, x.shape);
  const coefficients = allocate(backend, [2, channels]);
  const k = f32(backend, coefficients);
  const m = f32(backend, mean);
  const v = f32(backend, variance);
  const o = shift === undefined ? undefined : f32(backend, shift);
  const s = scale === undefined ? undefined : f32(backend, scale);
  const at = (a: Float32Array, c: number): number => (a.length === 1 ? (a[0] as number) : (a[c] as number));
  for (let c = 0; c < channels; c++) {
    const f = (s === undefined ? 1 : at(s, c)) / Math.sqrt(at(v, c) + varianceEpsilon);
    k[c] = f;
    k[channels + c] = (o === undefined ? 0 : at(o, c)) - at(m, c) * f;
  }
  const base = offset(backend, coefficients);
  simd.scaleShiftChannels(
    offset(backend, out),
    offset(backend, x),
    base,
    base + channels * 4,
    util.sizeFromShape(x.shape) * 4,
    channels * 4,
  );
  free(backend, coefficients);
  return out;
}

/**
 * Minimum / Maximum of a tensor and a scalar (Keras' relu6 is minimum(6, relu(x))) as the wasm
 * backend's ClipByValue, an XNNPACK clamp, instead of its generic broadcasting loop. Anything else
 * goes to the wasm kernel.
 */
function clampKernel(name: 'Minimum' | 'Maximum'): KernelFunc {
  return ((args: KernelArgs) => {
    const backend = args.backend as BackendWasm;
    const a = input(args, 'a');
    const b = input(args, 'b');
    const scalarOperand = (s: TensorInfo, t: TensorInfo): boolean =>
      util.sizeFromShape(s.shape) === 1 && s.shape.length <= t.shape.length && s.dtype === 'float32' && t.dtype === 'float32';
    const [s, t] = scalarOperand(a, b) ? [a, b] : scalarOperand(b, a) ? [b, a] : [undefined, undefined];
    if (s === undefined || t === undefined) return wasmKernel(name)(args);
    const bound = f32(backend, s)[0] as number;
    if (Number.isNaN(bound)) return wasmKernel(name)(args);
    const attrs = name === 'Minimum' ? { clipValueMin: -Infinity, clipValueMax: bound } : { clipValueMin: bound, clipValueMax: Infinity };
    return wasmKernel('ClipByValue')({ backend, inputs: { x: t }, attrs } as unknown as KernelArgs);
  }) as KernelFunc;
}

/** igx's kernels, by kernel name; `alsoSetUp` names a wasm kernel they fall back on, whose setup must run. */
export const IGX_WASM_KERNELS: { kernelName: string; kernelFunc: KernelFunc; alsoSetUp?: string }[] = [
  { kernelName: 'Identity', kernelFunc: identity as KernelFunc },
  { kernelName: 'Conv2DBackpropInput', kernelFunc: conv2DBackpropInput as KernelFunc, alsoSetUp: 'Conv2DBackpropInput' },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', kernelFunc: depthwiseConv2dNativeBackpropInput as KernelFunc },
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: zeroFilterGradient as KernelFunc },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', kernelFunc: zeroFilterGradient as KernelFunc },
  { kernelName: 'MaxPoolGrad', kernelFunc: maxPoolGrad as KernelFunc },
  { kernelName: 'UnsortedSegmentSum', kernelFunc: unsortedSegmentSum as KernelFunc },
  { kernelName: 'Minimum', kernelFunc: clampKernel('Minimum'), alsoSetUp: 'Minimum' },
  { kernelName: 'Maximum', kernelFunc: clampKernel('Maximum'), alsoSetUp: 'Maximum' },
  { kernelName: 'FusedBatchNorm', kernelFunc: fusedBatchNorm as KernelFunc, alsoSetUp: 'FusedBatchNorm' },
  { kernelName: IGX_MASKED_GRAD, kernelFunc: maskedGrad as KernelFunc },
  { kernelName: IGX_LEAKY_RELU_GRAD, kernelFunc: leakyReluGrad as KernelFunc },
  { kernelName: IGX_BATCH_NORM_INPUT_GRAD, kernelFunc: batchNormInputGrad as KernelFunc },
];
