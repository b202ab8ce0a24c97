/**
 * The explain pool: `workers` threads, each with its own tfjs, backend and model, computing the
 * gradient batches of every image in flight. The main thread keeps the session (decoding, forward
 * scores, adding batch sums, rendering, writing), so pool.explainImage writes the same files and
 * returns the same report as explainImage(session, …).
 *
 * Determinism: an image's points are split into batches of session.batchSize, which never depends on
 * the worker count; each batch's sum is computed by the same function wherever it runs, and the sums
 * are added in batch order on the main thread. So attributions are byte-identical on 1 or N workers.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { PointBatch } from '../../attribution/integrated-gradients.js';
import type { ExplainConfig } from '../../config/explain-config.js';
import type { BackendInfo } from '../../engine/backend.js';
import { IgxError, type ErrorCode } from '../../errors.js';
import {
  closeExplainSession,
  explainImage,
  openExplainSession,
  type ExplainImageOptions,
  type ExplainResult,
  type ExplainSession,
  type GradientImage,
  type GradientJob,
  type GradientRunner,
  type PointJob,
  type PointSpec,
} from '../index.js';
import type { LoadedModel } from '../../model/types.js';
import { computeWorkerCount } from './memory-budget.js';
import type { FromWorker, SerializedError, ToWorker, WorkerInit } from './messages.js';

export interface ExplainPoolOptions {
  /** Gradient threads; default config.workers, else one per core. 1 runs in this thread. */
  workers?: number;
}

export interface ExplainPoolInfo {
  /** Threads computing gradients; 1 means in-process, no thread. */
  workers: number;
  requestedWorkers: number;
  /** Why fewer workers run than requested, if they do. */
  limitedBy?: 'memory' | 'backend';
  backend: BackendInfo;
  batchSize: number;
  memory: ExplainSession['memory'];
}

export interface ExplainPool {
  /** Same semantics and outputs as explainImage(session, imagePath, options). */
  explainImage(imagePath: string, options?: ExplainImageOptions): Promise<ExplainResult>;
  info: ExplainPoolInfo;
  /** Images worth keeping in flight at once: one per worker. */
  concurrency: number;
  configHash: string;
  model: LoadedModel;
  session: ExplainSession;
  /** Stops the workers (batches in flight fail) and frees the model; idempotent. */
  close(): Promise<void>;
}

export const defaultWorkerCount = (): number => availableParallelism();

/**
 * Opens the session on this thread, then `workers` gradient threads (fewer if the memory budget holds
 * fewer, and none for tfjs-node, whose TensorFlow already uses every core).
 */
export async function openExplainPool(config: ExplainConfig, options: ExplainPoolOptions = {}): Promise<ExplainPool> {
  const requestedWorkers = options.workers ?? config.workers ?? defaultWorkerCount();
  if (!Number.isInteger(requestedWorkers) || requestedWorkers < 1) {
    throw new IgxError('E_FLAG', `--workers: expected a whole number ≥ 1, received ${requestedWorkers}`);
  }
  const session = await openExplainSession(config);
  let workers = computeWorkerCount(requestedWorkers, session.memory.budgetBytes, session.memory.bytesPerWorker);
  let limitedBy: ExplainPoolInfo['limitedBy'] = workers < requestedWorkers ? 'memory' : undefined;
  if (session.backend.kind === 'tensorflow' && workers > 1) {
    workers = 1;
    limitedBy = 'backend';
  }
  const info: ExplainPoolInfo = {
    workers,
    requestedWorkers,
    ...(limitedBy ? { limitedBy } : {}),
    backend: session.backend,
    batchSize: session.batchSize,
    memory: session.memory,
  };
  const base = { info, concurrency: workers, configHash: session.configHash, model: session.model, session };
  if (workers === 1) {
    let isClosed = false;
    return {
      ...base,
      explainImage: (imagePath, opts) => explainImage(session, imagePath, opts),
      close: async () => {
        if (isClosed) return;
        isClosed = true;
        closeExplainSession(session);
      },
    };
  }
  let threads: WorkerThreads;
  try {
    threads = await WorkerThreads.start(workers, { config: { ...config, backend: session.backend.kind } });
  } catch (err) {
    closeExplainSession(session);
    throw err;
  }
  // Enough batches ahead that no worker waits for the batch being added.
  const gradientRunner: GradientRunner = {
    batchesAhead: 2 * workers - 1,
    parallelism: workers,
    openImage: (image) => threads.openImage(image),
    openPoints: (spec) => threads.openPoints(spec),
  };
  // The session as the pool's images see it: the same, with their batches going to the threads.
  const pooled: ExplainSession = { ...session, gradientRunner };
  let closing: Promise<void> | undefined;
  return {
    ...base,
    session: pooled,
    explainImage: (imagePath, opts) => explainImage(pooled, imagePath, opts),
    close: () => {
      closing ??= threads.close().finally(() => closeExplainSession(session));
      return closing;
    },
  };
}

/** What a task asks of a worker: a batch's weighted gradient sum, or F and ∇F at given points. */
type TaskRequest = { type: 'sum'; batch: PointBatch } | { type: 'points'; shape: [number, number, number, number]; points: Float32Array };
type TaskReply = Extract<FromWorker, { type: 'sum' | 'points' }>;

interface Task {
  taskId: number;
  imageId: number;
  request: TaskRequest;
  resolve(reply: TaskReply): void;
  reject(err: Error): void;
}

/** A job the workers hold: an image's input and baselines, or a points job's target. */
type JobSpec = { type: 'image'; image: GradientImage } | { type: 'points-job'; spec: PointSpec };

interface Thread {
  worker: Worker;
  /** Images whose input and baselines this worker holds. */
  images: Set<number>;
  task?: Task;
  isReady: boolean;
  isDead: boolean;
}

/** The worker entry next to this module: .js when built, .ts when run from src through tsx. */
function createWorker(init: WorkerInit): Worker {
  const url = import.meta.url;
  if (url.endsWith('.ts')) {
    // tsx's --import hooks are not inherited by worker threads on Node 20: register them in the worker.
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./gradient-worker.ts', url).href;
    const code = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(code, { eval: true, workerData: init });
  }
  return new Worker(new URL('./gradient-worker.js', url), { workerData: init });
}

/** The message that asks a worker for a task. */
function toMessage(task: Task): ToWorker {
  const { taskId, imageId, request } = task;
  if (request.type === 'points') return { type: 'points', taskId, imageId, shape: request.shape, points: request.points };
  const { baselineIndex, alphas, weights } = request.batch;
  return { type: 'sum', taskId, imageId, baselineIndex, alphas, weights };
}

function reviveError(e: SerializedError): Error {
  const err = e.code !== undefined ? new IgxError(e.code as ErrorCode, e.message) : new Error(e.message);
  if (e.code === undefined) err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

/** The threads, a FIFO queue of batches from every image in flight, and the images they need. */
class WorkerThreads {
  private readonly threads: Thread[] = [];
  private readonly queue: Task[] = [];
  private readonly images = new Map<number, JobSpec>();
  private nextTaskId = 0;
  private nextImageId = 0;
  private isClosed = false;

  private constructor(private readonly init: WorkerInit) {}

  static async start(count: number, init: WorkerInit): Promise<WorkerThreads> {
    const pool = new WorkerThreads(init);
    const started = await Promise.allSettled(Array.from({ length: count }, () => pool.spawn()));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await pool.close();
      throw failed.reason;
    }
    return pool;
  }

  /** A new thread, resolved once its model is loaded. */
  private spawn(): Promise<Thread> {
    const thread: Thread = { worker: createWorker(this.init), images: new Set(), isReady: false, isDead: false };
    this.threads.push(thread);
    return new Promise((resolve, reject) => {
      thread.worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          thread.isReady = true;
          thread.worker.unref();
          resolve(thread);
          this.dispatch();
        } else if (message.type === 'init-error') {
          reject(reviveError(message.error));
        } else {
          this.finish(thread, message);
        }
      });
      const onDeath = (err: Error): void => {
        if (thread.isDead) return;
        thread.isDead = true;
        this.threads.splice(this.threads.indexOf(thread), 1);
        if (!thread.isReady) reject(err);
        const task = thread.task;
        thread.task = undefined;
        task?.reject(err);
        // Replace a thread lost mid-run, so that the images after this one still have their workers.
        if (thread.isReady && !this.isClosed) {
          this.spawn().catch((spawnErr: Error) => {
            if (this.threads.length > 0) return;
            for (const queued of this.queue.splice(0)) queued.reject(spawnErr);
          });
        }
      };
      thread.worker.on('error', onDeath);
      thread.worker.on('exit', (code) => onDeath(new Error(`igx gradient worker exited with code ${code}`)));
    });
  }

  openImage(image: GradientImage): GradientJob {
    const imageId = this.nextImageId++;
    this.images.set(imageId, { type: 'image', image });
    const [, h, w, c] = image.shape;
    return {
      weightedGradientSum: async (batch) => {
        const reply = await this.run(imageId, { type: 'sum', batch });
        return tf.tensor3d((reply as Extract<TaskReply, { type: 'sum' }>).data, [h, w, c]);
      },
      close: () => this.release(imageId),
    };
  }

  openPoints(spec: PointSpec): PointJob {
    const imageId = this.nextImageId++;
    this.images.set(imageId, { type: 'points-job', spec });
    return {
      pointGradients: async (points) => {
        const shape = points.shape as [number, number, number, number];
        const data = (await points.data()) as Float32Array;
        const reply = (await this.run(imageId, { type: 'points', shape, points: data })) as Extract<TaskReply, { type: 'points' }>;
        return { values: reply.values, grads: tf.tensor4d(reply.grads, shape) };
      },
      close: () => this.release(imageId),
    };
  }

  private run(imageId: number, request: TaskRequest): Promise<TaskReply> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) return reject(new Error('the explain pool is closed'));
      if (!this.images.has(imageId)) return reject(new Error('the image was released'));
      if (this.threads.length === 0) return reject(new Error('every igx gradient worker has died'));
      this.queue.push({ taskId: this.nextTaskId++, imageId, request, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const thread of this.threads) {
      if (this.queue.length === 0) return;
      if (thread.task !== undefined || !thread.isReady || thread.isDead) continue;
      const task = this.queue.shift() as Task;
      const job = this.images.get(task.imageId);
      if (job === undefined) {
        task.reject(new Error('the image was released'));
        continue;
      }
      if (!thread.images.has(task.imageId)) {
        // Copied, not transferred: other workers may need the same image.
        const { imageId } = task;
        this.post(thread, job.type === 'image' ? { type: 'image', imageId, ...job.image } : { type: 'points-job', imageId, target: job.spec.target });
        thread.images.add(task.imageId);
      }
      thread.task = task;
      // Referenced while busy, so that a pending batch keeps the process alive, and not when idle.
      thread.worker.ref();
      this.post(thread, toMessage(task));
    }
  }

  private post(thread: Thread, message: ToWorker): void {
    thread.worker.postMessage(message);
  }

  private finish(thread: Thread, message: Extract<FromWorker, { type: 'sum' | 'points' | 'error' }>): void {
    const task = thread.task;
    if (task === undefined || task.taskId !== message.taskId) return;
    thread.task = undefined;
    thread.worker.unref();
    if (message.type !== 'error') {
      task.resolve(message);
    } else {
      task.reject(reviveError(message.error));
      // Not an igx error (a wasm abort, out of memory): the worker's backend may be broken; replace it.
      if (message.error.code === undefined) void thread.worker.terminate();
    }
    this.dispatch();
  }

  private release(imageId: number): void {
    if (!this.images.delete(imageId)) return;
    for (let i = this.queue.length - 1; i >= 0; i -= 1) {
      const task = this.queue[i] as Task;
      if (task.imageId !== imageId) continue;
      this.queue.splice(i, 1);
      task.reject(new Error('the image was released'));
    }
    for (const thread of this.threads) {
      if (thread.images.delete(imageId) && !thread.isDead) this.post(thread, { type: 'release', imageId });
    }
  }

  async close(): Promise<void> {
    this.isClosed = true;
    const closed = new Error('the explain pool is closed');
    for (const task of this.queue.splice(0)) task.reject(closed);
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
