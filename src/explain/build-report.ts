/** The report of one explained image: what was explained, how, the completeness verdict, the outputs. */
import { basename } from 'node:path';
import type { MethodResult } from '../attribution/compute-attributions.js';
import { NEGLIGIBLE_DELTA, type AdaptiveOptions, type Completeness } from '../attribution/integrated-gradients.js';
import type { Target } from '../attribution/types.js';
import type { ExplainConfig } from '../config/explain-config.js';
import { computeAttributionGrid, computeAttributionStats } from '../numeric/attribution-summary.js';
import type { ReadSpace } from '../model/output-space.js';
import { IGX_VERSION } from '../package-info.js';
import type { ImageOutput } from '../report/run-layout.js';
import { REPORT_SCHEMA_VERSION, type Report } from '../report/schema.js';
import type { PreparedImage } from './prepare-image.js';
import type { ExplainSession } from './session.js';

/** Cells per side of the report's attribution grid. */
const GRID_SIZE = 32;
/** Layer IG: the report lists this many channels with the largest |total| attribution. */
const TOP_CHANNELS = 10;

const finiteOrNull = (x: number | null): number | null => (x !== null && Number.isFinite(x) ? x : null);

/**
 * The map's estimated per-pixel error against --map-tolerance (else --tolerance), and a warning when it
 * is above: completeness is a sum whose errors can cancel, so it alone can pass a map that is far off.
 */
export function judgeConvergence(config: ExplainConfig, result: MethodResult): { convergence: Report['convergence']; warnings: string[] } {
  const tolerance = config.mapTolerance ?? config.tolerance;
  const estimatedError = finiteOrNull(result.estimatedError);
  const isWithinTolerance = estimatedError === null ? null : estimatedError <= tolerance;
  const warnings =
    isWithinTolerance === false
      ? [`the map is not converged: its estimated per-pixel error ${estimatedError?.toFixed(4)} is above ${tolerance} (it changed that much from its previous, coarser rule); more --steps, or --map-tolerance with adaptive steps, refine it`]
      : [];
  return { convergence: { estimatedError, tolerance, isWithinTolerance }, warnings };
}

function toJsonCompleteness(c: Completeness) {
  return { ...c, relativeError: Number.isFinite(c.relativeError) ? c.relativeError : null };
}

/**
 * Whether completeness holds within --tolerance, and the warnings that qualify the verdict. Where
 * |F(x) − F(x′)| < NEGLIGIBLE_DELTA the relative error divides noise by noise, so the absolute error
 * is held to tolerance × max(|F(x)|, |F(x′)|) instead: the same tolerance, relative to F's own size.
 */
export function judgeCompleteness(
  config: ExplainConfig,
  result: MethodResult,
  run: { isAdaptive: boolean; space?: ReadSpace },
): { isWithinTolerance: boolean; warnings: string[] } {
  const c = result.completeness;
  const threshold = config.tolerance * Math.max(Math.abs(c.fx), Math.abs(c.fBaseline));
  const isWithinTolerance =
    !result.isCompletenessApplicable || (c.isDeltaNegligible ? c.absoluteError <= threshold : c.relativeError <= config.tolerance);
  const warnings: string[] = [];
  if (!result.isCompletenessApplicable) warnings.push(`completeness does not apply to ${config.smooth?.kind}: its map is not a sum of IG attributions`);
  if (c.isDeltaNegligible) {
    const hint = run.space === 'probabilities' ? '; a saturated probability barely moves: --output-space logits explains the logit, which does' : '';
    warnings.push(
      `|F(x) − F(x′)| = ${Math.abs(c.fx - c.fBaseline).toExponential(2)} is below ${NEGLIGIBLE_DELTA}, too small for a relative error: ` +
        `completeness is judged on |Σ − ΔF| = ${c.absoluteError.toExponential(2)} against tolerance × max(|F(x)|, |F(x′)|) = ${threshold.toExponential(2)}${hint}`,
    );
  }
  if (run.isAdaptive && !result.isConverged) {
    const what = config.mapTolerance === undefined ? `completeness tolerance ${config.tolerance}` : `completeness tolerance ${config.tolerance} or map tolerance ${config.mapTolerance}`;
    warnings.push(`${what} not reached within --max-steps ${config.maxSteps}`);
  }
  return { isWithinTolerance, warnings };
}

export interface ReportInputs {
  session: ExplainSession;
  imagePath: string;
  prepared: PreparedImage;
  /** The model's outputs for the input, all classes. */
  scores: number[];
  target: Target;
  /** How the target was chosen: top, index, label, difference. */
  rule: string;
  result: MethodResult;
  /** What the raw file holds: the input's [h, w, c] attributions, or the layer's for layer IG. */
  raw: { values: Float32Array; shape: [number, number, number] };
  /** F(x′) of each baseline entry, in order. */
  baselineScores: number[];
  adaptive: AdaptiveOptions | undefined;
  names: Record<ImageOutput, string>;
  timingsMs: Record<string, number>;
}

function buildLayerSection(result: MethodResult): Report['layer'] {
  if (!result.layer) return null;
  return {
    name: result.layer.name,
    shape: result.layer.shape,
    topChannels: Array.from(result.layer.channelTotals, (total, index) => ({ index, total }))
      .sort((a, b) => Math.abs(b.total) - Math.abs(a.total) || a.index - b.index)
      .slice(0, TOP_CHANNELS),
  };
}

/** Blur IG has one path, from the blurred input: the report lists it as the baseline `blur:σ`. */
function buildBaselinesSection(r: ReportInputs): Report['baselines'] {
  const { config } = r.session;
  const entries = config.path === 'blur' ? [{ spec: { kind: 'blur-path' }, text: `blur:${config.maxSigma}`, sample: 0 }] : r.prepared.baselines;
  return entries.map((s, i) => {
    const per = r.result.perBaseline[i]!;
    const estimatedError = finiteOrNull(per.estimatedError);
    return { kind: s.spec.kind, spec: s.text, sample: s.sample, score: r.baselineScores[i] ?? NaN, steps: per.steps, completeness: toJsonCompleteness(per.completeness), estimatedError };
  });
}

export function buildReport(r: ReportInputs): Report {
  const { session, result, target, scores, names } = r;
  const { config, model, forward } = session;
  const labels = forward.labels;
  const label = (i: number): string | null => labels?.[i] ?? null;
  const top = scores.indexOf(Math.max(...scores));
  const index = target.kind === 'index' ? target.index : target.a;
  const c = result.completeness;
  const { isWithinTolerance, warnings } = judgeCompleteness(config, result, { isAdaptive: r.adaptive !== undefined, space: forward.space });
  const { convergence, warnings: mapWarnings } = judgeConvergence(config, result);
  const image = r.prepared.image;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    igxVersion: IGX_VERSION,
    configHash: session.configHash,
    model: {
      path: session.modelPath,
      format: model.format,
      sha256: model.sha256,
      inputShape: model.inputShape,
      output: { name: forward.outputName, index: forward.outputIndex, space: forward.space },
    },
    image: { path: r.imagePath, sha256: image.sha256, width: image.source.width, height: image.source.height, format: image.source.format },
    preprocess: { mean: session.preprocess.mean, std: session.preprocess.std, resize: session.resize },
    prediction: { index: top, label: label(top), score: scores[top] ?? NaN },
    target: {
      rule: r.rule,
      index,
      label: label(index),
      score: c.fx,
      minus: target.kind === 'difference' ? { index: target.b, label: label(target.b), score: scores[target.b] ?? NaN } : null,
    },
    method: config.method,
    steps: result.steps,
    adaptive: r.adaptive === undefined ? null : { tolerance: r.adaptive.tolerance, mapTolerance: r.adaptive.mapTolerance ?? null, maxSteps: r.adaptive.maxSteps, isConverged: result.isConverged },
    path: { kind: config.path, maxSigma: config.path === 'blur' ? config.maxSigma : null },
    smoothing: config.smooth ?? null,
    layer: buildLayerSection(result),
    seed: config.seed,
    batchSize: session.batchSize,
    baselines: buildBaselinesSection(r),
    completeness: { ...toJsonCompleteness(c), tolerance: config.tolerance, isWithinTolerance, isApplicable: result.isCompletenessApplicable },
    convergence,
    backend: { requested: session.backend.requested, kind: session.backend.kind, name: session.backend.tfBackend },
    attribution: {
      shape: r.raw.shape,
      grid: { size: GRID_SIZE, values: computeAttributionGrid(r.raw.values, r.raw.shape, GRID_SIZE) },
      stats: computeAttributionStats(r.raw.values),
      polarity: config.polarity,
      clipPercentile: config.clipPercentile,
    },
    outputs: {
      heatmap: basename(names.heatmap),
      overlay: basename(names.overlay),
      raw: config.saveRaw ? basename(names.raw) : null,
      mask: config.mask ? basename(names.mask) : null,
      panel: config.panel ? basename(names.panel) : null,
    },
    warnings: [...warnings, ...mapWarnings],
    timingsMs: r.timingsMs,
  };
}
