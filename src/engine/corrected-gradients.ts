/**
 * Gradients tfjs 4.22 gets wrong on every backend, corrected for everyone: a wrong gradient is wrong
 * wherever it runs. Each correction applies only where tfjs errs; elsewhere tfjs's own gradient runs,
 * so its results stay the same bit for bit.
 */
import {
  backend_util,
  getGradient,
  matMul,
  mul,
  registerGradient,
  reshape,
  tensor2d,
  tensor4d,
  tidy,
  transpose,
  type GradFunc,
  type NamedAttrMap,
  type Tensor,
  type Tensor4D,
} from '@tensorflow/tfjs-core';
import { isIgx, mark, run } from './gradient-mark.js';

/** Replaces tfjs's gradient for `kernelName` by `correct`, which returns null where tfjs's is right. */
function correct(kernelName: string, corrected: (...args: Parameters<GradFunc>) => ReturnType<GradFunc> | null): void {
  const original = getGradient(kernelName);
  if (original === undefined || isIgx(original)) return;
  const gradFunc: GradFunc = (dy, saved, attrs) => corrected(dy, saved, attrs) ?? original.gradFunc(dy, saved, attrs);
  registerGradient({ ...original, gradFunc: mark(gradFunc) });
}

interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * tfjs's AvgPool forward divides each window by the cells inside the image, but its gradient divides
 * by the whole window (k² cells), so with 'same' padding every border gradient is too small by
 * count/k² (4/9 at the corners of a 3×3 pool). Every Keras InceptionV3 pools this way, and its IG never
 * reached completeness. Scaling dy by k²/count before tfjs's gradient gives the true one.
 */
export function correctAvgPool(): void {
  correct('AvgPool', (dy, saved, attrs) => {
    const x = saved[0] as Tensor4D;
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as PoolAttrs;
    const info = backend_util.computePool2DInfo(x.shape, filterSize, strides, 1, pad, dimRoundingMode);
    const scale = windowScale(info);
    if (scale === undefined) return null;
    return {
      x: () =>
        tidy(() => {
          const scaledDy = mul(dy as Tensor, tensor4d(scale, [1, info.outHeight, info.outWidth, 1]));
          return run('AvgPoolGrad', { dy: scaledDy, input: x }, { filterSize, strides, pad } as unknown as NamedAttrMap);
        }),
    };
  });
}

/** k²/count per output cell, where count is how many of the window's cells lie inside the input; undefined if all do. */
function windowScale(info: backend_util.Conv2DInfo): Float32Array | undefined {
  const { outHeight, outWidth, filterHeight, filterWidth } = info;
  const rows = cellsInside({ out: outHeight, stride: info.strideHeight, pad: info.padInfo.top, k: filterHeight, n: info.inHeight });
  const cols = cellsInside({ out: outWidth, stride: info.strideWidth, pad: info.padInfo.left, k: filterWidth, n: info.inWidth });
  const window = filterHeight * filterWidth;
  if (rows.every((r) => r === filterHeight) && cols.every((c) => c === filterWidth)) return undefined;
  const scale = new Float32Array(outHeight * outWidth);
  rows.forEach((r, i) => cols.forEach((c, j) => (scale[i * outWidth + j] = window / (r * c))));
  return scale;
}

/** Along one axis: how many of each output's k window cells fall inside the n input cells. */
function cellsInside(axis: { out: number; stride: number; pad: number; k: number; n: number }): number[] {
  return Array.from({ length: axis.out }, (_, o) => {
    const start = o * axis.stride - axis.pad;
    return Math.min(start + axis.k, axis.n) - Math.max(start, 0);
  });
}

/**
 * tfjs's ResizeBilinear gradient ignores half_pixel_centers (what tf.image.resize and Keras' Resizing
 * layer use) and sends each output's gradient to the wrong source pixels; on the cpu backend it also
 * swaps height and width when they differ. The resize is separable, Y = R_h · X · R_wᵀ per image and
 * channel, so igx computes the gradient R_hᵀ · dY · R_w itself, for every resize, with R built from the
 * very formula tfjs's forward uses.
 */
export function correctResizeBilinear(): void {
  correct('ResizeBilinear', (dy, saved, attrs) => {
    const { alignCorners, halfPixelCenters } = attrs as { alignCorners: boolean; halfPixelCenters: boolean };
    const images = saved[0] as Tensor4D;
    const [b, inH, inW, c] = images.shape;
    const [, outH, outW] = (dy as Tensor).shape as [number, number, number, number];
    return {
      images: () =>
        tidy(() => {
          const rowsT = tensor2d(resizeWeightsTransposed({ from: inH, to: outH, alignCorners, halfPixelCenters }), [inH, outH]);
          const colsT = tensor2d(resizeWeightsTransposed({ from: inW, to: outW, alignCorners, halfPixelCenters }), [inW, outW]);
          // Contract the rows: [outH, b·outW·c] → [inH, b, outW, c]; then the columns likewise.
          const byRows = matMul(rowsT, reshape(transpose(dy as Tensor, [1, 0, 2, 3]), [outH, b * outW * c]));
          const byCols = transpose(reshape(byRows, [inH, b, outW, c]), [2, 1, 0, 3]);
          const both = matMul(colsT, reshape(byCols, [outW, b * inH * c]));
          return transpose(reshape(both, [inW, b, inH, c]), [1, 2, 0, 3]);
        }),
    };
  });
}

/**
 * Rᵀ ([from, to], row-major) for one axis of tfjs's bilinear resize: output i reads floor and ceil of
 * s = (i + 0.5)·ratio − 0.5 (half-pixel centers) or s = i·ratio, clamped into the input, weighted
 * 1 − frac and frac.
 */
function resizeWeightsTransposed(axis: { from: number; to: number; alignCorners: boolean; halfPixelCenters: boolean }): Float32Array {
  const { from, to, alignCorners, halfPixelCenters } = axis;
  const ratio = alignCorners && to > 1 ? (from - 1) / (to - 1) : from / to;
  const weights = new Float32Array(from * to);
  for (let i = 0; i < to; i++) {
    const source = halfPixelCenters ? ratio * (i + 0.5) - 0.5 : ratio * i;
    const floor = Math.max(0, Math.floor(source));
    const ceil = Math.min(from - 1, Math.ceil(source));
    const frac = source - floor;
    weights[floor * to + i] = (weights[floor * to + i] as number) + 1 - frac;
    weights[ceil * to + i] = (weights[ceil * to + i] as number) + frac;
  }
  return weights;
}
