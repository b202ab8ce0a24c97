/** Variables (VarHandleOp, VariableV2) as Consts whose values come from the checkpoint. */
import { tfjsEnum } from './attr-to-json.js';
import { unique, type BuildContext } from './build-context.js';
import type { NodeDefMsg } from './messages.js';
import { pushNode } from './push-node.js';
import { DT, dtypeName, readShape, tfjsDtypeOf } from './tensor-value.js';

/** The Const that stands for variable `node`, made on first use. */
export function variableConst(ctx: BuildContext, node: NodeDefMsg): string {
  const existing = ctx.variableConsts.get(node.name);
  if (existing !== undefined) return existing;
  const name = unique(ctx, node.name);
  ctx.variableConsts.set(node.name, name);
  const dtype = (node.attr.dtype?.type ?? DT.FLOAT) % 100;
  const shapeAttr = node.attr.shape;
  const shape = shapeAttr?.value === 'shape' ? readShape(shapeAttr.shape) : undefined;
  ctx.consts.set(name, { kind: 'variable', variable: node.name, key: ctx.options.variableKeys.get(node.name), dtype, shape });
  const tfjsType = tfjsDtypeOf(dtype);
  pushNode(ctx, {
    name,
    op: 'Const',
    input: [],
    attr: { dtype: { type: dtypeName(tfjsType === undefined ? dtype : tfjsEnum(tfjsType)) } },
  });
  return name;
}
