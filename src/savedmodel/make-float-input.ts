/** `floatInputs`: integer signature inputs that only feed Casts to float become float32 Placeholders. */
import type { BuildContext, GraphJsonNode, GraphTensorSpec } from './build-context.js';
import { splitTensorName } from './parse-ref.js';

/** TF types tfjs holds as int32; Casts from these to a float type are what `floatInputs` removes. */
const INTEGER_TYPES = new Set(['DT_INT8', 'DT_INT16', 'DT_INT32', 'DT_INT64', 'DT_UINT8', 'DT_UINT16', 'DT_UINT32', 'DT_UINT64']);
const FLOAT_TYPES = new Set(['DT_FLOAT', 'DT_HALF', 'DT_DOUBLE', 'DT_BFLOAT16']);
/** Read only an input's shape, so a float input serves them as well as an integer one. */
const SHAPE_OPS = new Set(['Shape', 'ShapeN', 'Size', 'Rank']);

/**
 * `floatInputs` for one input: when every node reading an integer input is a Cast to a float type (or
 * reads only its shape), the Placeholder becomes float32 and the Casts' consumers read it directly;
 * integer-valued feeds give the same outputs. Otherwise the input stays and `integerConsumers` says why.
 */
export function makeFloatInput(ctx: BuildContext, spec: GraphTensorSpec): void {
  if (!INTEGER_TYPES.has(spec.dtype)) return;
  const name = splitTensorName(spec.name)[0];
  const typeOf = (node: GraphJsonNode, attr: string): string | undefined => (node.attr[attr] as { type?: string } | undefined)?.type;
  const consumers = ctx.nodes.filter((n) => n.op !== 'Placeholder' && n.input.some((x) => x === name || x === `${name}:0`));
  const isFloatCast = (n: GraphJsonNode): boolean => n.op === 'Cast' && FLOAT_TYPES.has(typeOf(n, 'DstT') ?? '');
  const blocking = consumers.filter((n) => !isFloatCast(n) && !SHAPE_OPS.has(n.op));
  if (blocking.length > 0) {
    spec.integerConsumers = blocking.map((n) => `${n.name} (${n.op}${n.op === 'Cast' ? ` to ${typeOf(n, 'DstT') ?? '?'}` : ''})`);
    return;
  }
  const casts = new Set(consumers.filter(isFloatCast).map((n) => n.name));
  let kept = 0;
  for (const node of ctx.nodes) {
    if (casts.has(node.name)) continue;
    node.input = node.input.map((x) => (casts.has(splitTensorName(x)[0]) ? name : x));
    if (node.name === name) node.attr.dtype = { type: 'DT_FLOAT' };
    else if (SHAPE_OPS.has(node.op) && consumers.includes(node)) node.attr.T = { type: 'DT_FLOAT' };
    ctx.nodes[kept++] = node;
  }
  ctx.nodes.length = kept;
  const remaining = (ctx.opCounts.get('Cast') ?? 0) - casts.size;
  if (remaining > 0) ctx.opCounts.set('Cast', remaining);
  else ctx.opCounts.delete('Cast');
  spec.castFrom = spec.dtype;
  spec.dtype = 'DT_FLOAT';
}
