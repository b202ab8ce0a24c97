/** Appending nodes to the built graph: counting their ops and flagging those tfjs cannot run. */
import { shapeJson, tfjsEnum } from './attr-to-json.js';
import type { BuildContext, GraphJsonNode } from './build-context.js';
import { dtypeName, type TensorValue } from './tensor-value.js';
import { TFJS_ASYNC_OPS, TFJS_OPS } from './tfjs-ops.js';

function count(ctx: BuildContext, op: string): void {
  ctx.opCounts.set(op, (ctx.opCounts.get(op) ?? 0) + 1);
}

export function pushNode(ctx: BuildContext, node: GraphJsonNode): void {
  ctx.nodes.push(node);
  count(ctx, node.op);
  if (!TFJS_OPS.has(node.op) || TFJS_ASYNC_OPS.has(node.op)) flag(ctx, node.op);
}

export function flag(ctx: BuildContext, op: string): void {
  ctx.unsupported.set(op, (ctx.unsupported.get(op) ?? 0) + 1);
}

export function constNode(ctx: BuildContext, name: string, value: TensorValue): void {
  ctx.consts.set(name, { kind: 'value', value });
  const type = dtypeName(tfjsEnum(value.dtype));
  pushNode(ctx, {
    name,
    op: 'Const',
    input: [],
    attr: { value: { tensor: { dtype: type, tensorShape: shapeJson(value.shape) } }, dtype: { type } },
  });
}
