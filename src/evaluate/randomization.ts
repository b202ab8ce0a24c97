/**
 * The model-randomisation sanity check (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018):
 * an explanation that depends on what the model learned must change when the top layers' weights are
 * destroyed. igx loads a second copy of the layers model from disk (the session's model is never touched,
 * so nothing needs restoring and a failure cannot leave it corrupted), randomises the top K layers that
 * have weights (cascading: the K weighted layers nearest the output, all at once), computes IG with the
 * same input, baselines, target and quadrature, and compares the two maps.
 *
 * Randomisation is a seeded shuffle of each weight tensor's own values (kernel, bias, BatchNorm gamma,
 * beta, moving mean and moving variance alike). A shuffle keeps each tensor's value distribution exactly
 * (scale, sign, and positivity, so BatchNorm variances stay > 0 where Gaussian noise of the tensor's std
 * would make some negative and the output NaN) and destroys only the learned arrangement, which is what
 * the check asks about.
 */
import { computeCosine, computePearson, computeRanks, computeSsimOfScaled } from '../drift/metrics.js';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { IgxError } from '../errors.js';
import { createRng } from '../numeric/rng.js';
import type { HwcShape } from '../numeric/hwc-shape.js';
import type { ForwardFn } from '../attribution/types.js';
import { toModelError } from '../model/adapter.js';
import { createMemoryIOHandler, readModelFiles } from '../model/io-handler.js';
import { LayersAdapter } from '../model/layers-adapter.js';
import type { LoadedModel, ModelForward } from '../model/types.js';

export interface RandomizedModel {
  forward: ForwardFn;
  /** Names of the layers whose weights were shuffled, nearest the output first. */
  layers: string[];
  dispose(): void;
}

/** Fisher–Yates shuffle of a copy of `values`. */
function shuffleValues(values: Float32Array | Int32Array | Uint8Array, rng: ReturnType<typeof createRng>): typeof values {
  const out = values.slice();
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = out[i] as number;
    out[i] = out[j] as number;
    out[j] = t;
  }
  return out;
}

/**
 * Shuffles, in place, the weights of the top `count` layers of `model` that have weights (in reverse
 * topological order: the output's side first); returns their names. Seeded: the same seed shuffles the
 * same way on every run. count 0 changes nothing.
 */
export function shuffleTopLayers(model: LayersModel, count: number, seed: number): string[] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a whole number ≥ 0, got ${count}`);
  const weighted = model.layers.filter((l) => l.weights.length > 0).reverse();
  if (count > weighted.length) {
    throw new IgxError('E_FLAG', `--randomize-layers ${count}: the model has only ${weighted.length} layers with weights`);
  }
  const rng = createRng(seed);
  const chosen = weighted.slice(0, count);
  for (const layer of chosen) {
    const current = layer.getWeights();
    const shuffled = current.map((w) => tf.tensor(shuffleValues(w.dataSync() as Float32Array, rng), w.shape, w.dtype));
    try {
      layer.setWeights(shuffled);
    } finally {
      tf.dispose(shuffled);
    }
  }
  return chosen.map((l) => l.name);
}

/**
 * A copy of `model` (a layers model) loaded again from its files, with its top `count` weighted layers
 * shuffled, and a forward reading the same output in the same space as `forward`. Graph and SavedModel
 * models: IgxError E_FLAG (they have no layers to randomise; igx does not guess at their variables).
 */
export async function loadRandomizedModel(model: LoadedModel, forward: ModelForward, count: number, seed: number): Promise<RandomizedModel> {
  if (model.format !== 'layers') {
    throw new IgxError('E_FLAG', `--randomize-layers needs a layers model; ${model.modelJsonPath} is a ${model.format} model`);
  }
  const files = await readModelFiles(model.modelJsonPath);
  let copy: LayersModel;
  try {
    copy = await loadLayersModel(createMemoryIOHandler(files), { strict: true });
  } catch (err) {
    throw toModelError(err, model.modelJsonPath, 'loading a copy of the layers model');
  }
  const adapter = new LayersAdapter(copy, model.modelJsonPath);
  try {
    const layers = shuffleTopLayers(copy, count, seed);
    const adapted = adapter.adaptOutput(forward.outputIndex, forward.space === 'raw' ? undefined : forward.space);
    const [h, w] = model.inputShape;
    const isRank3 = adapter.inputShape.length === 3;
    const classes = forward.numClasses;
    const run: ForwardFn = (x) => {
      const y = adapted.run(isRank3 ? tf.reshape(x, [x.shape[0], h, w]) : x);
      return tf.reshape(y, [x.shape[0], classes]);
    };
    return { forward: run, layers, dispose: () => adapter.dispose() };
  } catch (err) {
    adapter.dispose();
    throw err;
  }
}

/** Σ_c |a_c| per pixel: [h·w]. */
export function sumAbsChannels(attributions: ArrayLike<number>, pixels: number, channels: number): Float64Array {
  if (attributions.length !== pixels * channels) throw new RangeError(`attributions have ${attributions.length} values, expected ${pixels * channels}`);
  const out = new Float64Array(pixels);
  for (let p = 0; p < pixels; p += 1) {
    let s = 0;
    for (let c = 0; c < channels; c += 1) s += Math.abs(attributions[p * channels + c] as number);
    out[p] = s;
  }
  return out;
}

/** Cosine is drift's own definition, so both reports agree. */
export { computeCosine };

/** Spearman's ρ of the signed values: the Pearson correlation of drift's fractional ranks (ties averaged). Identical inputs give exactly 1. */
export function computeSpearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  const ra = computeRanks(a);
  const rb = computeRanks(b);
  return ra.every((r, i) => r === rb[i]) ? 1 : computePearson(ra, rb);
}

/**
 * Mean SSIM (Wang et al. 2004; Gaussian window σ = 1.5 px, K1 0.01, K2 0.03) of two non-negative H×W
 * maps, each first scaled to [0, 1] by its own maximum, as Adebayo et al. compare normalised maps.
 */
export function computeSsim(a: ArrayLike<number>, b: ArrayLike<number>, height: number, width: number): number {
  const scale = (m: ArrayLike<number>): Float64Array => {
    let max = 0;
    for (let i = 0; i < m.length; i += 1) max = Math.max(max, m[i] as number);
    return Float64Array.from(m, (v) => (max > 0 ? v / max : 0));
  };
  return computeSsimOfScaled(scale(a), scale(b), height, width);
}

export interface MapSimilarity {
  /** Spearman ρ of Σ_c |a_c| per pixel. */
  spearmanAbs: number;
  /** Spearman ρ of the signed Σ_c a_c per pixel. */
  spearman: number;
  /** Cosine of the Σ_c |a_c| maps. */
  cosineAbs: number;
  /** Mean SSIM of the Σ_c |a_c| maps, each scaled to [0, 1]. */
  ssimAbs: number;
}

export function compareAttributionMaps(a: ArrayLike<number>, b: ArrayLike<number>, shape: HwcShape): MapSimilarity {
  const [height, width, channels] = shape;
  const n = height * width;
  const absA = sumAbsChannels(a, n, channels);
  const absB = sumAbsChannels(b, n, channels);
  const signed = (m: ArrayLike<number>): Float64Array => {
    const out = new Float64Array(n);
    for (let p = 0; p < n; p += 1) for (let c = 0; c < channels; c += 1) out[p] = (out[p] as number) + (m[p * channels + c] as number);
    return out;
  };
  return {
    spearmanAbs: computeSpearman(absA, absB),
    spearman: computeSpearman(signed(a), signed(b)),
    cosineAbs: computeCosine(absA, absB),
    ssimAbs: computeSsim(absA, absB, height, width),
  };
}
