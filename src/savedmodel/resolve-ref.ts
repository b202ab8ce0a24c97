/**
 * Tensor references followed to what produces them: through function arguments and calls (inlined),
 * pass-through ops (bypassed), TF1 Switch/Merge on constant predicates (folded), to variables (Consts)
 * or to nodes queued for emission.
 */
import { IgxError } from '../errors.js';
import { dataInputs, fail, MERGE_OPS, PASS_THROUGH_OPS, SWITCH_OPS, unique, type BuildContext, type Resolved, type Scope } from './build-context.js';
import { childScope, isCall } from './child-scope.js';
import { takenBranch } from './constant-predicate.js';
import { expandsBatchNorm } from './expand-batch-norm.js';
import { failDead, mergeChoice, valueIndex } from './merge-choice.js';
import type { FunctionDefMsg, NodeDefMsg } from './messages.js';
import { parseRef } from './parse-ref.js';
import { flag } from './push-node.js';
import { variableConst } from './variable-const.js';

/** Follows a tensor reference through arguments, calls and pass-through ops to what produces it. */
export function resolveRef(ctx: BuildContext, scope0: Scope, ref0: string): Resolved {
  let scope = scope0;
  let ref = ref0;
  for (;;) {
    const parsed = parseRef(ctx, scope, ref);
    if (parsed.kind === 'arg') {
      const parent = scope.parent as Scope;
      ref = scope.callInputs[parsed.index] as string;
      scope = parent;
      continue;
    }
    const { node, index } = parsed;
    if (scope === ctx.top) {
      const fed = ctx.feeds.get(`${node.name}:${index}`);
      if (fed !== undefined) return { kind: 'tensor', ref: fed };
    }
    if (isCall(ctx, scope, node)) {
      const child = childScope(ctx, scope, node);
      const fn = child.fn as FunctionDefMsg;
      const outArg = fn.signature?.outputArg[index];
      const ret = outArg === undefined ? undefined : fn.ret[outArg.name];
      if (ret === undefined) fail(ctx, `node '${node.name}' in ${scope.where} has no output ${index} (function '${fn.signature?.name}' returns ${fn.signature?.outputArg.length ?? 0})`);
      ref = ret;
      scope = child;
      continue;
    }
    const inputs = dataInputs(node);
    if (PASS_THROUGH_OPS.has(node.op) || node.op === 'PlaceholderWithDefault' || node.op === 'IdentityN') {
      const next = inputs[node.op === 'IdentityN' ? index : 0];
      if (next === undefined) fail(ctx, `node '${node.name}' (${node.op}) in ${scope.where} lacks input ${index}`);
      ref = next;
      continue;
    }
    if (SWITCH_OPS.has(node.op)) {
      const taken = takenBranch(ctx, scope, node);
      if (taken !== undefined) {
        if (index !== taken) failDead(ctx, scope, node);
        ref = inputs[0] as string;
        continue;
      }
    } else if (MERGE_OPS.has(node.op)) {
      const choice = mergeChoice(ctx, scope, node);
      if (choice === 'dead') failDead(ctx, scope, node);
      if (choice !== undefined) {
        if (index === 0) {
          ref = inputs[choice] as string;
          continue;
        }
        return { kind: 'tensor', ref: valueIndex(ctx, scope, node, choice) };
      }
    }
    return resolveProducer(ctx, scope, node, index);
  }
}

/** Where the walk ends: a variable, a placeholder not fed (an error), or a node to emit. */
function resolveProducer(ctx: BuildContext, scope: Scope, node: NodeDefMsg, index: number): Resolved {
  const inputs = dataInputs(node);
  switch (node.op) {
    case 'VarHandleOp':
      if (scope !== ctx.top) fail(ctx, `${scope.where} creates variable '${node.name}' inside a function; igx reads variables captured from the graph`);
      return { kind: 'variable', node };
    case 'VariableV2':
    case 'Variable':
      if (scope !== ctx.top) fail(ctx, `${scope.where} creates variable '${node.name}' inside a function`);
      return { kind: 'tensor', ref: variableConst(ctx, node) };
    case 'ReadVariableOp': {
      const handle = inputs[0] === undefined ? undefined : resolveRef(ctx, scope, inputs[0]);
      if (handle?.kind !== 'variable') fail(ctx, `ReadVariableOp '${node.name}' in ${scope.where} reads no variable igx can find`);
      return { kind: 'tensor', ref: variableConst(ctx, handle.node) };
    }
    case 'Placeholder':
      throw new IgxError(
        'E_MODEL_SIGNATURE',
        `${ctx.options.file}: signature '${ctx.options.signature.name}' needs placeholder '${node.name}', which is not among the inputs being fed`,
      );
    default: {
      const name = emit(ctx, scope, node);
      if (index > 0 && expandsBatchNorm(ctx, scope, node)) {
        // Only y survives the rewrite (expand-batch-norm.ts); the batch statistics feed training ops.
        flag(ctx, `${node.op}(batch statistics output ${index})`);
      }
      return { kind: 'tensor', ref: index === 0 ? name : `${name}:${index}` };
    }
  }
}

/** The built name of `node`, queued for building on first use. */
function emit(ctx: BuildContext, scope: Scope, node: NodeDefMsg): string {
  const existing = scope.emitted.get(node.name);
  if (existing !== undefined) return existing;
  const name = unique(ctx, scope.prefix + node.name);
  scope.emitted.set(node.name, name);
  ctx.queue.push({ scope, node, name });
  return name;
}
