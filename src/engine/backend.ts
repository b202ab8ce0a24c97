/**
 * Backend selection. 'tensorflow' uses the native TensorFlow bindings when one of the optional peer
 * packages is installed; 'wasm' sets up igx-wasm (tfjs-backend-wasm plus igx's input-gradient
 * kernels); 'cpu' is tfjs's pure-JS backend (correct, but ~100x slower for gradients).
 */
import { backend as activeBackend, env, getBackend, ready, setBackend } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu'; // registers 'cpu'
import { IgxError } from '../errors.js';
import { registerIgxGradients } from './gradients.js';
import { IGX_WASM, registerIgxWasm } from './igx-wasm.js';

export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  requested: BackendName;
  kind: 'tensorflow' | 'wasm' | 'cpu';
  /** The tf.getBackend() name actually set, e.g. 'igx-wasm'. */
  tfBackend: string;
  /** e.g. '@tensorflow/tfjs-node-gpu', or the wasm build in use. */
  detail?: string;
}

/** Tried in this order: the GPU build first, as TensorFlow itself would prefer a GPU. */
const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

const INSTALL_HINT =
  "install one of TensorFlow's Node.js bindings next to igx: `npm install @tensorflow/tfjs-node@4.22.0` " +
  '(CPU) or `npm install @tensorflow/tfjs-node-gpu@4.22.0` (CUDA GPU)';

function isModuleNotFound(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = e?.code;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof e?.message === 'string' &&
    e.message.includes(pkg)
  );
}

async function useTensorflow(requested: BackendName): Promise<BackendInfo> {
  const failures: string[] = [];
  for (const pkg of TENSORFLOW_PACKAGES) {
    try {
      // A variable specifier: these are optional peer dependencies, absent at build time.
      const specifier: string = pkg;
      await import(specifier);
    } catch (err) {
      failures.push(
        isModuleNotFound(err, pkg) ? `${pkg} is not installed` : `${pkg} failed to load: ${(err as Error).message}`,
      );
      continue;
    }
    if (await setBackend('tensorflow')) {
      registerIgxGradients();
      return { requested, kind: 'tensorflow', tfBackend: getBackend(), detail: pkg };
    }
    failures.push(`${pkg} loaded but its 'tensorflow' backend did not initialise`);
  }
  throw new IgxError('E_BACKEND', `the 'tensorflow' backend is not available (${failures.join('; ')}); ${INSTALL_HINT}`);
}

async function useWasm(requested: BackendName): Promise<BackendInfo> {
  registerIgxWasm();
  registerIgxGradients();
  let ok: boolean;
  try {
    ok = await setBackend(IGX_WASM);
  } catch (err) {
    throw new IgxError('E_BACKEND', `the wasm backend failed to start: ${(err as Error).message}`, { cause: err });
  }
  if (!ok) throw new IgxError('E_BACKEND', 'the wasm backend failed to start (its .wasm binary could not be loaded)');
  const simd = (await env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const threads = (await env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  return {
    requested,
    kind: 'wasm',
    tfBackend: IGX_WASM,
    detail: `@tensorflow/tfjs-backend-wasm${simd ? ', SIMD' : ''}${threads ? ', threads' : ''}`,
  };
}

async function useCpu(requested: BackendName): Promise<BackendInfo> {
  registerIgxGradients();
  if (!(await setBackend('cpu'))) throw new IgxError('E_BACKEND', 'the cpu backend failed to start');
  // The cpu backend prints a "use tfjs-node" banner on first use; igx prints its own messages, in the CLI.
  (activeBackend() as { firstUse?: boolean }).firstUse = false;
  return { requested, kind: 'cpu', tfBackend: 'cpu', detail: '@tensorflow/tfjs-backend-cpu' };
}

/**
 * Makes `requested` the active tfjs backend and registers the gradients igx needs. 'auto' takes the
 * first that works of tensorflow, wasm, cpu. Idempotent; each call sets the backend again.
 */
export async function selectBackend(requested: BackendName): Promise<BackendInfo> {
  let info: BackendInfo;
  switch (requested) {
    case 'tensorflow':
      info = await useTensorflow(requested);
      break;
    case 'wasm':
      info = await useWasm(requested);
      break;
    case 'cpu':
      info = await useCpu(requested);
      break;
    case 'auto':
      info = await firstAvailable(requested);
      break;
    default:
      throw new IgxError('E_BACKEND', `unknown backend '${String(requested)}' (expected auto, tensorflow, wasm or cpu)`);
  }
  await ready();
  return info;
}

async function firstAvailable(requested: BackendName): Promise<BackendInfo> {
  const reasons: string[] = [];
  for (const use of [useTensorflow, useWasm, useCpu]) {
    try {
      return await use(requested);
    } catch (err) {
      reasons.push((err as Error).message);
    }
  }
  throw new IgxError('E_BACKEND', `no backend could be started: ${reasons.join(' / ')}`);
}
