import type { Command } from 'commander';
import { Option } from 'commander';
import { BACKENDS } from '../config/explain-config.js';
import { PRESETS } from '../image/preprocess.js';
import { selectBackend, type BackendName } from '../engine/backend.js';
import { resolvePreprocess } from '../image/preprocess.js';
import { DEFAULT_MODEL_PATH } from '../model/default-model.js';
import { inspectModel } from '../model/inspect-model.js';
import { loadModel } from '../model/load-model.js';
import { inspectOnnx, resolveOnnxPath } from '../onnx/index.js';
import { inspectSavedModel, isSavedModelDir } from '../savedmodel/index.js';
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
      const model = await loadModel(path ?? DEFAULT_MODEL_PATH);
      try {
        const info = await inspectModel(model);
        const preprocess = (opts.preprocess as Preprocess | undefined) ?? model.sidecar?.preprocess ?? model.defaultPreprocess ?? '[-1,1]';
        const source = opts.preprocess ? 'flag' : model.sidecar?.preprocess ? 'igx.json' : model.defaultPreprocess ? 'model' : 'default';
        const resolved = { preset: preprocess, source, ...resolvePreprocess(preprocess, model.inputShape[2]) };
        if (opts.json) {
          ctx.io.stdout.write(`${JSON.stringify({ ...info, backend, preprocess: resolved, savedModel: savedModel ?? null, onnx: onnx === undefined ? null : { opset: onnx.opset, producer: onnx.producer, irVersion: onnx.irVersion } })}\n`);
        } else {
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
          const unsupported = Object.entries(info.unsupportedOps);
          out(`cannot run: ${unsupported.length ? c.red(unsupported.map(([k, v]) => `${k}×${v}`).join(', ')) : 'none'}`);
          out(`gradient on ${backend.kind} (${backend.tfBackend}): ${info.gradient.isDifferentiable ? c.green('ok') : c.red(`fails: ${info.gradient.error}`)}`);
          if (info.layers.length > 0) out(`--layer: ${info.layers.join(', ')}`);
          out(`igx.json: ${info.sidecar ? JSON.stringify(info.sidecar) : 'none'}; labels: ${info.labels ?? 'none'}`);
          out(`preprocess: ${JSON.stringify(resolved.preset)} (${source}) → (x - [${resolved.mean.join(', ')}]) / [${resolved.std.join(', ')}]`);
        }
        ctx.run.code = info.gradient.isDifferentiable && Object.keys(info.unsupportedOps).length === 0 ? 0 : 1;
      } finally {
        model.dispose();
      }
    });
}
