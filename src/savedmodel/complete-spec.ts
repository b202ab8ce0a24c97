/** Signature tensors' dtypes and shapes, completed from the graph where the signature leaves them out. */
import { outputType } from './attrs-of.js';
import type { BuildContext } from './build-context.js';
import { splitTensorName } from './parse-ref.js';
import type { SignatureTensor } from './read-saved-model.js';
import { DT, dtypeName, readShape } from './tensor-value.js';

/**
 * A signature tensor's dtype and shape, taken from the graph where the signature leaves them out (TF
 * 0.12's signatures name tensors only): the producing op's output type and its _output_shapes.
 */
export function completeSpec(ctx: BuildContext, spec: SignatureTensor): { dtypeEnum: number; dtype: string; shape: number[] | undefined } {
  if (spec.dtypeEnum !== DT.INVALID) return { dtypeEnum: spec.dtypeEnum, dtype: spec.dtype, shape: spec.shape };
  // A name-only TensorInfo: its absent tensor_shape reads as a scalar but means "not recorded".
  const [nodeName, idx] = splitTensorName(spec.tensorName);
  const node = ctx.top.nodes.get(nodeName);
  const dtypeEnum = node === undefined ? DT.INVALID : (outputType(ctx, ctx.top, node, idx) ?? DT.INVALID) % 100;
  const shapes = node?.attr._output_shapes;
  const shape = shapes?.value === 'list' && shapes.list?.shape[idx] != null ? readShape(shapes.list.shape[idx]) : undefined;
  return { dtypeEnum, dtype: dtypeName(dtypeEnum), shape };
}
