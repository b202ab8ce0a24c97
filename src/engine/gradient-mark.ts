/** How igx marks the gradients it registers, so registering again (on every backend selection) is a no-op. */
import { engine, type GradConfig, type GradFunc, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';

const MARK = Symbol.for('igx.gradient');
type Marked = GradFunc & { [MARK]?: true };

export function isIgx(config: GradConfig | undefined): boolean {
  return config !== undefined && (config.gradFunc as Marked)[MARK] === true;
}

export function mark(gradFunc: GradFunc): GradFunc {
  (gradFunc as Marked)[MARK] = true;
  return gradFunc;
}

export function run(kernelName: string, inputs: Record<string, Tensor>, attrs: NamedAttrMap = {}): Tensor {
  return engine().runKernel(kernelName, inputs, attrs) as Tensor;
}
