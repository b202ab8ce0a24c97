/** A node's attrs and output args as its OpDef (or the function it calls) lays them out. */
import { attrInt } from './attr-to-json.js';
import { CALL_OPS, fail, IF_OPS, type BuildContext, type Scope } from './build-context.js';
import type { AttrValueMsg, NodeDefMsg } from './messages.js';
import { DEFAULT_ATTRS, OUTPUT_ARGS } from './op-defaults.js';
import { DT } from './tensor-value.js';

/** A node's attrs with OpDef defaults filled in (SavedModels strip them) and function placeholders bound. */
export function attrsOf(ctx: BuildContext, scope: Scope, node: NodeDefMsg): Record<string, AttrValueMsg> {
  const opDef = ctx.opDefs.get(node.op);
  const out: Record<string, AttrValueMsg> = opDef === undefined ? { ...DEFAULT_ATTRS[node.op] } : {};
  for (const def of opDef?.attr ?? []) {
    if (def.defaultValue != null && def.defaultValue.value !== undefined) out[def.name] = def.defaultValue;
  }
  for (const [k, v] of Object.entries(node.attr)) {
    if (v.value === 'placeholder') {
      const bound = scope.attrSubst[v.placeholder ?? ''];
      if (bound === undefined) {
        fail(ctx, `node '${node.name}' in ${scope.where}: attr '${k}' refers to function attr '${v.placeholder}', which the call does not set`);
      }
      out[k] = bound;
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** Flat output index of a function-body reference "node:arg:i". */
export function outputOffset(ctx: BuildContext, scope: Scope, node: NodeDefMsg, argName: string): number {
  const fn = CALL_OPS.has(node.op) || IF_OPS.has(node.op) ? undefined : ctx.library.get(node.op);
  if (fn?.signature != null) {
    const i = fn.signature.outputArg.findIndex((a) => a.name === argName);
    if (i < 0) fail(ctx, `a reference to output '${argName}' of '${node.name}' in ${scope.where}, which function '${node.op}' lacks`);
    return i;
  }
  const opDef = ctx.opDefs.get(node.op);
  if (opDef === undefined) {
    // Without the OpDef: ops with one output arg (most) start it at 0.
    const known = OUTPUT_ARGS[node.op]?.indexOf(argName) ?? -1;
    return known < 0 ? 0 : known;
  }
  const attrs = attrsOf(ctx, scope, node);
  let offset = 0;
  for (const arg of opDef.outputArg) {
    if (arg.name === argName) return offset;
    if (arg.numberAttr) offset += attrInt(attrs[arg.numberAttr]) ?? 1;
    else if (arg.typeListAttr) offset += attrs[arg.typeListAttr]?.list?.type.length ?? 0;
    else offset += 1;
  }
  return fail(ctx, `a reference to output '${argName}' of '${node.name}' (${node.op}) in ${scope.where}, which the op does not have`);
}

/** The dtype of output `index` of a node: from its OpDef's output args, else its T or dtype attr. */
export function outputType(ctx: BuildContext, scope: Scope, node: NodeDefMsg, index: number): number | undefined {
  const attrs = attrsOf(ctx, scope, node);
  const opDef = ctx.opDefs.get(node.op);
  if (opDef === undefined) return (attrs.T ?? attrs.dtype)?.type;
  let offset = 0;
  for (const arg of opDef.outputArg) {
    const n = arg.numberAttr ? (attrInt(attrs[arg.numberAttr]) ?? 1) : arg.typeListAttr ? (attrs[arg.typeListAttr]?.list?.type.length ?? 0) : 1;
    if (index < offset + n) {
      if (arg.type !== DT.INVALID) return arg.type;
      return arg.typeAttr ? attrs[arg.typeAttr]?.type : attrs[arg.typeListAttr]?.list?.type[index - offset];
    }
    offset += n;
  }
  return undefined;
}
