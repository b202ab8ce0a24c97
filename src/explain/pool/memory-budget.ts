/**
 * The memory budget of IG's gradient work: how many bytes one interpolation point costs in a model's
 * backward pass, and the batch size and worker count that fit a budget. The batch size never depends on
 * the worker count: batches are the unit of summation, and the same batches must be summed the same
 * way on any number of workers.
 */
import { freemem, totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { buildGradientOfSum } from '../../attribution/integrated-gradients.js';
import type { ForwardFn } from '../../attribution/types.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * tfjs-backend-wasm 4.22 is built with a maximum heap of 4 GiB − 64 KiB (emscripten's getHeapMax); each
 * wasm instance, so each worker, has its own.
 */
export const WASM_HEAP_LIMIT_BYTES = 4 * GiB - 64 * 1024;

/**
 * The gradient working set one batch aims at. Beyond a few points per call a step is no faster
 * (measured on wasm: MobileNetV2-1.4 76–78 ms per point at batch 2, 4, 8 and 16; the default model
 * 10.4, 8.8, 8.6 ms at 4, 15, 32), while the wasm heap, which never shrinks, keeps the largest batch's
 * size as RSS (MobileNetV2 at 16: 3.3 GB).
 */
export const TARGET_BATCH_BYTES = 1 * GiB;

/** The default budget: this share of the memory available when igx starts. */
export const DEFAULT_MEMORY_SHARE = 0.5;

/**
 * What one worker costs before any batch, besides its model: a V8 isolate, tfjs, sharp's bindings and
 * the compiled wasm module (measured: about 60 MB of RSS per worker thread).
 */
export const WORKER_BASE_BYTES = 128 * MiB;

/** Room kept free under the wasm heap limit for XNNPACK's buffers and heap fragmentation. */
const WASM_HEAP_MARGIN_BYTES = 256 * MiB;

/** Half of the memory available now: free memory, or what the cgroup limit leaves, whichever is less. */
export function computeDefaultMemoryBudget(): number {
  let available = freemem();
  const limit = process.constrainedMemory?.();
  // Unconstrained processes report 0, undefined or a huge number (2^64).
  if (limit !== undefined && limit > 0 && limit < totalmem()) {
    available = Math.min(available, Math.max(0, limit - process.memoryUsage().rss));
  }
  return Math.floor(DEFAULT_MEMORY_SHARE * available);
}

/**
 * Bytes of tensors one interpolation point adds at the peak of a forward + input-gradient pass: tfjs's
 * own accounting (tf.profile's peak) at batch 1, so the same for every run of a model and input size.
 * The peak grows linearly with the batch (a little less: some buffers are per call), so n points take
 * at most n times this. Leaves one batch-1 backward's worth in the backend's memory pool.
 */
export async function measureBytesPerPoint(forward: ForwardFn, inputShape: [number, number, number]): Promise<number> {
  const gradOfSum = buildGradientOfSum(forward, { kind: 'index', index: 0 });
  const x = tf.zeros([1, ...inputShape]) as tf.Tensor4D;
  const restore = skipKernelTiming();
  try {
    const before = tf.memory().numBytes;
    const profile = await tf.profile(() => {
      tf.tidy(() => {
        gradOfSum(x);
      });
    });
    return Math.max(0, profile.peakBytes - before);
  } finally {
    restore();
    x.dispose();
  }
}

/**
 * tf.profile times each kernel, and on backends without a timer (wasm, cpu) it reads every kernel's
 * output back to JS to do so: hundreds of MB of copies for a real CNN. igx only wants the byte counts,
 * so the active backend reports a timer that runs the kernel and says 0 ms, until `restore`.
 */
function skipKernelTiming(): () => void {
  const backend = tf.backend() as unknown as Record<string, unknown>;
  const own = { timerAvailable: Object.hasOwn(backend, 'timerAvailable'), time: Object.hasOwn(backend, 'time') };
  const saved = { timerAvailable: backend.timerAvailable, time: backend.time };
  backend.timerAvailable = () => true;
  backend.time = async (f: () => void) => {
    f();
    return { kernelMs: 0 };
  };
  return () => {
    for (const key of ['timerAvailable', 'time'] as const) {
      if (own[key]) backend[key] = saved[key];
      else delete backend[key];
    }
  };
}

export interface BatchPlanInput {
  budgetBytes: number;
  bytesPerPoint: number;
  /** Bytes of the model's weights in the backend. */
  modelBytes: number;
  /** The batch the input size alone would give (computeAutoBatchSize). */
  autoBatchSize: number;
  /** True when the batches run on a wasm heap, with its 4 GiB ceiling. */
  isWasm: boolean;
}

export interface BatchPlan {
  batchSize: number;
  /** What one worker (or the process, in-process) holds for its model and one batch. */
  bytesPerWorker: number;
  /** The budget, not the input size or the 1 GiB target, decided the batch size. */
  isLimitedByBudget: boolean;
  /** Even one point per call needs more than the budget; igx runs with 1 anyway. */
  isOverBudget: boolean;
  /** The largest batch the budget holds, and (wasm) the largest one heap holds: an explicit --batch-size is checked against both. */
  maxByBudget: number;
  maxByHeap: number;
}

/**
 * Fixed cost of a worker: its runtime, and its model several times over (the loaded weight files,
 * tfjs's tensors, XNNPACK's packed copies, the heap's growth steps): measured up to 7× for
 * mobilenet_v2_mid_5class, so 4× on top of a generous base.
 */
export function computeWorkerBaseBytes(modelBytes: number): number {
  return WORKER_BASE_BYTES + 4 * modelBytes;
}

/**
 * The largest batch ≤ the input-size default whose working set stays within 1 GiB, the budget (as if
 * one worker had it all) and the wasm heap. Null when even one point cannot fit a wasm heap.
 */
export function computeBatchPlan(p: BatchPlanInput): BatchPlan | null {
  const perPoint = Math.max(1, p.bytesPerPoint);
  const base = computeWorkerBaseBytes(p.modelBytes);
  const byTarget = Math.floor(TARGET_BATCH_BYTES / perPoint);
  const byBudget = Math.floor((p.budgetBytes - base) / perPoint);
  const byHeap = p.isWasm ? Math.floor((WASM_HEAP_LIMIT_BYTES - WASM_HEAP_MARGIN_BYTES - 4 * p.modelBytes) / perPoint) : Infinity;
  if (byHeap < 1) return null;
  const batchSize = Math.max(1, Math.min(p.autoBatchSize, byTarget, byBudget, byHeap));
  return {
    batchSize,
    bytesPerWorker: base + batchSize * perPoint,
    isLimitedByBudget: byBudget < Math.min(p.autoBatchSize, byTarget, byHeap),
    isOverBudget: byBudget < 1,
    maxByBudget: Math.max(1, byBudget),
    maxByHeap: byHeap,
  };
}

/** Workers that fit the budget at bytesPerWorker each: at least 1, at most `requested`. */
export function computeWorkerCount(requested: number, budgetBytes: number, bytesPerWorker: number): number {
  return Math.max(1, Math.min(requested, Math.floor(budgetBytes / Math.max(1, bytesPerWorker))));
}
