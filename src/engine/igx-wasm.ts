/**
 * The 'igx-wasm' backend: tfjs-backend-wasm under a name of igx's own, with igx's kernels for input
 * gradients. It is a separate BackendWasm instance built by the wasm backend's own factory, carrying a
 * copy of every 'wasm' kernel plus igx's replacements, so the plain 'wasm' backend and its kernel
 * registrations stay exactly as tfjs ships them. (The wasm kernels keep their bindings into the wasm
 * module in module variables, which each kernel's setupFunc rebinds on every tf.setBackend; so the two
 * backends coexist as long as switching goes through tf.setBackend, as tfjs requires anyway.)
 *
 * igx's kernels (wasm-kernels.ts): convolution input gradients through XNNPACK forward convolutions,
 * MaxPoolGrad (wasm's loses negative windows), UnsortedSegmentSum (missing), Identity by reference,
 * batch norm and scalar min/max forward as SIMD passes / clamps, and one-pass element-wise gradients
 * used by igx's gradient overrides (gradients.ts).
 *
 * igx-wasm computes input gradients only: its weight-gradient kernels return zeros (see
 * wasm-kernels.ts). Do not train on it.
 */
import { findBackendFactory, getKernel, getKernelsForBackend, registerBackend, registerKernel } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm'; // registers the 'wasm' backend and its kernels
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { IgxError } from '../errors.js';
import { installDerivedCache } from './wasm-heap.js';
import { IGX_WASM_KERNELS } from './wasm-kernels.js';

export const IGX_WASM = 'igx-wasm';

// Below every tfjs backend, so tfjs's own automatic choice never lands on it.
const PRIORITY = -1;

/** Registers the igx-wasm backend and its kernels; idempotent. Does not make it the active backend. */
export function registerIgxWasm(): void {
  const wasmFactory = findBackendFactory('wasm');
  if (wasmFactory == null) {
    throw new IgxError('E_BACKEND', "the wasm backend is not registered (is @tensorflow/tfjs-backend-wasm installed?)");
  }
  const replaced = new Set(IGX_WASM_KERNELS.map((k) => k.kernelName));
  for (const config of getKernelsForBackend('wasm')) {
    if (replaced.has(config.kernelName) || getKernel(config.kernelName, IGX_WASM) !== undefined) continue;
    registerKernel({ ...config, backendName: IGX_WASM });
  }
  for (const { kernelName, kernelFunc, alsoSetUp } of IGX_WASM_KERNELS) {
    if (getKernel(kernelName, IGX_WASM) !== undefined) continue;
    // A kernel that falls back on a wasm kernel needs that kernel's setup (it binds the wasm function).
    const setupFunc = alsoSetUp === undefined ? undefined : getKernel(alsoSetUp, 'wasm')?.setupFunc;
    registerKernel({ kernelName, backendName: IGX_WASM, kernelFunc, ...(setupFunc ? { setupFunc } : {}) });
  }
  if (findBackendFactory(IGX_WASM) == null) {
    registerBackend(
      IGX_WASM,
      async () => {
        // A new wasm module and heap of its own, exactly as the 'wasm' factory makes them.
        const backend = (await wasmFactory()) as BackendWasm;
        installDerivedCache(backend);
        return backend;
      },
      PRIORITY,
    );
  }
}
