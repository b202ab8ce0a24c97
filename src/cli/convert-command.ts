import type { Command } from 'commander';
import { selectBackend } from '../engine/backend.js';
import { convertKerasFile, detectKerasFile } from '../model/keras/index.js';
import { convertOnnx, resolveOnnxPath } from '../onnx/index.js';
import { convertSavedModel, writeGraphModel } from '../savedmodel/index.js';
import { collect, type CommandContext } from './io.js';

const splitTags = (text: string): string[] => text.split(',').map((t) => t.trim()).filter(Boolean);

export function registerConvertCommand(program: Command, ctx: CommandContext): void {
  program
    .command('convert')
    .description('convert a TensorFlow SavedModel or an ONNX file into a TensorFlow.js graph model, or a Keras .keras/.h5 file into a layers model (model.json + weight shards), in pure TypeScript')
    .argument('<saved_model>', 'folder with saved_model.pb (or .pbtxt) and variables/, an .onnx file (or a folder holding one), or a Keras .keras/.h5 file')
    .argument('<out_dir>', 'folder to write model.json and its weight shards into')
    .option('--signature <name>', 'signature to convert (default: serving_default, or the only one)')
    .option('--tags <list>', 'MetaGraph tag set, comma-separated (default: serve)')
    .option('--input <key>', 'signature input to feed; repeat for several (default: all)', collect)
    .option('--output <key>', 'signature output to keep; repeat for several (default: all)', collect)
    .option('--float-input', 'feed integer inputs that the model only casts to float (uint8 images) as float32, as igx explain does')
    .option('--json', 'print the signature and op counts as JSON on stdout')
    .action(async (savedModel: string, outDir: string, opts: { signature?: string; tags?: string; input?: string[]; output?: string[]; floatInput?: boolean; json?: boolean }) => {
      const kerasKind = await detectKerasFile(savedModel);
      if (kerasKind !== undefined) {
        await selectBackend('cpu'); // tfjs-layers builds the model once to name its weights
        const written = await convertKerasFile(savedModel, kerasKind, outDir);
        if (opts.json) ctx.io.stdout.write(`${JSON.stringify({ format: 'layers-model', files: written })}\n`);
        ctx.say(`igx: converted ${savedModel} (${written.weightCount} weights) into a TensorFlow.js layers model`);
        ctx.say(`igx: wrote ${written.modelJsonPath} and ${written.weightPaths.length} weight shard(s)`);
        return;
      }
      const onnxPath = await resolveOnnxPath(savedModel);
      if (onnxPath !== undefined) {
        const onnx = await convertOnnx(onnxPath);
        const written = await writeGraphModel(onnx.artifacts, outDir);
        if (opts.json) {
          ctx.io.stdout.write(`${JSON.stringify({ format: 'graph-model', opset: onnx.opset, producer: onnx.producer, input: onnx.input, outputs: onnx.outputs, onnxOpCounts: onnx.onnxOpCounts, opCounts: onnx.opCounts, files: written })}\n`);
        }
        const shape = (t: { name: string; shape: number[] }): string => `${t.name}[${t.shape.join(',')}]`;
        ctx.say(`igx: converted ${onnxPath} (ONNX opset ${onnx.opset}; ${shape(onnx.input)} NHWC → ${onnx.outputs.map(shape).join(', ')})`);
        ctx.say(`igx: wrote ${written.modelJsonPath} and ${written.weightPaths.length} weight shard(s)`);
        return;
      }
      const result = await convertSavedModel(savedModel, {
        signature: opts.signature,
        tags: opts.tags === undefined ? undefined : splitTags(opts.tags),
        inputs: opts.input,
        outputs: opts.output,
        floatInputs: opts.floatInput === true,
      });
      const written = await writeGraphModel(result.artifacts, outDir);
      if (opts.json) {
        ctx.io.stdout.write(`${JSON.stringify({ signature: result.signature, tags: result.tags, opCounts: result.opCounts, files: written })}\n`);
      }
      const describe = (t: { key: string; dtype: string; shape?: number[] }): string => `${t.key} ${t.dtype}[${(t.shape ?? []).join(',')}]`;
      ctx.say(`igx: converted signature ${result.signature.name} (${result.signature.inputs.map(describe).join(', ')} → ${result.signature.outputs.map(describe).join(', ')})`);
      ctx.say(`igx: wrote ${written.modelJsonPath} and ${written.weightPaths.length} weight shard(s)`);
    });
}
