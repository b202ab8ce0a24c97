/** Constant predicates: which branch a TF1 Switch (or a TF2 If) takes when no run decides it. */
import { dataInputs, PASS_THROUGH_OPS, SWITCH_OPS, type BuildContext, type Scope } from './build-context.js';
import type { NodeDefMsg } from './messages.js';
import { parseRef } from './parse-ref.js';
import { DT, elementCount, numberAt, tensorFromProto, type TensorValue } from './tensor-value.js';

/**
 * The output (0 false, 1 true) a Switch's predicate takes when the predicate is a constant: a Const,
 * reached through Identity, PlaceholderWithDefault (the graph's default: Keras's learning phase) and
 * the taken outputs of outer Switches; undefined when a signature input or a computation decides it.
 * Older Keras made the learning phase a plain bool Placeholder, which its predict feeds false.
 */
export function takenBranch(ctx: BuildContext, scope: Scope, node: NodeDefMsg): number | undefined {
  if (!scope.taken.has(node.name)) {
    const pred = dataInputs(node)[1];
    const value = pred === undefined ? undefined : constantPredicate(ctx, scope, pred);
    scope.taken.set(node.name, value === undefined ? null : value ? 1 : 0);
  }
  return scope.taken.get(node.name) ?? undefined;
}

export function constantPredicate(ctx: BuildContext, scope0: Scope, ref0: string): boolean | undefined {
  let scope = scope0;
  let ref = ref0;
  for (;;) {
    const parsed = parseRef(ctx, scope, ref);
    if (parsed.kind === 'arg') {
      ref = scope.callInputs[parsed.index] as string;
      scope = scope.parent as Scope;
      continue;
    }
    const { node, index } = parsed;
    if (scope === ctx.top && ctx.feeds.has(`${node.name}:${index}`)) return undefined;
    let next: string | undefined;
    if (PASS_THROUGH_OPS.has(node.op) || node.op === 'PlaceholderWithDefault') next = dataInputs(node)[0];
    else if (node.op === 'IdentityN') next = dataInputs(node)[index];
    else if (SWITCH_OPS.has(node.op) && index === takenBranch(ctx, scope, node)) next = dataInputs(node)[0];
    if (next !== undefined) {
      ref = next;
      continue;
    }
    if (node.op === 'Placeholder' && node.attr.dtype?.type === DT.BOOL && /(^|\/)keras_learning_phase$/.test(node.name)) return false;
    const tensor = node.op === 'Const' ? node.attr.value?.tensor : undefined;
    if (tensor == null) return undefined;
    let value: TensorValue;
    try {
      value = tensorFromProto(tensor, `Const '${node.name}'`);
    } catch {
      return undefined;
    }
    // tf.cond's predicate is a bool scalar.
    if (value.dtype !== 'bool' || elementCount(value.shape) !== 1) return undefined;
    return numberAt(value, 0) !== 0;
  }
}
