/**
 * Test-only reference backend 'igx-test-cpu-ref': tfjs's cpu backend (its own factory and kernels)
 * except that the two weight-gradient kernels return zeros. Input gradients never read them: tfjs's
 * fused-convolution gradients compute filter gradients eagerly and the tape then drops them. On the
 * cpu backend those kernels are 94% of darknet's gradient time (48 of 51 s), so the big models are
 * compared against this backend; test/engine.test.ts checks that it gives bit-identical input
 * gradients to stock 'cpu' on a model with fused convolutions.
 */
import {
  findBackendFactory,
  getKernel,
  getKernelsForBackend,
  registerBackend,
  registerKernel,
  util,
  type KernelFunc,
} from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

export const CPU_REFERENCE = 'igx-test-cpu-ref';
const WEIGHT_GRADIENTS = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter'];

const zeroWeightGradient: KernelFunc = ({ attrs, backend }) => {
  const { filterShape } = attrs as unknown as { filterShape: number[] };
  const values = new Float32Array(util.sizeFromShape(filterShape));
  const cpu = backend as { write(values: Float32Array, shape: number[], dtype: 'float32'): object };
  return { dataId: cpu.write(values, filterShape, 'float32'), shape: filterShape, dtype: 'float32' };
};

export function registerCpuReference(): void {
  if (findBackendFactory(CPU_REFERENCE) != null) return;
  const cpuFactory = findBackendFactory('cpu');
  if (cpuFactory == null) throw new Error('the cpu backend is not registered');
  for (const config of getKernelsForBackend('cpu')) {
    if (WEIGHT_GRADIENTS.includes(config.kernelName)) continue;
    if (getKernel(config.kernelName, CPU_REFERENCE) === undefined) {
      registerKernel({ ...config, backendName: CPU_REFERENCE });
    }
  }
  for (const kernelName of WEIGHT_GRADIENTS) {
    registerKernel({ kernelName, backendName: CPU_REFERENCE, kernelFunc: zeroWeightGradient });
  }
  registerBackend(
    CPU_REFERENCE,
    async () => {
      const backend = await cpuFactory();
      (backend as { firstUse?: boolean }).firstUse = false; // no "install tfjs-node" banner in tests
      return backend;
    },
    -2,
  );
}
