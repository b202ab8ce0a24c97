import * as tf from '@tensorflow/tfjs-core';
import { computeTargetScores } from '../attribution/integrated-gradients.js';
import type { ForwardFn, Target } from '../attribution/types.js';
import { blurMap } from '../render/mask.js';
import { createRng } from '../numeric/rng.js';
import type { HwcShape } from '../numeric/hwc-shape.js';

/**
 * Deletion and insertion curves (Petsiuk, Das, Saenko, "RISE", BMVC 2018): pixels are taken in the
 * order an attribution ranks them, and F is read as they go. Deletion replaces the input's pixels by a
 * reference (black) from the most important on: a faithful ranking makes F fall fast (low AUC).
 * Insertion puts the input's pixels into a reference (a blurred input): F should rise fast (high AUC).
 * A pixel is all its channels; ranks are of the channel-summed attribution, largest (most positive
 * evidence for the target) first.
 */
export type CurveKind = 'deletion' | 'insertion';

export interface Curve {
  /** Share of the pixels changed at each point: 0, 1/points, …, 1. */
  fractions: number[];
  /** F at each point. */
  scores: number[];
  /** Trapezoid area under scores over fractions ∈ [0, 1]. */
  auc: number;
}

/** What the curves read: F = target(forward(·)) on preprocessed HWC images of `shape`, starting at `input`. */
export interface CurveProblem {
  forward: ForwardFn;
  /** The input as the model sees it (preprocessed HWC). */
  input: Float32Array;
  shape: HwcShape;
  target: Target;
}

/** One curve: the pixels taken in `order`, deleted into or inserted from `reference` as `kind` says. */
export interface CurveSpec {
  kind: CurveKind;
  /** Pixel indices (0..h·w−1), the first taken first. */
  order: Int32Array;
  /** Preprocessed HWC values of the input's shape: what deleted pixels become, or where insertion starts. */
  reference: Float32Array;
}

export interface CurveOptions {
  /** Curve points after the start (points + 1 model inputs). */
  points: number;
  /** Images per model call. */
  batchSize: number;
}

export interface RankOptions {
  /** > 0 smooths the summed map first (a Gaussian of that many pixels), so regions rank rather than speckles. Default 0. */
  blurSigmaPx?: number;
  /** > 1 ranks square patches of this side by their mean and lists each patch's pixels together. Default 1. */
  patchSidePx?: number;
}

/** Pixel indices (0..h·w−1) by channel-summed attribution, largest first; ties by index. */
export function rankPixels(attributions: ArrayLike<number>, shape: HwcShape, options: RankOptions = {}): Int32Array {
  const [height, width, channels] = shape;
  const { blurSigmaPx: blurSigma = 0, patchSidePx: patch = 1 } = options;
  const n = height * width;
  if (attributions.length !== n * channels) throw new RangeError(`attributions have ${attributions.length} values, expected ${n * channels}`);
  const sums = new Float64Array(n);
  for (let p = 0; p < n; p += 1) {
    let s = 0;
    for (let c = 0; c < channels; c += 1) s += attributions[p * channels + c] as number;
    sums[p] = s;
  }
  if (blurSigma > 0) sums.set(blurMap(sums, height, width, blurSigma));
  if (patch > 1) {
    // Patches rank by their mean, so the smaller patches at the right and bottom edges compete fairly.
    const totals = new Float64Array(countPatches(height, width, patch));
    const counts = new Float64Array(totals.length);
    const across = Math.ceil(width / patch);
    for (let p = 0; p < n; p += 1) {
      const q = Math.floor(Math.floor(p / width) / patch) * across + Math.floor((p % width) / patch);
      totals[q] = (totals[q] as number) + (sums[p] as number);
      counts[q] = (counts[q] as number) + 1;
    }
    for (let q = 0; q < totals.length; q += 1) totals[q] = (totals[q] as number) / (counts[q] as number);
    const patchOrder = Int32Array.from({ length: totals.length }, (_, i) => i).sort((a, b) => (totals[b] as number) - (totals[a] as number) || a - b);
    return expandPatchOrder(patchOrder, height, width, patch);
  }
  const order = Int32Array.from({ length: n }, (_, i) => i);
  return order.sort((a, b) => (sums[b] as number) - (sums[a] as number) || a - b);
}

const countPatches = (height: number, width: number, patch: number): number => Math.ceil(height / patch) * Math.ceil(width / patch);

/** Pixel indices, patch by patch in `patchOrder` (patches of patch×patch pixels, row-major; edge patches are smaller). */
export function expandPatchOrder(patchOrder: Int32Array, height: number, width: number, patch: number): Int32Array {
  const across = Math.ceil(width / patch);
  const order = new Int32Array(height * width);
  let k = 0;
  for (const q of patchOrder) {
    const y0 = Math.floor(q / across) * patch;
    const x0 = (q % across) * patch;
    for (let y = y0; y < Math.min(y0 + patch, height); y += 1) {
      for (let x = x0; x < Math.min(x0 + patch, width); x += 1) order[k++] = y * width + x;
    }
  }
  return order;
}

/** A seeded random order of the patches, as pixel indices (patch 1: of the pixels). */
export function randomPatchOrder(height: number, width: number, patch: number, seed: number): Int32Array {
  const patches = randomPixelOrder(countPatches(height, width, patch), seed);
  return patch > 1 ? expandPatchOrder(patches, height, width, patch) : patches;
}

/** A uniformly random order of n pixels from a seeded Fisher–Yates shuffle. */
export function randomPixelOrder(n: number, seed: number): Int32Array {
  const rng = createRng(seed);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i -= 1) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/** Trapezoid ∫ scores d(fraction). */
export function computeAuc(fractions: number[], scores: number[]): number {
  let area = 0;
  for (let k = 1; k < fractions.length; k += 1) {
    area += (((scores[k] as number) + (scores[k - 1] as number)) / 2) * ((fractions[k] as number) - (fractions[k - 1] as number));
  }
  return area;
}

/** The curve of `curve.kind` for one pixel order. */
export function computeCurve(problem: CurveProblem, curve: CurveSpec, options: CurveOptions): Curve {
  const { forward, input, shape, target } = problem;
  const { kind, order, reference } = curve;
  const [h, w, c] = shape;
  const n = h * w;
  if (input.length !== n * c || reference.length !== n * c) throw new RangeError(`input and reference must hold ${n * c} values`);
  if (order.length !== n) throw new RangeError(`order must rank ${n} pixels, got ${order.length}`);
  if (!Number.isInteger(options.points) || options.points < 1) throw new RangeError(`points must be a whole number ≥ 1, got ${options.points}`);
  const [from, to] = kind === 'deletion' ? [input, reference] : [reference, input];
  const current = Float32Array.from(from);
  const fractions = Array.from({ length: options.points + 1 }, (_, k) => k / options.points);
  const scores: number[] = [];
  let changed = 0;
  let batch: Float32Array[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    const data = new Float32Array(batch.length * n * c);
    batch.forEach((b, i) => data.set(b, i * n * c));
    const size = batch.length;
    const values = tf.tidy(() => computeTargetScores(forward(tf.tensor4d(data, [size, h, w, c])), target).dataSync());
    scores.push(...Array.from(values));
    batch = [];
  };
  for (const fraction of fractions) {
    const upTo = Math.round(fraction * n);
    for (; changed < upTo; changed += 1) {
      const p = order[changed] as number;
      for (let k = 0; k < c; k += 1) current[p * c + k] = to[p * c + k] as number;
    }
    batch.push(Float32Array.from(current));
    if (batch.length >= options.batchSize) flush();
  }
  flush();
  return { fractions, scores, auc: computeAuc(fractions, scores) };
}

export interface FaithfulnessOptions extends CurveOptions {
  /** Smoothing of the map before ranking, in pixels (see rankPixels). */
  rankBlurSigma: number;
  /** Pixels are taken in square patches of this side, ranked by their mean attribution (1: single pixels). */
  patch: number;
  /** Random orders averaged for the comparison. */
  randomOrders: number;
  seed: number;
  /** What deleted pixels become (preprocessed HWC), e.g. black. */
  deletionReference: Float32Array;
  /** What insertion starts from (preprocessed HWC), e.g. the blurred input. */
  insertionReference: Float32Array;
}

export interface Faithfulness {
  deletion: { attribution: Curve; random: Curve; inverted: Curve };
  insertion: { attribution: Curve; random: Curve; inverted: Curve };
  /** random AUC − attribution AUC for deletion (> 0: the attribution order deletes faster than chance). */
  deletionGain: number;
  /** attribution AUC − random AUC for insertion (> 0: better than chance). */
  insertionGain: number;
}

const meanCurve = (curves: Curve[]): Curve => {
  const fractions = curves[0]!.fractions;
  const scores = fractions.map((_, k) => curves.reduce((s, cv) => s + (cv.scores[k] as number), 0) / curves.length);
  return { fractions, scores, auc: computeAuc(fractions, scores) };
};

/**
 * Deletion and insertion curves of an attribution's pixel order, of the mean over `randomOrders`
 * seeded random orders, and of the inverted order (least important first) as a sanity floor.
 */
export function evaluateFaithfulness(problem: CurveProblem, attributions: ArrayLike<number>, options: FaithfulnessOptions): Faithfulness {
  const [h, w] = problem.shape;
  const rank: RankOptions = { blurSigmaPx: options.rankBlurSigma, patchSidePx: options.patch };
  const order = rankPixels(attributions, problem.shape, rank);
  // Least important first, patch by patch as well.
  const inverted = options.patch > 1 ? rankPixels(Array.from(attributions, (v) => -v), problem.shape, rank) : Int32Array.from(order).reverse();
  const randoms = Array.from({ length: options.randomOrders }, (_, i) => randomPatchOrder(h, w, options.patch, options.seed + i));
  const both = (kind: CurveKind, reference: Float32Array) => ({
    attribution: computeCurve(problem, { kind, order, reference }, options),
    random: meanCurve(randoms.map((r) => computeCurve(problem, { kind, order: r, reference }, options))),
    inverted: computeCurve(problem, { kind, order: inverted, reference }, options),
  });
  const deletion = both('deletion', options.deletionReference);
  const insertion = both('insertion', options.insertionReference);
  return {
    deletion,
    insertion,
    deletionGain: deletion.random.auc - deletion.attribution.auc,
    insertionGain: insertion.attribution.auc - insertion.random.auc,
  };
}
