/**
 * An explain session: the backend, the model and everything derived from them once for many images
 * (preprocessing, batch size, memory plan, config hash, the layer cut for layer IG).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerSplit } from '../attribution/layer-ig.js';
import { computeConfigHash } from '../config/config-hash.js';
import type { ExplainConfig } from '../config/explain-config.js';
import { selectBackend, type BackendInfo } from '../engine/backend.js';
import { IgxError } from '../errors.js';
import { resolvePreprocess, type ResizeMode } from '../image/preprocess.js';
import { DEFAULT_MODEL_PATH } from '../model/default-model.js';
import { loadModel } from '../model/load-model.js';
import type { LoadedModel, ModelForward } from '../model/types.js';
import { computeBatchPlan, computeDefaultMemoryBudget, computeWorkerBaseBytes, measureBytesPerPoint, type BatchPlan } from './pool/memory-budget.js';
import { resolveTarget } from './resolve-target.js';
import type { GradientRunner } from './ports.js';

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
  /** --layer: the model cut at that layer. */
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
  /** --layer: the model cut at that layer. */
  layerSplit?: LayerSplit;
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
    const modelBytes = Math.max(0, tf.memory().numBytes - bytesBefore);
    const layerSplit = config.layer === undefined ? undefined : model.splitAt(config.layer, { output: config.output, outputSpace: config.outputSpace });
    return { backend, model, modelPath, isDefaultModel, forward, modelBytes, ...(layerSplit ? { layerSplit } : {}) };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

const toGiB = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

/**
 * --batch-size given: refused when its batch cannot fit a wasm heap (igx-wasm would abort with "memory
 * access out of bounds") or the memory budget, with the largest that fits.
 */
function checkExplicitBatchSize(batchSize: number, p: { plan: BatchPlan; bytesPerPoint: number }): void {
  const needs = toGiB(batchSize * p.bytesPerPoint);
  if (batchSize > p.plan.maxByHeap) {
    throw new IgxError('E_FLAG', `--batch-size ${batchSize}: one batch needs about ${needs} in the backward pass, more than a wasm heap holds (4 GiB); at most ${p.plan.maxByHeap} fits`);
  }
  if (batchSize > p.plan.maxByBudget) {
    throw new IgxError('E_FLAG', `--batch-size ${batchSize}: one batch needs about ${needs}, more than the memory budget (--max-memory) holds; at most ${p.plan.maxByBudget} fits, or raise --max-memory`);
  }
}

/** The batch size and memory plan: one backward at batch 1 says what a point costs. */
async function planMemory(config: ExplainConfig, loaded: ExplainModel): Promise<{ batchSize: number; memory: SessionMemory }> {
  const { model, forward, modelBytes, backend, modelPath } = loaded;
  const [height, width, channels] = model.inputShape;
  const budgetBytes = config.maxMemoryBytes ?? computeDefaultMemoryBudget();
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
  if (config.batchSize !== undefined) checkExplicitBatchSize(config.batchSize, { plan, bytesPerPoint });
  const batchSize = config.batchSize ?? plan.batchSize;
  return {
    batchSize,
    memory: {
      budgetBytes,
      bytesPerPoint,
      modelBytes,
      bytesPerWorker: computeWorkerBaseBytes(modelBytes) + batchSize * bytesPerPoint,
      isBatchLimitedByBudget: config.batchSize === undefined && plan.isLimitedByBudget,
    },
  };
}

export async function openExplainSession(config: ExplainConfig): Promise<ExplainSession> {
  const started = performance.now();
  const loaded = await loadExplainModel(config);
  const { model } = loaded;
  try {
    const preprocess = resolvePreprocess(config.preprocess ?? model.sidecar?.preprocess ?? model.defaultPreprocess ?? '[-1,1]', model.inputShape[2]);
    // A --target that names no class fails here, before any run (or its manifest) starts.
    resolveTarget(config.target, new Array<number>(loaded.forward.numClasses).fill(0), loaded.forward.labels);
    const { batchSize, memory } = await planMemory(config, loaded);
    const { layerSplit } = loaded;
    return {
      config,
      backend: loaded.backend,
      model,
      modelPath: loaded.modelPath,
      isDefaultModel: loaded.isDefaultModel,
      forward: loaded.forward,
      preprocess,
      resize: config.resize ?? model.sidecar?.resize ?? 'cover',
      batchSize,
      configHash: computeConfigHash(config, model.sha256),
      memory,
      loadMs: performance.now() - started,
      ...(layerSplit ? { layerSplit } : {}),
    };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

export function closeExplainSession(session: ExplainSession): void {
  session.model.dispose();
}
