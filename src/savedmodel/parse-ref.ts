/** Tensor references: "node", "node:1" in graphs, "node:arg:i" and argument names in function bodies. */
import { outputOffset } from './attrs-of.js';
import { fail, type BuildContext, type Scope } from './build-context.js';
import type { NodeDefMsg } from './messages.js';

export function parseRef(ctx: BuildContext, scope: Scope, ref: string): { kind: 'arg'; index: number } | { kind: 'node'; node: NodeDefMsg; index: number } {
  const parts = ref.split(':');
  const name = parts[0] as string;
  if (scope.fn !== undefined && parts.length === 1) {
    const arg = scope.argIndex.get(name);
    if (arg !== undefined) return { kind: 'arg', index: arg };
  }
  const node = scope.nodes.get(name);
  if (node === undefined) fail(ctx, `${scope.where} refers to '${ref}', which names no node there`);
  let index = 0;
  if (parts.length === 2) index = Number(parts[1]);
  else if (parts.length === 3) index = outputOffset(ctx, scope, node, parts[1] as string) + Number(parts[2]);
  if (!Number.isInteger(index) || index < 0) fail(ctx, `${scope.where} has a malformed tensor reference '${ref}'`);
  return { kind: 'node', node, index };
}

/** "name:1" → ["name", 1]; "name" → ["name", 0]. */
export function splitTensorName(tensor: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(tensor);
  return m === null ? [tensor, 0] : [m[1] as string, Number(m[2])];
}
