/**
 * Similarity of two attribution maps. Pure functions over numbers; README.md (igx drift) states each
 * definition, and these follow it exactly.
 *
 * Two 32 × 32 maps per image (see runs.ts): the signed grid G (the attributions summed over channels
 * and area-pooled — the report's grid) and the magnitude grid A (|channel sum| area-pooled). Rank
 * correlation and top-k IoU ask "where does the model look" and read A; cosine and SSIM ask "which
 * way does the evidence point" and read G, so evidence that flips sign counts as drift.
 */
import { normaliseMap } from '../render/colormap.js';

export interface MapSimilarity {
  /** Spearman rank correlation of the magnitude grids, in [−1, 1]. */
  spearman: number;
  /** IoU of the top-k% cells of the magnitude grids, in [0, 1]. */
  iou: number;
  /** Cosine of the signed grids, in [−1, 1]. */
  cosine: number;
  /** Mean SSIM of the signed grids, each scaled as its heatmap is drawn, in [−1, 1]. */
  ssim: number;
}

/** Percentile of |m| that maps to ±1 before SSIM: the heatmaps' default clip. */
export const SSIM_CLIP_PERCENTILE = 99;
/** Gaussian window of Wang et al. (2004): σ = 1.5 cells, 11 × 11. */
const SSIM_SIGMA = 1.5;
const SSIM_RADIUS = 5;
/** SSIM's stabilising constants for intensities in [0, 1] (dynamic range L = 1): (0.01 L)², (0.03 L)². */
const SSIM_C1 = 0.01 ** 2;
const SSIM_C2 = 0.03 ** 2;

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`maps have ${a.length} and ${b.length} values`);
  if (a.length === 0) throw new RangeError('maps are empty');
}

/** Clamp to [lo, hi]: rounding can leave a correlation a hair outside its range. */
const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

export function computeAbsolute(map: ArrayLike<number>): Float64Array {
  const out = new Float64Array(map.length);
  for (let i = 0; i < map.length; i += 1) out[i] = Math.abs(map[i]!);
  return out;
}

/**
 * Fractional ranks, 1-based: the smallest value gets rank 1, and tied values all get the mean of the
 * ranks they span (so [5, 7, 5] → [1.5, 3, 1.5]).
 */
export function computeRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => values[i]! - values[j]! || i - j);
  const ranks = new Float64Array(n);
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && values[order[end]!] === values[order[start]!]) end += 1;
    const rank = (start + 1 + end) / 2; // mean of the 1-based ranks start+1 … end
    for (let k = start; k < end; k += 1) ranks[order[k]!] = rank;
    start = end;
  }
  return ranks;
}

/** Pearson correlation; 0 when either side is constant (it has no order to agree with). */
export function computePearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b);
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i += 1) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i += 1) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return 0;
  return clamp(sab / Math.sqrt(saa * sbb), -1, 1);
}

/** Spearman's ρ of |a| and |b|: the Pearson correlation of their fractional ranks. */
export function computeSpearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b);
  return computePearson(computeRanks(computeAbsolute(a)), computeRanks(computeAbsolute(b)));
}

/** Number of cells in a top-k% set of n cells: ⌈k·n/100⌉, at least 1. */
export function computeTopKCount(n: number, topKPercent: number): number {
  return Math.max(1, Math.min(n, Math.ceil((topKPercent * n) / 100 - 1e-9)));
}

/**
 * Indices of the ⌈k·n/100⌉ cells with the largest |m|. Ties are broken by the lower row-major index
 * first, so the set always has exactly that many cells and never depends on sort stability.
 */
export function computeTopKSet(map: ArrayLike<number>, topKPercent: number): Set<number> {
  const abs = computeAbsolute(map);
  const count = computeTopKCount(map.length, topKPercent);
  const order = Array.from({ length: map.length }, (_, i) => i).sort((i, j) => abs[j]! - abs[i]! || i - j);
  return new Set(order.slice(0, count));
}

/** |A ∩ B| / |A ∪ B| of the two top-k% sets. */
export function computeTopKIou(a: ArrayLike<number>, b: ArrayLike<number>, topKPercent: number): number {
  checkSameLength(a, b);
  const sa = computeTopKSet(a, topKPercent);
  const sb = computeTopKSet(b, topKPercent);
  let inter = 0;
  for (const i of sa) if (sb.has(i)) inter += 1;
  return inter / (sa.size + sb.size - inter);
}

/** a·b / (‖a‖ ‖b‖) of the signed maps; 0 when either is all zeros. */
export function computeCosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkSameLength(a, b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i += 1) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  if (aa === 0 || bb === 0) return 0;
  return clamp(ab / Math.sqrt(aa * bb), -1, 1);
}

function gaussianKernel(radius: number, sigma: number): Float64Array {
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i += 1) {
    k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
    sum += k[i + radius]!;
  }
  for (let i = 0; i < k.length; i += 1) k[i] = k[i]! / sum;
  return k;
}

/** Separable 'valid' filtering: out is (h − 2r) × (w − 2r). */
function filterValid(m: Float64Array, h: number, w: number, k: Float64Array): Float64Array {
  const r = (k.length - 1) / 2;
  const ow = w - 2 * r;
  const oh = h - 2 * r;
  const rows = new Float64Array(h * ow);
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < ow; x += 1) {
      let s = 0;
      for (let t = 0; t < k.length; t += 1) s += k[t]! * m[y * w + x + t]!;
      rows[y * ow + x] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let y = 0; y < oh; y += 1) {
    for (let x = 0; x < ow; x += 1) {
      let s = 0;
      for (let t = 0; t < k.length; t += 1) s += k[t]! * rows[(y + t) * ow + x]!;
      out[y * ow + x] = s;
    }
  }
  return out;
}

/** Local statistics of one pair of windows, a and b. */
interface WindowMoments {
  meanA: number;
  meanB: number;
  varianceA: number;
  varianceB: number;
  covariance: number;
}

/** SSIM of one pair of windows from their moments: luminance × contrast-structure, stabilised by C1 and C2. */
const computeWindowSsim = (m: WindowMoments): number =>
  ((2 * m.meanA * m.meanB + SSIM_C1) * (2 * m.covariance + SSIM_C2)) / ((m.meanA * m.meanA + m.meanB * m.meanB + SSIM_C1) * (m.varianceA + m.varianceB + SSIM_C2));

/**
 * Mean SSIM (Wang, Bovik, Sheikh, Simoncelli 2004) of two images with intensities in [0, 1]: Gaussian
 * window σ = 1.5 truncated to 11 × 11, statistics over the windows that fit inside the map ('valid'),
 * C1 = 0.01², C2 = 0.03². A map smaller than the window is one window with uniform weights.
 */
export function computeSsimOfScaled(a: ArrayLike<number>, b: ArrayLike<number>, height: number, width: number): number {
  checkSameLength(a, b);
  if (a.length !== height * width) throw new RangeError(`maps have ${a.length} values, expected ${height}×${width}`);
  const fa = Float64Array.from(a);
  const fb = Float64Array.from(b);
  if (height < 2 * SSIM_RADIUS + 1 || width < 2 * SSIM_RADIUS + 1) {
    const n = fa.length;
    const mua = fa.reduce((s, v) => s + v, 0) / n;
    const mub = fb.reduce((s, v) => s + v, 0) / n;
    let va = 0;
    let vb = 0;
    let cov = 0;
    for (let i = 0; i < n; i += 1) {
      va += (fa[i]! - mua) ** 2;
      vb += (fb[i]! - mub) ** 2;
      cov += (fa[i]! - mua) * (fb[i]! - mub);
    }
    return clamp(computeWindowSsim({ meanA: mua, meanB: mub, varianceA: va / n, varianceB: vb / n, covariance: cov / n }), -1, 1);
  }
  const k = gaussianKernel(SSIM_RADIUS, SSIM_SIGMA);
  const prod = (x: Float64Array, y: Float64Array): Float64Array => x.map((v, i) => v * y[i]!);
  const mua = filterValid(fa, height, width, k);
  const mub = filterValid(fb, height, width, k);
  const eaa = filterValid(prod(fa, fa), height, width, k);
  const ebb = filterValid(prod(fb, fb), height, width, k);
  const eab = filterValid(prod(fa, fb), height, width, k);
  let total = 0;
  for (let i = 0; i < mua.length; i += 1) {
    const ma = mua[i]!;
    const mb = mub[i]!;
    total += computeWindowSsim({ meanA: ma, meanB: mb, varianceA: eaa[i]! - ma * ma, varianceB: ebb[i]! - mb * mb, covariance: eab[i]! - ma * mb });
  }
  return clamp(total / mua.length, -1, 1);
}

/**
 * SSIM of the signed maps as their diverging heatmaps show them: each map divided by the 99th
 * percentile of its own non-zero |m| and clipped to [−1, 1] (as `--polarity all` draws it), then
 * mapped to intensities (v + 1) / 2, so zero is mid-grey. Without that shift SSIM's luminance and
 * structure terms would both turn negative where a region flips sign, and their product would call
 * the flip a match. Per-map scaling makes a uniform change of scale no drift here (the score
 * delta reports it).
 */
export function computeSsim(a: ArrayLike<number>, b: ArrayLike<number>, height: number, width: number): number {
  checkSameLength(a, b);
  const toIntensity = (m: ArrayLike<number>): Float64Array => Float64Array.from(normaliseMap(m, 'all', SSIM_CLIP_PERCENTILE).values, (v) => (v + 1) / 2);
  return computeSsimOfScaled(toIntensity(a), toIntensity(b), height, width);
}

function isSameMap(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** The two grids of one image, as compared: signed G and magnitude A, both size × size, row-major. */
export interface ComparedGrids {
  size: number;
  signed: ArrayLike<number>;
  magnitude: ArrayLike<number>;
}

/**
 * All four similarities. Identical grids score exactly 1 on each by definition (rounding in the
 * formulas must not turn a run compared with itself into a hair of drift, and two all-zero maps
 * have nothing to disagree about).
 */
export function computeMapSimilarity(a: ComparedGrids, b: ComparedGrids, topKPercent: number): MapSimilarity {
  if (a.size !== b.size) throw new RangeError(`grids of ${a.size}² and ${b.size}² cells`);
  if (isSameMap(a.signed, b.signed) && isSameMap(a.magnitude, b.magnitude)) return { spearman: 1, iou: 1, cosine: 1, ssim: 1 };
  return {
    spearman: computeSpearman(a.magnitude, b.magnitude),
    iou: computeTopKIou(a.magnitude, b.magnitude, topKPercent),
    cosine: computeCosine(a.signed, b.signed),
    ssim: computeSsim(a.signed, b.signed, a.size, a.size),
  };
}
