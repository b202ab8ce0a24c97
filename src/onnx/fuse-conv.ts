/**
 * Conv2D/DepthwiseConv2dNative → BiasAdd (→ Relu) chains become one _FusedConv2D /
 * FusedDepthwiseConv2dNative node, as tensorflowjs_converter fuses them: one kernel instead of two or
 * three. tfjs-core differentiates fused convolutions with a linear or ReLU activation.
 */
import type { GraphJsonNode } from '../savedmodel/build-context.js';

const FUSED: Record<string, string> = { Conv2D: '_FusedConv2D', DepthwiseConv2dNative: 'FusedDepthwiseConv2dNative' };

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const nodeOf = (ref: string): string => ref.replace(/:\d+$/, '');

/** The fused graph; `keep` names nodes that must stay (graph outputs). */
export function fuseConvolutions(nodes: GraphJsonNode[], keep: ReadonlySet<string>): GraphJsonNode[] {
  const consumers = new Map<string, GraphJsonNode[]>();
  for (const n of nodes) {
    for (const ref of n.input) {
      const name = nodeOf(ref);
      consumers.set(name, [...(consumers.get(name) ?? []), n]);
    }
  }
  const only = (name: string): GraphJsonNode | undefined => {
    const list = consumers.get(name) ?? [];
    return list.length === 1 && !keep.has(name) ? list[0] : undefined;
  };
  const removed = new Set<string>();
  const replaced = new Map<string, GraphJsonNode>();
  for (const conv of nodes) {
    const fusedOp = FUSED[conv.op];
    if (fusedOp === undefined) continue;
    const bias = only(conv.name);
    if (bias === undefined || bias.op !== 'BiasAdd' || nodeOf(bias.input[0] ?? '') !== conv.name) continue;
    const relu = only(bias.name);
    const withRelu = relu !== undefined && relu.op === 'Relu';
    const last = withRelu ? relu : bias;
    const ops = withRelu ? ['BiasAdd', 'Relu'] : ['BiasAdd'];
    replaced.set(last.name, {
      name: last.name,
      op: fusedOp,
      input: [conv.input[0] as string, conv.input[1] as string, bias.input[1] as string],
      attr: { ...conv.attr, fused_ops: { list: { s: ops.map(b64) } }, num_args: { i: '1' }, epsilon: { f: 0 } },
    });
    removed.add(conv.name);
    if (withRelu) removed.add(bias.name);
  }
  return nodes.filter((n) => !removed.has(n.name)).map((n) => replaced.get(n.name) ?? n);
}
