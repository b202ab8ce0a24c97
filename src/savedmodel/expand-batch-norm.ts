/** FusedBatchNorm nodes tfjs would run wrongly (training mode, NCHW), rewritten as plain ops. */
import { attrsOf } from './attrs-of.js';
import { unique, type BuildContext, type GraphJsonNode, type Scope } from './build-context.js';
import type { AttrValueMsg, NodeDefMsg } from './messages.js';
import { constNode, pushNode } from './push-node.js';

export const BATCH_NORM_OPS = new Set(['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3']);
const utf8 = new TextDecoder('utf-8');

/** tfjs's FusedBatchNorm ignores is_training and data_format: such nodes are rewritten (see below). */
export function expandsBatchNorm(ctx: BuildContext, scope: Scope, node: NodeDefMsg): boolean {
  if (!BATCH_NORM_OPS.has(node.op)) return false;
  const attrs = attrsOf(ctx, scope, node);
  const format = attrs.data_format?.value === 's' ? utf8.decode(attrs.data_format.s) : 'NHWC';
  return attrs.is_training?.b === true || format === 'NCHW';
}

/** Pushes `node` under a fresh name made from `base`; returns that name. */
function emitOp(ctx: BuildContext, base: string, node: Omit<GraphJsonNode, 'name'>): string {
  const name = unique(ctx, base);
  pushNode(ctx, { name, op: node.op, input: node.input, attr: node.attr });
  return name;
}

/**
 * FusedBatchNorm in training mode (Keras 2's fused LayerNormalization) or NCHW as plain ops:
 * y = (x − mean) · rsqrt(var + ε) · scale + offset, with the batch's own moments in training mode.
 */
export function expandBatchNorm(ctx: BuildContext, name: string, inputs: string[], attrs: Record<string, AttrValueMsg>): void {
  const [x, scale, offset, mean, variance] = inputs as [string, string, string, string, string];
  const T = { type: 'DT_FLOAT' };
  const nchw = attrs.data_format?.value === 's' && utf8.decode(attrs.data_format.s) === 'NCHW';
  const training = attrs.is_training?.b === true;
  const int32 = (base: string, values: number[], shape: number[]): string => {
    const n = unique(ctx, `${name}/${base}`);
    constNode(ctx, n, { dtype: 'int32', shape, data: Int32Array.from(values) });
    return n;
  };
  const broadcast = (t: string, base: string): string =>
    nchw ? emitOp(ctx, `${name}/${base}`, { op: 'Reshape', input: [t, int32(`${base}/shape`, [1, -1, 1, 1], [4])], attr: { T, Tshape: { type: 'DT_INT32' } } }) : t;
  let m: string;
  let v: string;
  if (training) {
    const axes = int32('axes', nchw ? [0, 2, 3] : [0, 1, 2], [3]);
    const reduce = { T, Tidx: { type: 'DT_INT32' }, keep_dims: { b: true } };
    m = emitOp(ctx, `${name}/mean`, { op: 'Mean', input: [x, axes], attr: reduce });
    const sq = emitOp(ctx, `${name}/squared_difference`, { op: 'SquaredDifference', input: [x, m], attr: { T } });
    v = emitOp(ctx, `${name}/variance`, { op: 'Mean', input: [sq, axes], attr: reduce });
  } else {
    m = broadcast(mean, 'mean');
    v = broadcast(variance, 'variance');
  }
  const eps = unique(ctx, `${name}/epsilon`);
  constNode(ctx, eps, { dtype: 'float32', shape: [], data: Float32Array.of(attrs.epsilon?.f ?? 0.0001) });
  const inv = emitOp(ctx, `${name}/rsqrt`, { op: 'Rsqrt', input: [emitOp(ctx, `${name}/add_epsilon`, { op: 'AddV2', input: [v, eps], attr: { T } })], attr: { T } });
  const gain = emitOp(ctx, `${name}/gain`, { op: 'Mul', input: [inv, broadcast(scale, 'scale')], attr: { T } });
  const centered = emitOp(ctx, `${name}/centered`, { op: 'Sub', input: [x, m], attr: { T } });
  const scaled = emitOp(ctx, `${name}/scaled`, { op: 'Mul', input: [centered, gain], attr: { T } });
  pushNode(ctx, { name, op: 'AddV2', input: [scaled, broadcast(offset, 'offset')], attr: { T } });
}
