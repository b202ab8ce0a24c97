/**
 * What the explain use case hands out and takes in: progress, results, and the port through which an
 * image's gradient batches may run elsewhere (igx's worker pool implements it).
 */
import type { WeightedGradientSumFn } from '../attribution/integrated-gradients.js';
import type { PointGradientsFn, Target } from '../attribution/types.js';
import type { Report } from '../report/schema.js';

/** Runs an image's gradient batches elsewhere: igx's worker pool implements it. */
export interface GradientRunner {
  /** Batches an image requests ahead of the one it is adding (to keep every worker busy). */
  batchesAhead: number;
  /** Threads computing batches: as many independent inputs (SmoothGrad's noisy copies) keep them busy. */
  parallelism: number;
  /** Makes an image's input and baselines (preprocessed, [1, h, w, c] each) available to the batches. */
  openImage(image: GradientImage): GradientJob;
  /** For paths that are not straight lines (Blur IG, Guided IG): F and ∇F at points the caller gives. */
  openPoints(spec: PointSpec): PointJob;
}

/** What a point job needs: the shape of one point ([1, h, w, c]) and the target F reads. */
export interface PointSpec {
  shape: [number, number, number, number];
  target: Target;
}

export interface PointJob {
  pointGradients: PointGradientsFn;
  /** Frees the job on the workers and drops its batches not yet started. */
  close(): void;
}

export interface GradientImage {
  /** 'layer': the points are activations of --layer, and F is the model's tail from there (layer IG). */
  space?: 'input' | 'layer';
  shape: [number, number, number, number];
  input: Float32Array;
  baselines: Float32Array[];
  target: Target;
}

export interface GradientJob {
  weightedGradientSum: WeightedGradientSumFn;
  /** Frees the image on the workers and drops its batches not yet started. */
  close(): void;
}

export interface ExplainProgress {
  pointsDone: number;
  pointsPlanned: number;
  baselineIndex: number;
  baselineCount: number;
}

export interface ExplainResult {
  report: Report;
  /** Absolute paths of the files written. */
  files: { report: string; heatmap: string; overlay: string; raw: string | null };
}

export interface ExplainImageOptions {
  /** Where under --out the files go, without extension (default: the image's base name). */
  outputStem?: string;
  onProgress?: (p: ExplainProgress) => void;
}
