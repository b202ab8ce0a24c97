/** The messages between the explain pool (main thread) and its gradient workers. */
import type { Target } from '../../attribution/types.js';
import type { ExplainConfig } from '../../config/explain-config.js';
import type { BackendInfo } from '../../engine/backend.js';

export interface WorkerInit {
  /** The session's config, with `backend` set to the kind the session resolved to. */
  config: ExplainConfig;
}

export type ToWorker =
  | {
      type: 'image';
      imageId: number;
      space?: 'input' | 'layer';
      shape: [number, number, number, number];
      input: Float32Array;
      baselines: Float32Array[];
      target: Target;
    }
  | { type: 'points-job'; imageId: number; target: Target }
  | { type: 'sum'; taskId: number; imageId: number; baselineIndex: number; alphas: number[]; weights: number[] }
  | { type: 'points'; taskId: number; imageId: number; shape: [number, number, number, number]; points: Float32Array }
  | { type: 'release'; imageId: number };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** IgxError's code, when it was one. */
  code?: string;
}

export type FromWorker =
  | { type: 'ready'; backend: BackendInfo }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'sum'; taskId: number; data: Float32Array }
  | { type: 'points'; taskId: number; values: number[]; grads: Float32Array }
  | { type: 'error'; taskId: number; error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, stack: e.stack, ...(e.name === 'IgxError' && typeof code === 'string' ? { code } : {}) };
}
