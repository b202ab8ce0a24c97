/**
 * The explain use case: config → backend → model → image → attribution → report and files.
 * Returns data and writes files; never prints (the CLI does).
 */
import { buildImageOutputNames, type ImageOutput } from './report/run-layout.js';
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  computeScores,
  type Completeness,
  type WeightedGradientSumFn,
} from './attribution/integrated-gradients.js';
import { computeAttributions, type MethodResult } from './attribution/compute-attributions.js';
import { GUIDED_IG_DEFAULTS } from './attribution/guided-ig.js';
import { computeLayerIntegratedGradients, type LayerSplit } from './attribution/layer-ig.js';
import { computeAttributionGrid, computeAttributionStats } from './attribution/summary.js';
import type { Target } from './attribution/types.js';
import { computeConfigHash } from './config/config-hash.js';
import { DEFAULT_START_STEPS, type ExplainConfig } from './config/explain-config.js';
import type { ResizeMode } from './image/preprocess.js';
import { selectBackend, type BackendInfo } from './engine/backend.js';
import { IgxError } from './errors.js';
import { buildBaselinePixels, createRng, parseBaselineSpec, type BaselineSpec } from './image/baselines.js';
import { computePreprocessed, resolvePreprocess } from './image/preprocess.js';
import { readImage, type DecodedImage } from './image/read-image.js';
import { renderHeatmapPng, renderOverlayPng } from './image/render.js';
import { encodeNpy } from './image/npy.js';
import { pickBaselineFiles } from './image/baseline-dir.js';
import { renderMaskPng } from './image/mask.js';
import { renderPanelPng } from './image/panel.js';
import { DEFAULT_MODEL_PATH } from './model/default-model.js';
import { loadModel } from './model/load-model.js';
import type { LoadedModel, ModelForward } from './model/types.js';
import { IGX_VERSION } from './package-info.js';
import { computeBatchPlan, computeDefaultMemoryBudget, computeWorkerBaseBytes, measureBytesPerPoint } from './pool/memory-budget.js';
import { writeFileAtomic } from './report/atomic-write.js';
import { REPORT_SCHEMA_VERSION, ReportSchema, type Report } from './report/schema.js';

export interface ExplainSession {
  config: ExplainConfig;
  backend: BackendInfo;
  model: LoadedModel;
  /** The path the report names: as given, or the embedded default's. */
  modelPath: string;
  isDefaultModel: boolean;
  forward: ModelForward;
  preprocess: { mean: number[]; std: number[] };
  resize: ResizeMode;
  batchSize: number;
  /** sha256 of the settings that decide the outputs (see buildOutcomeConfig): equal hash, reusable outputs. */
  configHash: string;
  /** How the batch size fits the memory budget; the worker pool sizes itself from it too. */
  memory: SessionMemory;
  /** Where gradient batches run; set by the worker pool. Undefined: in this thread. */
  gradientRunner?: GradientRunner;
  loadMs: number;
  /** --layer: the model cut at that layer, made on first use. */
  layerSplit?: LayerSplit;
}

export interface SessionMemory {
  /** --max-memory, or half the memory available when the session opened. */
  budgetBytes: number;
  /** Peak tensor bytes one interpolation point adds to a forward + input-gradient pass. */
  bytesPerPoint: number;
  /** The model's weights in the backend. */
  modelBytes: number;
  /** One worker's model and one batch of `batchSize` points. */
  bytesPerWorker: number;
  /** The budget made the automatic batch size smaller than the input size would give. */
  isBatchLimitedByBudget: boolean;
}

/** Runs an image's gradient batches elsewhere: igx's worker pool implements it. */
export interface GradientRunner {
  /** Batches an image requests ahead of the one it is adding (to keep every worker busy). */
  batchesAhead: number;
  /** Makes an image's input and baselines (preprocessed, [1, h, w, c] each) available to the batches. */
  openImage(image: GradientImage): GradientJob;
}

export interface GradientImage {
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

/**
 * Interpolation points per model call when --batch-size is not given: about 2.4 M input values per
 * call keeps activations of ImageNet-size CNNs in the hundreds of MB (224×224×3 → 16 points).
 */
export function computeAutoBatchSize(height: number, width: number, channels: number): number {
  return Math.max(1, Math.min(64, Math.floor(2.4e6 / (height * width * channels))));
}

export interface ExplainModel {
  backend: BackendInfo;
  model: LoadedModel;
  modelPath: string;
  isDefaultModel: boolean;
  forward: ModelForward;
  /** Bytes the model's weights took in the backend. */
  modelBytes: number;
}

/** Backend, model and forward as the config asks: the session's, and each pool worker's own. */
export async function loadExplainModel(config: ExplainConfig): Promise<ExplainModel> {
  const backend = await selectBackend(config.backend);
  const isDefaultModel = config.model === undefined;
  const modelPath = config.model ?? DEFAULT_MODEL_PATH;
  const bytesBefore = tf.memory().numBytes;
  const model = await loadModel(modelPath, { signature: config.signature, tags: config.tags, input: config.input });
  try {
    const forward = model.buildForward({
      output: config.output ?? model.sidecar?.output,
      outputSpace: config.outputSpace ?? model.sidecar?.outputSpace,
    });
    return { backend, model, modelPath, isDefaultModel, forward, modelBytes: Math.max(0, tf.memory().numBytes - bytesBefore) };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

export async function openExplainSession(config: ExplainConfig): Promise<ExplainSession> {
  const started = performance.now();
  const { backend, model, modelPath, isDefaultModel, forward, modelBytes } = await loadExplainModel(config);
  try {
    const [height, width, channels] = model.inputShape;
    const preprocess = resolvePreprocess(config.preprocess ?? model.sidecar?.preprocess ?? model.defaultPreprocess ?? '[-1,1]', channels);
    const budgetBytes = config.maxMemoryBytes ?? computeDefaultMemoryBudget();
    // One backward at batch 1 says what a point costs; the batch size follows from it and the budget.
    // A graph with a fixed batch b runs b points for that one: batches of b waste no padding.
    const fixedBatch = model.fixedBatch ?? 1;
    const bytesPerPoint = (await measureBytesPerPoint(forward.forward, model.inputShape)) / fixedBatch;
    const plan = computeBatchPlan({
      budgetBytes,
      bytesPerPoint,
      modelBytes,
      autoBatchSize: model.fixedBatch ?? computeAutoBatchSize(height, width, channels),
      isWasm: backend.kind === 'wasm',
    });
    if (plan === null) {
      throw new IgxError(
        'E_UNSUPPORTED_OP',
        `${modelPath}: one interpolation point needs ${(bytesPerPoint / 1024 ** 3).toFixed(1)} GiB in the backward pass, more than a wasm heap holds (4 GiB); use a smaller input or --backend tensorflow`,
      );
    }
    const batchSize = config.batchSize ?? plan.batchSize;
    return {
      config,
      backend,
      model,
      modelPath,
      isDefaultModel,
      forward,
      preprocess,
      resize: config.resize ?? model.sidecar?.resize ?? 'cover',
      batchSize,
      configHash: computeConfigHash(config, model.sha256),
      memory: {
        budgetBytes,
        bytesPerPoint,
        modelBytes,
        bytesPerWorker: computeWorkerBaseBytes(modelBytes) + batchSize * bytesPerPoint,
        isBatchLimitedByBudget: config.batchSize === undefined && plan.isLimitedByBudget,
      },
      loadMs: performance.now() - started,
    };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

export function closeExplainSession(session: ExplainSession): void {
  session.model.dispose();
}

/** Layer IG in the shape of computeAttributions' result, plus the layer's own maps. */
async function computeLayerAttributions(
  split: LayerSplit,
  input: tf.Tensor4D,
  baselines: tf.Tensor4D[],
  target: Target,
  options: { method: ExplainConfig['method']; steps: number; adaptive?: { tolerance: number; maxSteps: number }; batchSize: number },
): Promise<MethodResult> {
  const r = await computeLayerIntegratedGradients(split, input, baselines, target, options);
  return {
    attributions: tf.tensor3d(r.attributions, r.shape),
    completeness: r.completeness,
    perBaseline: baselines.map(() => ({ completeness: r.completeness, steps: r.steps, isConverged: r.isConverged })),
    steps: r.steps,
    isConverged: r.isConverged,
    isCompletenessApplicable: true,
    layer: { name: r.layerName, shape: r.shape, attributions: r.attributions, channelTotals: r.channelTotals, spatialMap: r.spatialMap },
  };
}

/** A [h, w] map scaled up to [height, width, channels] by nearest neighbour, each value split evenly over the channels. */
export function computeUpsampledMap(map: ArrayLike<number>, h: number, w: number, height: number, width: number, channels: number): Float32Array {
  const out = new Float32Array(height * width * channels);
  for (let y = 0; y < height; y += 1) {
    const sy = Math.min(h - 1, Math.floor((y * h) / height));
    for (let x = 0; x < width; x += 1) {
      const v = (map[sy * w + Math.min(w - 1, Math.floor((x * w) / width))] as number) / channels;
      for (let k = 0; k < channels; k += 1) out[(y * width + x) * channels + k] = v;
    }
  }
  return out;
}

/** --target text → the index (or pair) F reads. */
export function resolveTarget(text: string, scores: number[], labels: string[] | undefined): { target: Target; rule: string } {
  const n = scores.length;
  const one = (s: string): number | undefined => {
    if (/^\d+$/.test(s)) return Number(s) < n ? Number(s) : undefined;
    const i = labels?.findIndex((l) => l.toLowerCase() === s.trim().toLowerCase()) ?? -1;
    return i >= 0 ? i : undefined;
  };
  if (text === 'top') {
    let best = 0;
    scores.forEach((v, i) => {
      if (v > (scores[best] ?? -Infinity)) best = i;
    });
    return { target: { kind: 'index', index: best }, rule: 'top' };
  }
  const single = one(text);
  if (single !== undefined) return { target: { kind: 'index', index: single }, rule: /^\d+$/.test(text) ? 'index' : 'label' };
  // A-B: labels may hold hyphens themselves, so try every split.
  for (let i = text.indexOf('-'); i > 0; i = text.indexOf('-', i + 1)) {
    const a = one(text.slice(0, i));
    const b = one(text.slice(i + 1));
    if (a !== undefined && b !== undefined) return { target: { kind: 'difference', a, b }, rule: 'difference' };
  }
  throw new IgxError(
    'E_TARGET',
    `--target: expected top, a class index 0..${n - 1}${labels ? ', a label' : ''} or A-B, received ${JSON.stringify(text)}`,
  );
}

const RANDOM_KINDS = new Set(['uniform', 'gaussian']);

function toJsonCompleteness(c: Completeness) {
  return { ...c, relativeError: Number.isFinite(c.relativeError) ? c.relativeError : null };
}

/**
 * Output file names for an image: photo.jpg → photo.ig.png, photo.overlay.png, photo.ig.json, photo.ig.npy.
 * `outputStem` (a path under --out without extension, e.g. a/photo) mirrors an input tree.
 */
export function buildOutputNames(imagePath: string, outputStem?: string): Record<ImageOutput, string> {
  return buildImageOutputNames(imagePath, outputStem);
}

export interface ExplainImageOptions {
  /** Where under --out the files go, without extension (default: the image's base name). */
  outputStem?: string;
  onProgress?: (p: ExplainProgress) => void;
}

/**
 * Explains one image and writes its files. Nothing is written unless everything was computed, and each
 * file goes to a temporary name first, so a failure or an interrupt leaves no half file.
 */
/**
 * Points and refinement for the configured method: the blur path takes a fixed number of steps (100),
 * straight IG adds points from 50, guided IG walks 50 steps and halves its worst ones.
 */
export function resolveStepPlan(config: Pick<ExplainConfig, 'steps' | 'path' | 'tolerance' | 'maxSteps'>): {
  steps: number;
  adaptive: { tolerance: number; maxSteps: number } | undefined;
} {
  const isAdaptive = config.steps === undefined && config.path !== 'blur';
  return {
    steps: config.steps ?? (config.path === 'guided' ? GUIDED_IG_DEFAULTS.steps : config.path === 'blur' ? 100 : DEFAULT_START_STEPS),
    adaptive: isAdaptive ? { tolerance: config.tolerance, maxSteps: config.maxSteps } : undefined,
  };
}

export async function explainImage(
  session: ExplainSession,
  imagePath: string,
  options: ExplainImageOptions = {},
): Promise<ExplainResult> {
  const { config, model, forward, preprocess } = session;
  const { onProgress, outputStem } = options;
  const timingsMs: Record<string, number> = {};
  const t0 = performance.now();
  const [height, width, channels] = model.inputShape;
  const readOptions = { height, width, channels: channels as 1 | 3, resize: session.resize, maxPixels: config.maxPixels };
  const image: DecodedImage = await readImage(imagePath, readOptions);

  // Baselines in pixel space, through the same preprocessing as the image.
  const rng = createRng(config.seed);
  const specs: { spec: BaselineSpec; text: string; sample: number }[] = [];
  // Expected gradients: --baseline-dir adds K images drawn from a folder with the seed.
  const baselineTexts = config.baselineDir
    ? [...config.baselines.filter((b) => b !== 'black' || config.baselines.length > 1), ...(await pickBaselineFiles(config.baselineDir, config.baselineSamples, config.seed))]
    : config.baselines;
  for (const text of baselineTexts) {
    const spec = parseBaselineSpec(text);
    const samples = RANDOM_KINDS.has(spec.kind) && !config.baselineDir ? config.baselineSamples : 1;
    for (let s = 0; s < samples; s += 1) specs.push({ spec, text, sample: s });
  }
  const baselinePixels: Float32Array[] = [];
  for (const { spec } of specs) baselinePixels.push(await buildBaselinePixels(spec, image, rng, readOptions));
  timingsMs.decodeMs = performance.now() - t0;

  const shape: [number, number, number, number] = [1, height, width, channels];
  const inputData = computePreprocessed(image.pixels, channels, preprocess);
  const baselineData = baselinePixels.map((p) => computePreprocessed(p, channels, preprocess));
  const input = tf.tensor4d(inputData, shape);
  const baselines = baselineData.map((d) => tf.tensor4d(d, shape));
  let attributions: Float32Array;
  let raw: { values: Float32Array; shape: [number, number, number] };
  let report: Report;
  let job: GradientJob | undefined;
  try {
    const t1 = performance.now();
    const scores = tf.tidy(() => Array.from(forward.forward(input).dataSync()));
    const labels = forward.labels;
    const label = (i: number): string | null => labels?.[i] ?? null;
    const { target, rule } = resolveTarget(config.target, scores, labels);
    const top = scores.indexOf(Math.max(...scores));
    job = session.gradientRunner?.openImage({ shape, input: inputData, baselines: baselineData, target });
    const { steps, adaptive } = resolveStepPlan(config);
    const layerSplit = config.layer === undefined ? undefined : (session.layerSplit ??= model.splitAt(config.layer, { output: config.output, outputSpace: config.outputSpace }));
    const result = layerSplit
      ? await computeLayerAttributions(layerSplit, input, baselines, target, {
          method: config.method,
          steps,
          adaptive,
          batchSize: session.batchSize,
        })
      : await computeAttributions(
      forward.forward,
      input,
      baselines,
      target,
      {
        method: config.method,
        steps,
        adaptive,
        batchSize: session.batchSize,
        onProgress: onProgress ? (e) => onProgress(e) : undefined,
        weightedGradientSum: job?.weightedGradientSum,
        batchesAhead: session.gradientRunner?.batchesAhead,
      },
      { kind: config.path, blurMaxSigma: config.maxSigma },
      config.smooth,
      config.seed,
    );
    job?.close();
    job = undefined;
    try {
      attributions = (await result.attributions.data()) as Float32Array;
    } finally {
      result.attributions.dispose();
    }
    if (result.layer) {
      // Layer IG: reports and raw files keep the layer's own [h, w, c]; pictures show its spatial map,
      // scaled up to the image (nearest neighbour) and spread over the image's channels.
      raw = { values: result.layer.attributions, shape: result.layer.shape };
      attributions = computeUpsampledMap(result.layer.spatialMap, result.layer.shape[0], result.layer.shape[1], height, width, channels);
    } else {
      raw = { values: attributions, shape: [height, width, channels] };
    }
    timingsMs.attributionMs = performance.now() - t1;
    // Each baseline's own F(x′) is in its completeness, except where the method reports one shared
    // completeness for all (smoothing, layer IG): only then score the baselines again.
    const isSharedCompleteness = config.smooth !== undefined || config.layer !== undefined;
    const baselineScores = isSharedCompleteness
      ? baselines.map((b) => computeScores(forward.forward, b, target)[0] ?? NaN)
      : result.perBaseline.map((p) => p.completeness.fBaseline);

    const c = result.completeness;
    const scale = Math.max(Math.abs(c.fx), Math.abs(c.fBaseline));
    const isWithinTolerance =
      !result.isCompletenessApplicable || (c.isDeltaNegligible ? c.absoluteError <= config.tolerance * scale : c.relativeError <= config.tolerance);
    const warnings: string[] = [];
    if (!result.isCompletenessApplicable) warnings.push(`completeness does not apply to ${config.smooth?.kind}: its map is not a sum of IG attributions`);
    if (c.isDeltaNegligible) {
      warnings.push(`|F(x) − F(x′)| = ${Math.abs(c.fx - c.fBaseline).toExponential(2)} is too small for the relative completeness error to mean anything`);
    }
    if (adaptive !== undefined && !result.isConverged) {
      warnings.push(`completeness tolerance ${config.tolerance} not reached within --max-steps ${config.maxSteps}`);
    }
    const names = buildOutputNames(imagePath, outputStem);
    const index = target.kind === 'index' ? target.index : target.a;
    report = {
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
      image: { path: imagePath, sha256: image.sha256, width: image.source.width, height: image.source.height, format: image.source.format },
      preprocess: { mean: preprocess.mean, std: preprocess.std, resize: session.resize },
      prediction: { index: top, label: label(top), score: scores[top] ?? NaN },
      target: {
        rule,
        index,
        label: label(index),
        score: c.fx,
        minus: target.kind === 'difference' ? { index: target.b, label: label(target.b), score: scores[target.b] ?? NaN } : null,
      },
      method: config.method,
      steps: result.steps,
      adaptive: adaptive === undefined ? null : { ...adaptive, isConverged: result.isConverged },
      path: { kind: config.path, maxSigma: config.path === 'blur' ? config.maxSigma : null },
      smoothing: config.smooth ?? null,
      layer: result.layer
        ? {
            name: result.layer.name,
            shape: result.layer.shape,
            // The channels that carry the most attribution, by |total|.
            topChannels: Array.from(result.layer.channelTotals, (total, index) => ({ index, total }))
              .sort((a, b) => Math.abs(b.total) - Math.abs(a.total) || a.index - b.index)
              .slice(0, 10),
          }
        : null,
      seed: config.seed,
      batchSize: session.batchSize,
      baselines: (config.path === 'blur' ? [{ spec: { kind: 'blur-path' }, text: `blur:${config.maxSigma}`, sample: 0 }] : specs).map((s, i) => {
        const per = result.perBaseline[i]!;
        return {
          kind: s.spec.kind,
          spec: s.text,
          sample: s.sample,
          score: baselineScores[i] ?? NaN,
          steps: per.steps,
          completeness: toJsonCompleteness(per.completeness),
        };
      }),
      completeness: { ...toJsonCompleteness(c), tolerance: config.tolerance, isWithinTolerance, isApplicable: result.isCompletenessApplicable },
      backend: { requested: session.backend.requested, kind: session.backend.kind, name: session.backend.tfBackend },
      attribution: {
        shape: raw.shape,
        grid: { size: 32, values: computeAttributionGrid(raw.values, ...raw.shape, 32) },
        stats: computeAttributionStats(raw.values),
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
      warnings,
      timingsMs,
    };
  } finally {
    job?.close();
    input.dispose();
    tf.dispose(baselines);
  }

  const t2 = performance.now();
  const renderOptions = { polarity: config.polarity, clipPercentile: config.clipPercentile };
  const heatmap = await renderHeatmapPng(attributions, height, width, channels, renderOptions);
  const overlay = await renderOverlayPng(image.pixels, attributions, height, width, channels, renderOptions);
  const maskOptions = { blurSigma: config.mask?.blurPx ?? 4, threshold: config.mask?.threshold ?? 0.9, polarity: config.polarity };
  const mask = config.mask ? await renderMaskPng(image.pixels, attributions, height, width, channels, maskOptions) : undefined;
  const panel = config.panel
    ? await renderPanelPng({
        pixels: image.pixels,
        attributions,
        height,
        width,
        channels,
        polarity: config.polarity,
        clipPercentile: config.clipPercentile,
        mask: maskOptions,
        label: report.target.label ?? `class ${report.target.index}`,
        score: report.target.score,
        completenessError: report.completeness.isApplicable ? report.completeness.relativeError : null,
      })
    : undefined;
  timingsMs.renderMs = performance.now() - t2;
  timingsMs.totalMs = performance.now() - t0;
  ReportSchema.parse(report);

  const names = buildOutputNames(imagePath, outputStem);
  const files = {
    report: join(config.out, names.report),
    heatmap: join(config.out, names.heatmap),
    overlay: join(config.out, names.overlay),
    raw: config.saveRaw ? join(config.out, names.raw) : null,
    mask: mask ? join(config.out, names.mask) : null,
    panel: panel ? join(config.out, names.panel) : null,
  };
  const writes: [string, Buffer | string][] = [
    [files.heatmap, heatmap],
    [files.overlay, overlay],
    ...(files.raw ? ([[files.raw, encodeNpy(raw.values, raw.shape)]] as [string, Buffer][]) : []),
    ...(files.mask && mask ? ([[files.mask, mask]] as [string, Buffer][]) : []),
    ...(files.panel && panel ? ([[files.panel, panel]] as [string, Buffer][]) : []),
    // The report last: its presence says the image's outputs are complete.
    [files.report, `${JSON.stringify(report, null, 2)}\n`],
  ];
  const written: string[] = [];
  try {
    await mkdir(dirname(files.report), { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      throw new IgxError('E_WRITE', `--out ${config.out}: cannot create the folder (${err.code ?? err.message})`);
    });
    for (const [path, bytes] of writes) {
      await writeFileAtomic(path, bytes);
      written.push(path);
    }
  } catch (err) {
    // All or nothing: an image without its report would look finished to the next run.
    await Promise.all(written.map((p) => rm(p, { force: true })));
    throw err;
  }
  return { report, files };
}

