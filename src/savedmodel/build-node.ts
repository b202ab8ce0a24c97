/** Emission: each queued node of the SavedModel's graph → its tfjs node (Consts, resource ops, op rewrites). */
import { IgxError } from '../errors.js';
import { attrInt, attrToJson, typeAttr } from './attr-to-json.js';
import { attrsOf } from './attrs-of.js';
import { dataInputs, fail, unique, type BuildContext, type Scope } from './build-context.js';
import { BATCH_NORM_OPS, expandBatchNorm, expandsBatchNorm } from './expand-batch-norm.js';
import type { NodeDefMsg } from './messages.js';
import { constNode, pushNode } from './push-node.js';
import { resolveRef } from './resolve-ref.js';
import { DT, dtypeName, tensorFromProto, type TensorValue } from './tensor-value.js';
import { variableConst } from './variable-const.js';

/** Builds the queued nodes, last queued first; building one may queue more. */
export function processQueue(ctx: BuildContext): void {
  for (let item = ctx.queue.pop(); item !== undefined; item = ctx.queue.pop()) buildNode(ctx, item.scope, item.node, item.name);
}

function buildNode(ctx: BuildContext, scope: Scope, node: NodeDefMsg, name: string): void {
  if (node.op === 'Const') {
    const tensor = node.attr.value?.tensor;
    if (tensor == null) fail(ctx, `Const '${node.name}' in ${scope.where} has no value`);
    let value: TensorValue;
    try {
      value = tensorFromProto(tensor, `${ctx.options.file}: Const '${node.name}' in ${scope.where}`);
    } catch (err) {
      if (err instanceof IgxError && /has no TensorFlow\.js equivalent/.test(err.message)) {
        pushNode(ctx, { name, op: `Const(${dtypeName(tensor.dtype ?? 0)})`, input: [], attr: {} });
        return;
      }
      throw err;
    }
    constNode(ctx, name, value);
    return;
  }
  const attrs = attrsOf(ctx, scope, node);
  let op = node.op;
  const inputs: string[] = [];
  const resolved = dataInputs(node).map((ref) => resolveRef(ctx, scope, ref));
  for (const [i, r] of resolved.entries()) {
    if (r.kind === 'tensor') {
      inputs.push(r.ref);
      continue;
    }
    // A resource reaches an op other than ReadVariableOp: the few that read a variable have tfjs forms.
    const value = variableConst(ctx, r.node);
    if (i === 0 && (op === 'ResourceGather' || op === 'ResourceGatherNd')) {
      inputs.push(value);
      op = op === 'ResourceGather' ? 'GatherV2' : 'GatherNd';
      attrs.Tparams = typeAttr(attrs.dtype?.type ?? DT.FLOAT);
      delete attrs.dtype;
    } else if (i === 0 && op === 'VariableShape') {
      inputs.push(value);
      op = 'Shape';
      attrs.T = typeAttr(r.node.attr.dtype?.type ?? DT.FLOAT);
    } else {
      op = `${op}(resource input)`;
      inputs.push(value);
    }
  }
  if (op === 'GatherV2' && node.op === 'ResourceGather') {
    // GatherV2 takes the axis as an input; ResourceGather gathers along batch_dims.
    const axis = unique(ctx, `${name}/axis`);
    constNode(ctx, axis, { dtype: 'int32', shape: [], data: Int32Array.of(attrInt(attrs.batch_dims) ?? 0) });
    inputs.push(axis);
    attrs.Taxis = typeAttr(DT.INT32);
  }
  if (BATCH_NORM_OPS.has(op) && expandsBatchNorm(ctx, scope, node)) {
    if (inputs.length < 5) fail(ctx, `${node.op} '${node.name}' in ${scope.where} has ${inputs.length} inputs, expected 5`);
    expandBatchNorm(ctx, name, inputs, attrs);
    return;
  }
  if (op === 'BatchMatMulV3' && attrs.Ta?.type === attrs.Tb?.type && attrs.Ta?.type === attrs.Tout?.type) {
    // V3 only adds mixed input types; with equal types it is V2.
    op = 'BatchMatMulV2';
    attrs.T = typeAttr(attrs.Ta?.type ?? DT.FLOAT);
  }
  const attr: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('_')) continue;
    if (v.value === 'func' || (v.value === 'list' && (v.list?.func.length ?? 0) > 0)) {
      // Control flow (If, While, Case) keeps function bodies igx does not inline.
      if (!op.endsWith(')')) op = `${op}(with function attr '${k}')`;
      continue;
    }
    attr[k] = attrToJson(v);
  }
  pushNode(ctx, { name, op, input: inputs, attr });
}
