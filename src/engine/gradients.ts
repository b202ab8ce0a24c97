/**
 * Gradient registrations igx needs. tfjs keeps one global gradient registry for all backends, so:
 *  - a gradient tfjs lacks (StridedSlice) is registered for everyone: that only turns tfjs's "gradient
 *    function not found" error into a result;
 *  - gradients tfjs gets wrong (AvgPool with 'same' padding, ResizeBilinear with half-pixel centers)
 *    are corrected for everyone, in corrected-gradients.ts;
 *  - gradients igx computes differently on igx-wasm (one-pass kernels, dilated Conv2D) are wrappers
 *    that run igx's version only while igx-wasm is the active backend and otherwise call tfjs's own
 *    gradient unchanged, so other code in the process sees tfjs's behaviour.
 */
import {
  backend_util,
  engine,
  getBackend,
  getGradient,
  ones,
  pad,
  registerGradient,
  reshape,
  reverse,
  slice,
  slice_util,
  util,
  zeros,
  type NamedTensorMap,
  type GradFunc,
  type NamedAttrMap,
  type Tensor,
} from '@tensorflow/tfjs-core';
// tfjs-core's node build registers no gradients at all; tfjs-layers' build registers tfjs's standard
// set when it loads. Importing it here makes gradients available to graph models too, and makes sure
// it has loaded (and registered) before igx wraps any of those gradients.
import '@tensorflow/tfjs-layers';
import { correctAvgPool, correctResizeBilinear } from './corrected-gradients.js';
import { isIgx, mark, run } from './gradient-mark.js';
import { IGX_WASM } from './igx-wasm.js';
import { IGX_BATCH_NORM_INPUT_GRAD, IGX_LEAKY_RELU_GRAD, IGX_MASKED_GRAD } from './wasm-kernels.js';
import { nextDown, nextUp } from './wasm-simd.js';

/**
 * Replaces tfjs's gradient for `kernelName` by one that calls `onIgxWasm` while igx-wasm is active;
 * `onIgxWasm` returns null to defer to tfjs's gradient. Keeps tfjs's inputsToSave/outputsToSave.
 */
function overrideOnIgxWasm(
  kernelName: string,
  onIgxWasm: (original: GradFunc, ...args: Parameters<GradFunc>) => ReturnType<GradFunc> | null,
): void {
  const original = getGradient(kernelName);
  if (original === undefined || isIgx(original)) return;
  const gradFunc: GradFunc = (dy, saved, attrs) =>
    (getBackend() === IGX_WASM ? onIgxWasm(original.gradFunc, dy, saved, attrs) : null) ??
    original.gradFunc(dy, saved, attrs);
  registerGradient({ ...original, gradFunc: mark(gradFunc) });
}

function isFloat(...ts: Tensor[]): boolean {
  return ts.every((t) => t.dtype === 'float32');
}

/** dy where lo <= x <= hi (see IGX_MASKED_GRAD). */
function masked(dy: Tensor, x: Tensor, attrs: { lo: number; hi: number; propagateNaN: boolean }): Tensor {
  return run(IGX_MASKED_GRAD, { dy, x }, attrs);
}

/** Relu/Relu6 gradients (tfjs: mul(dy, step(x)) and friends, 2-5 kernels) as one masked pass. */
function activation(kernelName: string, lo: number, hi: number): void {
  overrideOnIgxWasm(kernelName, (_original, dy, saved) => {
    const x = saved[0] as Tensor;
    if (!isFloat(x, dy as Tensor)) return null;
    return { x: () => masked(dy as Tensor, x, { lo, hi, propagateNaN: true }) };
  });
}

/**
 * Minimum/Maximum with a scalar operand (Keras' relu6 is minimum(6, relu(x))): the tensor operand's
 * gradient as one masked pass. tfjs: Minimum da = dy*(a <= b), db = dy*(a > b); Maximum
 * da = dy*(a >= b), db = dy*(a < b). The scalar's own gradient stays tfjs's.
 */
function minMax(kernelName: 'Minimum' | 'Maximum'): void {
  overrideOnIgxWasm(kernelName, (original, dy, saved, attrs) => {
    const [a, b] = saved as [Tensor, Tensor];
    const g = dy as Tensor;
    const full = (t: Tensor): boolean => util.arraysEqual(t.shape, g.shape);
    const scalar = (t: Tensor): boolean => t.size === 1;
    if (!isFloat(a, b, g)) return null;
    const tfjs = (name: string) => () => (original(dy, saved, attrs)[name] as () => Tensor)();
    const min = kernelName === 'Minimum';
    if (full(a) && scalar(b)) {
      const s = b.dataSync()[0] as number;
      return { a: () => masked(g, a, min ? { lo: -Infinity, hi: s, propagateNaN: false } : { lo: s, hi: Infinity, propagateNaN: false }), b: tfjs('b') };
    }
    if (scalar(a) && full(b)) {
      const s = a.dataSync()[0] as number;
      return { a: tfjs('a'), b: () => masked(g, b, min ? { lo: -Infinity, hi: nextDown(s), propagateNaN: false } : { lo: nextUp(s), hi: Infinity, propagateNaN: false }) };
    }
    return null;
  });
}

/** StridedSlice's gradient (missing from tfjs 4.22): dy scattered back into zeros of x's shape. */
function stridedSliceGrad(dy: Tensor, xShape: number[], attrs: NamedAttrMap): Tensor {
  const a = attrs as unknown as {
    begin: number[];
    end: number[];
    strides: number[];
    beginMask: number;
    endMask: number;
    ellipsisMask: number;
    newAxisMask: number;
    shrinkAxisMask: number;
  };
  const info = slice_util.sliceInfo(
    xShape,
    a.begin,
    a.end,
    a.strides,
    a.beginMask,
    a.endMask,
    a.ellipsisMask,
    a.newAxisMask,
    a.shrinkAxisMask,
  );
  // Per dimension of x: how many elements were taken, from where, how far apart. (sliceInfo's final
  // shapes drop shrunk axes and add new ones; the element order is the same.)
  const counts = xShape.map((_, d) => {
    const b = info.begin[d] as number;
    const e = info.end[d] as number;
    const s = info.strides[d] as number;
    const len = e - b;
    return len === 0 || len < 0 !== s < 0 ? 0 : Math.ceil(len / s);
  });
  if (util.sizeFromShape(counts) === 0) return zeros(xShape);
  let g = reshape(dy, counts);
  const reversed = counts.flatMap((_, d) => ((info.strides[d] as number) < 0 ? [d] : []));
  if (reversed.length > 0) g = reverse(g, reversed);
  const paddings: [number, number][] = [];
  for (let d = 0; d < xShape.length; d++) {
    const n = counts[d] as number;
    const s = info.strides[d] as number;
    const step = Math.abs(s);
    const first = s > 0 ? (info.begin[d] as number) : (info.begin[d] as number) + (n - 1) * s;
    if (step > 1 && n > 1) {
      // Spread the n slices `step` apart: add a length-1 axis, pad it to `step`, merge, trim the tail.
      const shape = g.shape;
      const split = [...shape.slice(0, d), n, 1, ...shape.slice(d + 1)];
      const widen: [number, number][] = split.map((_, i) => [0, i === d + 1 ? step - 1 : 0]);
      const merged = reshape(pad(reshape(g, split), widen), [...shape.slice(0, d), n * step, ...shape.slice(d + 1)]);
      const size = merged.shape.map((v, i) => (i === d ? (n - 1) * step + 1 : v));
      g = slice(merged, merged.shape.map(() => 0), size);
    }
    const last = first + (n - 1) * step;
    paddings.push([first, (xShape[d] as number) - last - 1]);
  }
  return pad(g, paddings);
}

type RunKernel = (kernelName: string, inputs: NamedTensorMap, attrs?: NamedAttrMap) => Tensor | Tensor[];
const FILLS_BATCH_NORM = Symbol.for('igx.batchNormDefaults');

/**
 * tensorflow/tfjs#2868: batchNorm without a scale (Keras' `scale=False`, in every InceptionV3) or an
 * offset (`center=False`) leaves `undefined` inputs on the gradient tape, and backprop then crashes on
 * every backend. igx feeds the identity instead (scale 1, offset 0), which gives the same values bit for
 * bit, so the tape holds only tensors. Patched once on the engine, so it covers every backend.
 */
function fillBatchNormDefaults(): void {
  const e = engine() as unknown as { runKernel: RunKernel; [FILLS_BATCH_NORM]?: true };
  if (e[FILLS_BATCH_NORM] === true) return;
  const original = e.runKernel.bind(e);
  e.runKernel = (kernelName, inputs, attrs) => {
    if (kernelName !== 'FusedBatchNorm' || (inputs.scale != null && inputs.offset != null)) {
      return original(kernelName, inputs, attrs);
    }
    const mean = inputs.mean as Tensor;
    const filled: NamedTensorMap = {
      ...inputs,
      scale: inputs.scale ?? ones(mean.shape),
      offset: inputs.offset ?? zeros(mean.shape),
    };
    try {
      return original(kernelName, filled, attrs);
    } finally {
      // The tape keeps its own clones of what the gradient needs; these two are ours to free.
      if (inputs.scale == null) (filled.scale as Tensor).dispose();
      if (inputs.offset == null) (filled.offset as Tensor).dispose();
    }
  };
  e[FILLS_BATCH_NORM] = true;
}

/** StridedSlice's gradient, for everyone: tfjs 4.22 has none. */
function registerStridedSlice(): void {
  if (getGradient('StridedSlice') !== undefined) return;
  registerGradient({
    kernelName: 'StridedSlice',
    inputsToSave: ['x'],
    gradFunc: mark((dy, saved, attrs) => {
      const x = saved[0] as Tensor;
      return { x: () => stridedSliceGrad(dy as Tensor, x.shape, attrs) };
    }),
  });
}

/**
 * tfjs's batch-norm gradient computes x - mean and dy * scale over the whole tensor before knowing
 * which gradients are wanted, then tiles; igx needs only dx, one multiply by a per-channel factor.
 */
function overrideBatchNorm(): void {
  overrideOnIgxWasm('FusedBatchNorm', (original, dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
    const channels = x.shape[x.rank - 1];
    const perChannel = (t: Tensor | undefined): boolean =>
      t == null || t.size === 1 || (t.rank === 1 && t.size === channels);
    if (!perChannel(variance) || !perChannel(scale) || !perChannel(mean)) return null;
    const rest = (name: string) => () => {
      const all = original(dy, saved, attrs);
      return (all[name] as () => Tensor)();
    };
    const inputs: Record<string, Tensor> = { dy: dy as Tensor, variance };
    if (scale != null) inputs.scale = scale;
    return {
      x: () => run(IGX_BATCH_NORM_INPUT_GRAD, inputs, { varianceEpsilon: attrs.varianceEpsilon as number }),
      mean: rest('mean'),
      variance: rest('variance'),
      scale: rest('scale'),
      offset: rest('offset'),
    };
  });
}

/** tfjs refuses dilated Conv2D gradients; igx-wasm's Conv2DBackpropInput takes a dilations attr. */
function overrideDilatedConv2D(): void {
  overrideOnIgxWasm('Conv2D', (_original, dy, saved, attrs) => {
    if (backend_util.tupleValuesAreOne(attrs.dilations as number | [number, number])) return null;
    const [x, filter] = saved as [Tensor, Tensor];
    const common = {
      strides: attrs.strides,
      pad: attrs.pad,
      dataFormat: attrs.dataFormat,
      dimRoundingMode: attrs.dimRoundingMode,
    } as NamedAttrMap;
    return {
      x: () =>
        run('Conv2DBackpropInput', { dy: dy as Tensor, filter }, {
          ...common,
          inputShape: x.shape,
          dilations: attrs.dilations,
        } as NamedAttrMap),
      filter: () => run('Conv2DBackpropFilter', { x, dy: dy as Tensor }, { ...common, filterShape: filter.shape }),
    };
  });
}

/** Likewise for depthwise convolutions; igx-wasm's kernels take dilations already. */
function overrideDilatedDepthwise(): void {
  overrideOnIgxWasm('DepthwiseConv2dNative', (_original, dy, saved, attrs) => {
    const dilations = (attrs.dilations ?? 1) as number | [number, number];
    if (backend_util.tupleValuesAreOne(dilations)) return null;
    const [x, filter] = saved as [Tensor, Tensor];
    const common = {
      strides: attrs.strides,
      dilations,
      pad: attrs.pad,
      dimRoundingMode: attrs.dimRoundingMode,
    } as NamedAttrMap;
    return {
      x: () =>
        run('DepthwiseConv2dNativeBackpropInput', { dy: dy as Tensor, filter }, { ...common, inputShape: x.shape }),
      filter: () =>
        run('DepthwiseConv2dNativeBackpropFilter', { x, dy: dy as Tensor }, { ...common, filterShape: filter.shape }),
    };
  });
}

/**
 * Registers igx's gradients; idempotent, and cheap enough to call on every backend selection (a
 * wrapper replaced by a later re-registration of tfjs's gradients is simply installed again).
 */
export function registerIgxGradients(): void {
  fillBatchNormDefaults();
  registerStridedSlice();
  correctAvgPool();
  correctResizeBilinear();
  activation('Relu', nextUp(0), Infinity);
  activation('Relu6', nextUp(0), 6);
  minMax('Minimum');
  minMax('Maximum');
  overrideOnIgxWasm('LeakyRelu', (_original, dy, saved, attrs) => {
    const x = saved[0] as Tensor;
    if (!isFloat(x, dy as Tensor)) return null;
    return { x: () => run(IGX_LEAKY_RELU_GRAD, { dy: dy as Tensor, x }, { alpha: attrs.alpha as number }) };
  });
  overrideBatchNorm();
  overrideDilatedConv2D();
  overrideDilatedDepthwise();
}
