/**
 * Kernel-level helpers for igx's kernels on the wasm backend. Everything here works on TensorInfos and
 * the backend's heap directly: calling tfjs ops from inside a kernel function corrupts the engine's
 * scopes, so igx kernels only allocate with the backend, call other kernels' functions, and free what
 * they allocated.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type { BackendWasm };

/** A fresh float32 tensor on the backend; its memory is NOT initialised. */
export function allocate(backend: BackendWasm, shape: number[], dtype: DataType = 'float32'): TensorInfo {
  return backend.makeOutput(shape, dtype);
}

/**
 * A Float32Array view of a tensor's memory on the wasm heap. Views go stale when the heap grows, so
 * take them only after the last allocation of a kernel.
 */
export function f32(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/** An Int32Array view of an int32 tensor; same staleness rule as `f32`. */
export function i32(backend: BackendWasm, t: TensorInfo): Int32Array {
  return backend.typedArrayFromHeap(t) as Int32Array;
}

export function free(backend: BackendWasm, t: TensorInfo): void {
  backend.disposeData(t.dataId);
}

/** A zero-filled float32 tensor. */
export function zeros(backend: BackendWasm, shape: number[]): TensorInfo {
  const out = allocate(backend, shape);
  f32(backend, out).fill(0);
  return out;
}

/**
 * Tensors derived from another tensor's data (e.g. a flipped copy of a filter), cached per source
 * dataId so that repeated gradient steps reuse them, and so that XNNPACK's operator cache (keyed by
 * filter id inside the wasm module) stays warm. Entries are freed when the source data is freed, which
 * `installDerivedCache` hooks into the backend's disposeData; tfjs never mutates the data behind a
 * dataId (Variable.assign swaps dataIds), so a cached entry cannot go stale.
 */
const caches = new WeakMap<BackendWasm, WeakMap<object, Map<string, TensorInfo>>>();

export function installDerivedCache(backend: BackendWasm): void {
  if (caches.has(backend)) return;
  const cache = new WeakMap<object, Map<string, TensorInfo>>();
  caches.set(backend, cache);
  const disposeData = backend.disposeData.bind(backend);
  // Own property on igx's own backend instance only; the plain 'wasm' backend is never touched.
  backend.disposeData = (dataId: object, force?: boolean): boolean => {
    const freed = disposeData(dataId, force);
    if (freed) {
      const derived = cache.get(dataId);
      if (derived !== undefined) {
        cache.delete(dataId);
        for (const t of derived.values()) disposeData(t.dataId, true);
      }
    }
    return freed;
  };
}

export function derived(
  backend: BackendWasm,
  source: TensorInfo,
  key: string,
  make: () => TensorInfo,
): TensorInfo {
  installDerivedCache(backend); // a no-op once the igx-wasm factory has installed it
  const cache = caches.get(backend) as WeakMap<object, Map<string, TensorInfo>>;
  let entries = cache.get(source.dataId);
  let t = entries?.get(key);
  if (t === undefined) {
    t = make();
    if (entries === undefined) {
      entries = new Map();
      cache.set(source.dataId, entries);
    }
    entries.set(key, t);
  }
  return t;
}
