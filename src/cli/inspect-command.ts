import type { Command } from 'commander';
import { Option } from 'commander';
import { BACKENDS } from '../config/explain-config.js';
import { PRESETS } from '../image/preprocess.js';
import { selectBackend, type BackendName } from '../engine/backend.js';
import { resolvePreprocess } from '../image/preprocess.js';
import { DEFAULT_MODEL_PATH } from '../model/default-model.js';
import { isIgxError, type IgxError } from '../errors.js';
import { inspectModel, inspectUnconvertedOnnx, type ModelInspection } from '../model/inspect-model.js';
import { loadModel } from '../model/load-model.js';
import type { Sidecar } from '../model/sidecar.js';
import type { LoadedModel } from '../model/types.js';
import { inspectOnnx, resolveOnnxPath, type OnnxInspection, type UnsupportedOnnxOp } from '../onnx/index.js';
import { inspectSavedModel, isSavedModelDir, type SavedModelInspection } from '../savedmodel/index.js';
import type { Preprocess } from '../image/preprocess.js';
import type { CommandContext } from './io.js';

export function registerInspectCommand(program: Command, ctx: CommandContext): void {
  program
    .command('inspect')
    .description('show a model as igx sees it: input, outputs, ops, whether the backend can differentiate it, sidecar and preprocessing')
    .argument('[model]', 'model folder or model.json (default: the embedded MobileNet v1 0.25)')
    .addOption(new Option('--backend <name>', 'backend to check against (default: auto)').choices(BACKENDS as unknown as string[]))
    .addOption(new Option('--preprocess <preset>', 'show this preprocessing instead of the sidecar\'s').choices(PRESETS as unknown as string[]))
    .option('--json', 'print the inspection as JSON on stdout')
    .action(async (path: string | undefined, opts: { backend?: string; preprocess?: string; json?: boolean }) => {
      const backend = await selectBackend((opts.backend ?? 'auto') as BackendName);
      const savedModel = path !== undefined && (await isSavedModelDir(path)) ? await inspectSavedModel(path) : undefined;
      const onnxPath = path !== undefined && savedModel === undefined ? await resolveOnnxPath(path) : undefined;
      const onnx = onnxPath === undefined ? undefined : await inspectOnnx(onnxPath);
      const { info, modelPreprocess, notBuilt } = await inspectPath(path, onnx);
      const preprocess = (opts.preprocess as Preprocess | undefined) ?? modelPreprocess ?? '[-1,1]';
      const source = opts.preprocess ? 'flag' : info.sidecar !== null && (info.sidecar as Sidecar).preprocess ? 'igx.json' : modelPreprocess ? 'model' : 'default';
      const resolved = { preset: preprocess, source, ...resolvePreprocess(preprocess, info.input.shape[2] > 0 ? info.input.shape[2] : 3) };
      if (opts.json) {
        const onnxJson = onnx === undefined ? null : { opset: onnx.opset, producer: onnx.producer, irVersion: onnx.irVersion, unsupportedOps: onnx.unsupportedOps };
        ctx.io.stdout.write(`${JSON.stringify({ ...info, backend, preprocess: resolved, savedModel: savedModel ?? null, onnx: onnxJson })}\n`);
      } else {
        printInspection(ctx, { info, backend, savedModel, onnx, resolved, notBuilt });
      }
      // Exit 1, as for any model that cannot be explained: the inspection itself worked.
      ctx.run.code = info.gradient.isDifferentiable && Object.keys(info.unsupportedOps).length === 0 ? 0 : 1;
    });
}

type Resolved = ReturnType<typeof resolvePreprocess> & { preset: Preprocess; source: string };

/** The text form: one line per fact, in the order one checks them. */
function printInspection(
  ctx: CommandContext,
  r: { info: ModelInspection; backend: Awaited<ReturnType<typeof selectBackend>>; savedModel?: SavedModelInspection; onnx?: OnnxInspection; resolved: Resolved; notBuilt?: IgxError },
): void {
  const { info, backend, savedModel, onnx, resolved, notBuilt } = r;
  const { c } = ctx;
  const out = (line: string): void => {
    ctx.io.stdout.write(`${line}\n`);
  };
  out(`${c.bold(info.path)}  (${info.format}, sha256 ${info.sha256.slice(0, 16)}…)`);
  if (savedModel) {
    out(`tensorflow ${savedModel.tensorflowVersion ?? '?'}; tag sets: ${savedModel.tags.map((t) => `[${t.join(',')}]`).join(' ')}`);
    for (const sig of savedModel.signatures) {
      const t = (x: { key: string; dtype: string; shape: number[] | undefined }): string => `${x.key} ${x.dtype}[${(x.shape ?? []).join(',')}]`;
      out(`signature ${sig.name} [${sig.tags.join(',')}]: ${sig.inputs.map(t).join(', ')} → ${sig.outputs.map(t).join(', ')}${sig.error ? c.red(` (${sig.error})`) : ''}`);
    }
  }
  if (onnx) out(`onnx opset ${onnx.opset}, IR version ${onnx.irVersion}, producer ${onnx.producer || '?'}; input fed NHWC`);
  out(`input   ${info.input.name} [${info.input.shape.join(', ')}] ${info.input.dtype}`);
  for (const o of info.outputs) {
    out(`output  ${o.index}: ${o.name} ${o.error ? c.red(o.error) : `${o.classes} values, ${o.space}${o.logitsAvailable ? ' (logits available)' : ''}`}`);
  }
  const ops = Object.entries(info.opCounts).sort(([, a], [, b]) => b - a);
  out(`${info.format === 'layers' ? 'layers ' : 'ops    '} ${ops.map(([k, v]) => `${k}×${v}`).join(', ')}`);
  const unsupported = onnx?.unsupportedOps.length ? onnx.unsupportedOps.map(describeOnnxOp) : Object.entries(info.unsupportedOps).map(([k, v]) => `${k}×${v}`);
  // Every op type is supported, but one node's setting is not (Resize with tf_crop_and_resize): that node, as explain names it.
  const blocker = notBuilt !== undefined && unsupported.length === 0 ? notBuilt.message : undefined;
  out(`cannot run: ${blocker !== undefined ? c.red(blocker) : unsupported.length ? c.red(unsupported.join(', ')) : 'none'}`);
  if (notBuilt !== undefined) out(c.red(`explain and convert fail on this model (${notBuilt.code})`));
  else out(`gradient on ${backend.kind} (${backend.tfBackend}): ${info.gradient.isDifferentiable ? c.green('ok') : c.red(`fails: ${info.gradient.error}`)}`);
  if (info.layers.length > 0) out(`--layer: ${info.layers.join(', ')}`);
  out(`igx.json: ${info.sidecar ? JSON.stringify(info.sidecar) : 'none'}; labels: ${info.labels ?? 'none'}`);
  out(`preprocess: ${JSON.stringify(resolved.preset)} (${resolved.source}) → (x - [${resolved.mean.join(', ')}]) / [${resolved.std.join(', ')}]`);
}

/** "LRN×2 (nodes 'a', 'b')": enough node names to find the op in a viewer such as Netron. */
function describeOnnxOp(u: UnsupportedOnnxOp): string {
  return `${u.op}×${u.count} (node${u.nodes.length > 1 ? 's' : ''} ${u.nodes.map((n) => `'${n}'`).join(', ')}${u.count > u.nodes.length ? ', …' : ''})`;
}

/**
 * Loads and inspects the model. An ONNX file igx cannot convert (E_UNSUPPORTED_OP) is described from
 * the file alone rather than refused: inspect is where one finds out what is missing.
 */
async function inspectPath(path: string | undefined, onnx: OnnxInspection | undefined): Promise<{ info: ModelInspection; modelPreprocess?: Preprocess; notBuilt?: IgxError }> {
  let model: LoadedModel;
  try {
    model = await loadModel(path ?? DEFAULT_MODEL_PATH);
  } catch (err) {
    if (onnx === undefined || !isIgxError(err) || err.code !== 'E_UNSUPPORTED_OP') throw err;
    const info = await inspectUnconvertedOnnx(onnx, err);
    return { info, modelPreprocess: (info.sidecar as Sidecar | null)?.preprocess, notBuilt: err };
  }
  try {
    return { info: await inspectModel(model), modelPreprocess: model.sidecar?.preprocess ?? model.defaultPreprocess };
  } finally {
    model.dispose();
  }
}
