/** Function calls (StatefulPartitionedCall, PartitionedCall, direct calls, If on a constant cond) as inlined scopes. */
import { CALL_OPS, dataInputs, fail, IF_OPS, type BuildContext, type Scope } from './build-context.js';
import { constantPredicate } from './constant-predicate.js';
import type { AttrValueMsg, NodeDefMsg } from './messages.js';

const MAX_CALL_DEPTH = 64;

export function isCall(ctx: BuildContext, scope: Scope, node: NodeDefMsg): boolean {
  return CALL_OPS.has(node.op) || ctx.library.has(node.op) || (IF_OPS.has(node.op) && ifBranch(ctx, scope, node) !== undefined);
}

/** An If/StatelessIf whose cond is a constant: the branch function it calls (then_branch or else_branch). */
function ifBranch(ctx: BuildContext, scope: Scope, node: NodeDefMsg): { name: string; attr: Record<string, AttrValueMsg> } | undefined {
  const cond = dataInputs(node)[0];
  const value = cond === undefined ? undefined : constantPredicate(ctx, scope, cond);
  if (value === undefined) return undefined;
  const f = (value ? node.attr.then_branch : node.attr.else_branch)?.func;
  return f?.name ? { name: f.name, attr: f.attr ?? {} } : undefined;
}

/** The scope of the function that call node `node` inlines, its arguments bound to the caller's inputs. */
export function childScope(ctx: BuildContext, scope: Scope, node: NodeDefMsg): Scope {
  const existing = scope.children.get(node.name);
  if (existing !== undefined) return existing;
  const branch = IF_OPS.has(node.op) ? ifBranch(ctx, scope, node) : undefined;
  const partitioned = CALL_OPS.has(node.op);
  const fname = branch?.name ?? (partitioned ? node.attr.f?.func?.name : node.op);
  const fn = fname === undefined ? undefined : ctx.library.get(fname);
  if (fn === undefined || fn.signature === null) {
    fail(ctx, `node '${node.name}' in ${scope.where} calls function '${fname ?? '(none)'}', which the graph's function library lacks`);
  }
  if (scope.depth + 1 > MAX_CALL_DEPTH) {
    fail(ctx, `function calls nest deeper than ${MAX_CALL_DEPTH} levels at node '${node.name}' (recursive functions are not supported)`);
  }
  const signature = fn.signature;
  // An If's first input is its cond; the rest are the branch's arguments.
  const inputs = branch === undefined ? dataInputs(node) : dataInputs(node).slice(1);
  if (inputs.length !== signature.inputArg.length) {
    fail(ctx, `node '${node.name}' passes ${inputs.length} inputs to function '${fname}', which takes ${signature.inputArg.length}`);
  }
  let body = ctx.bodies.get(signature.name);
  if (body === undefined) {
    body = new Map(fn.nodeDef.map((n) => [n.name, n]));
    ctx.bodies.set(signature.name, body);
  }
  const child: Scope = {
    prefix: `${scope.prefix}${node.name}/`,
    nodes: body,
    fn,
    parent: scope,
    callInputs: inputs,
    argIndex: new Map(signature.inputArg.map((a, i) => [a.name, i])),
    attrSubst: branch?.attr ?? (partitioned ? (node.attr.f?.func?.attr ?? {}) : node.attr),
    children: new Map(),
    emitted: new Map(),
    depth: scope.depth + 1,
    where: `function '${fname}' (inlined at '${scope.prefix}${node.name}')`,
    liveness: new Map(),
    taken: new Map(),
  };
  scope.children.set(node.name, child);
  return child;
}
