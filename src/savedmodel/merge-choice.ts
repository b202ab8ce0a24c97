/** TF1 Merges folded by liveness: which data input a Merge passes on once constant predicates decide it. */
import { dataInputs, fail, MERGE_OPS, SWITCH_OPS, unique, type BuildContext, type Liveness, type Scope } from './build-context.js';
import { takenBranch } from './constant-predicate.js';
import type { NodeDefMsg } from './messages.js';
import { parseRef } from './parse-ref.js';
import { constNode } from './push-node.js';

/** The state of a tensor reference (or "^node" control input) whose node's liveness is computed. */
function refLiveness(ctx: BuildContext, scope: Scope, ref: string): Liveness {
  const isControl = ref.startsWith('^');
  const parsed = parseRef(ctx, scope, isControl ? ref.slice(1) : ref);
  if (parsed.kind === 'arg') return 'live';
  const { node, index } = parsed;
  if (scope === ctx.top && !isControl && ctx.feeds.has(`${node.name}:${index}`)) return 'live';
  // Not yet computed: a cycle (a while loop's NextIteration), which only a run decides.
  const state = scope.liveness.get(node.name) ?? 'unknown';
  // A control edge from a Switch carries the Switch's own state, not a branch's (hence tf.cond's switch_t Identity).
  if (!SWITCH_OPS.has(node.op) || isControl || state === 'dead') return state;
  const taken = takenBranch(ctx, scope, node);
  if (taken === undefined) return 'unknown';
  return index === taken ? state : 'dead';
}

/**
 * Computes the liveness of `start` and its ancestors in its scope, as TF's executor propagates dead
 * tensors: a node with any dead input (data or control) is dead, except Merge, which is dead only when
 * all its data inputs are. Function arguments count as live: a call in a dead branch is itself dead
 * and never inlined. Explicit stack: graphs thousands of nodes deep are fine.
 */
function computeLiveness(ctx: BuildContext, scope: Scope, start: string): void {
  const memo = scope.liveness;
  const expanded = new Set<string>();
  const stack = [start];
  const inputsOf = (node: NodeDefMsg): string[] => (MERGE_OPS.has(node.op) ? dataInputs(node) : node.input);
  while (stack.length > 0) {
    const name = stack[stack.length - 1] as string;
    const node = scope.nodes.get(name);
    if (memo.has(name) || node === undefined) {
      stack.pop();
      continue;
    }
    if (!expanded.has(name)) {
      expanded.add(name);
      for (const ref of inputsOf(node)) {
        const dep = (ref.startsWith('^') ? ref.slice(1) : ref).split(':')[0] as string;
        if (scope.nodes.has(dep) && !memo.has(dep) && !expanded.has(dep)) stack.push(dep);
      }
      continue;
    }
    stack.pop();
    const states = inputsOf(node).map((ref) => refLiveness(ctx, scope, ref));
    let state: Liveness;
    if (MERGE_OPS.has(node.op)) {
      state = states.every((x) => x === 'dead') ? 'dead' : states.includes('unknown') ? 'unknown' : 'live';
    } else {
      state = states.includes('dead') ? 'dead' : states.includes('unknown') ? 'unknown' : 'live';
    }
    memo.set(name, state);
  }
}

/** The data input a Merge passes on when constant predicates decide it; 'dead' when none is live. */
export function mergeChoice(ctx: BuildContext, scope: Scope, node: NodeDefMsg): number | 'dead' | undefined {
  computeLiveness(ctx, scope, node.name);
  const states = dataInputs(node).map((ref) => refLiveness(ctx, scope, ref));
  if (states.every((x) => x === 'dead')) return 'dead';
  const live = states.flatMap((x, i) => (x === 'live' ? [i] : []));
  return live.length === 1 && !states.includes('unknown') ? live[0] : undefined;
}

/** Merge's value_index output, once its choice is known: an int32 Const. */
export function valueIndex(ctx: BuildContext, scope: Scope, node: NodeDefMsg, choice: number): string {
  const key = `${node.name}:1`;
  const existing = scope.emitted.get(key);
  if (existing !== undefined) return existing;
  const name = unique(ctx, `${scope.prefix}${node.name}/value_index`);
  constNode(ctx, name, { dtype: 'int32', shape: [], data: Int32Array.of(choice) });
  scope.emitted.set(key, name);
  return name;
}

export function failDead(ctx: BuildContext, scope: Scope, node: NodeDefMsg): never {
  return fail(
    ctx,
    `signature '${ctx.options.signature.name}' needs '${node.name}' (${node.op}) in ${scope.where}, which lies in a tf.cond branch that its constant predicate never takes`,
  );
}
