/**
 * Checks a TensorFlow SavedModel end to end with igx's own reader, as a tester of `igx explain` and
 * `igx convert` would: the TensorFlow and Keras versions that wrote it, the conversion to a tfjs graph
 * model, and per image the SavedModel's outputs against the converted model's (and, with --reference,
 * against another tfjs model, e.g. one made by tensorflowjs_converter), the top class, and Integrated
 * Gradients' completeness.
 *
 *   node --import tsx scripts/check-savedmodel.ts SAVED_DIR [--image IMG]... [--expect LABEL_OR_INDEX]...
 *     [--reference TFJS_MODEL] [--max-diff X] [igx explain flags: --preprocess raw --resize fill --steps 100 ...]
 *
 * One --expect for all images, or one per --image in order; labels come from the model's igx.json. IG
 * takes 50 steps unless --steps is given (--steps adaptive: explain's default); completeness passes when
 * explain's own test does (--tolerance, default 0.05). Prints one line per image; exits 1 when a check
 * fails, 2 when the model or the flags cannot be used.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { RawExplainFlags } from '../src/config/explain-config.js';
import { closeExplainSession, explainImage, isIgxError, loadModel, openExplainSession, parseExplainFlags } from '../src/index.js';
import type { ExplainSession, LoadedModel, ModelForward } from '../src/index.js';
import { computePreprocessed } from '../src/image/preprocess.js';
import { readImage } from '../src/image/read-image.js';
import { convertSavedModel, writeGraphModel } from '../src/savedmodel/index.js';
import { readSavedModel, selectMetaGraph } from '../src/savedmodel/read-saved-model.js';

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Explain flags that take no value. */
const BOOLEAN_FLAGS = new Set(['mask', 'panel', 'html', 'saveRaw', 'failOnCompleteness']);

interface Args {
  dir: string;
  images: string[];
  expect: string[];
  reference?: string;
  maxDiff: number;
  explain: RawExplainFlags;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { dir: '', images: [], expect: [], maxDiff: 1e-4, explain: {} };
  const explain: Record<string, string | string[] | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      if (args.dir !== '') throw new Error(`unexpected argument '${arg}' (one SAVED_DIR only)`);
      args.dir = arg;
      continue;
    }
    const key = arg.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (BOOLEAN_FLAGS.has(key)) {
      explain[key] = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${arg}: expected a value`);
    if (key === 'image') args.images.push(value);
    else if (key === 'expect') args.expect.push(value);
    else if (key === 'reference') args.reference = value;
    else if (key === 'maxDiff') args.maxDiff = Number(value);
    else if (key === 'baseline') explain.baseline = [...((explain.baseline as string[] | undefined) ?? []), value];
    else explain[key] = value;
  }
  if (args.dir === '') throw new Error('expected SAVED_DIR');
  if (args.expect.length > 1 && args.expect.length !== args.images.length) {
    throw new Error(`--expect: give one for all images or one per image (${args.images.length}), received ${args.expect.length}`);
  }
  if (!(args.maxDiff >= 0)) throw new Error('--max-diff: expected a number ≥ 0');
  args.explain = explain as RawExplainFlags;
  return args;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** "Keras 2.9.0 (tf.keras)", "Keras 3 (model.export)", ... from what the exporters leave behind. */
async function describeKeras(dir: string, userObjects: { identifier: string; metadata: string }[], rootChildren: string[], inputKeys: string[]): Promise<string> {
  const versionIn = (text: string): string | undefined => /"keras_version": "([^"]+)"/.exec(text)?.[1];
  const metadataFile = join(dir, 'keras_metadata.pb');
  if (await exists(metadataFile)) {
    return `Keras ${versionIn((await readFile(metadataFile)).toString('latin1')) ?? '2 (version not recorded)'} (tf.keras; keras_metadata.pb)`;
  }
  const keras2 = userObjects.filter((o) => o.identifier.startsWith('_tf_keras_'));
  if (keras2.length > 0) {
    const version = keras2.map((o) => versionIn(o.metadata)).find((v) => v !== undefined);
    return `Keras ${version ?? '2 (version not recorded)'} (tf.keras; no keras_metadata.pb)`;
  }
  const exportArchive = rootChildren.includes('_all_variables') || rootChildren.includes('_misc_assets');
  const kerasTensors = inputKeys.some((k) => /^keras_tensor(_\d+)?$/.test(k));
  if (exportArchive) return `Keras 3 (model.export: ExportArchive${kerasTensors ? ', keras_tensor inputs' : ''})`;
  if (kerasTensors) return 'Keras 3 (keras_tensor inputs)';
  return 'no Keras marks (plain tf.Module / tf.function)';
}

function topOf(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if ((scores[i] as number) > (scores[best] as number)) best = i;
  return best;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

const fmt = (x: number): string => (x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(4) : x.toExponential(2));

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`check-savedmodel: ${(err as Error).message}\n`);
    return 2;
  }
  const work = await mkdtemp(join(tmpdir(), 'igx-check-'));
  let session: ExplainSession | undefined;
  const others: LoadedModel[] = [];
  try {
    // What wrote it.
    const files = await readSavedModel(args.dir);
    const tags = args.explain.tags?.split(',').map((t) => t.trim());
    const mg = selectMetaGraph(files.model, tags, files.path);
    const info = (mg.metaInfoDef ?? {}) as { tensorflowVersion?: string; tensorflowGitVersion?: string };
    const objects = mg.objectGraphDef?.nodes ?? [];
    const userObjects = objects.flatMap((n) => {
      const u = (n as { userObject?: { identifier: string; metadata: string } | null }).userObject;
      return u == null ? [] : [u];
    });
    const signature = mg.signatureDef[args.explain.signature ?? 'serving_default'];
    const keras = await describeKeras(files.dir, userObjects, (objects[0]?.children ?? []).map((c) => c.localName), Object.keys(signature?.inputs ?? {}));
    say(`${args.dir}: TensorFlow ${info.tensorflowVersion || '(not recorded)'} (${info.tensorflowGitVersion || 'no git version'}); ${keras}`);

    // igx convert, then the converted graph model from disk.
    const converted = await convertSavedModel(args.dir, {
      signature: args.explain.signature,
      tags,
      inputs: args.explain.input === undefined ? undefined : [args.explain.input],
    });
    const modelDir = join(work, 'converted');
    const written = await writeGraphModel(converted.artifacts, modelDir);
    const sig = converted.signature;
    const shapeOf = (t: { shape?: number[] }): string => `[${(t.shape ?? []).join(',')}]`;
    const ops = Object.entries(converted.opCounts)
      .filter(([op]) => op !== 'Const')
      .map(([op, n]) => `${op}×${n}`)
      .join(' ');
    say(
      `  convert ok: ${sig.name} ${sig.inputs.map((t) => `${t.key} ${t.dtype}${shapeOf(t)}`).join(', ')} → ${sig.outputs.map((t) => `${t.key} ${t.dtype}${shapeOf(t)}`).join(', ')}; ` +
        `${written.weightPaths.length} shard(s); ops ${ops}`,
    );

    // explain's session on the SavedModel itself (format 'savedmodel').
    const config = parseExplainFlags({ ...args.explain, model: args.dir, out: join(work, 'out'), steps: args.explain.steps === 'adaptive' ? undefined : (args.explain.steps ?? '50') });
    session = await openExplainSession(config);
    const { model, forward, preprocess } = session;
    const choice = { output: forward.outputName, outputSpace: config.outputSpace ?? model.sidecar?.outputSpace };
    // The converted folder gets the SavedModel's igx.json (labels inline; output chosen here by name).
    if (model.sidecar !== undefined) {
      const { output: _output, outputSpace: _space, ...rest } = model.sidecar;
      await writeFile(join(modelDir, 'igx.json'), JSON.stringify({ ...rest, labels: model.labels }));
    }
    const graph = await loadModel(modelDir);
    others.push(graph);
    const compared: { name: string; forward: ModelForward }[] = [{ name: 'converted', forward: graph.buildForward(choice) }];
    if (args.reference !== undefined) {
      const reference = await loadModel(args.reference);
      others.push(reference);
      compared.push({ name: 'reference', forward: reference.buildForward({ outputSpace: choice.outputSpace }) });
    }
    const [height, width, channels] = model.inputShape;
    say(
      `  input [${model.inputShape.join(',')}]; output '${forward.outputName}' ${forward.numClasses} classes (${forward.space}); ` +
        `preprocess (x - [${preprocess.mean.join(',')}]) / [${preprocess.std.join(',')}], resize ${session.resize}; ` +
        `backend ${session.backend.tfBackend}; IG ${config.steps ?? 'adaptive'} steps, ${config.method}`,
    );
    if (args.images.length === 0) say('  (no --image given: conversion checked only)');

    let failures = 0;
    for (const [i, image] of args.images.entries()) {
      const problems: string[] = [];
      const decoded = await readImage(image, { height, width, channels: channels as 1 | 3, resize: session.resize, maxPixels: config.maxPixels });
      const x = tf.tensor4d(computePreprocessed(decoded.pixels, channels, preprocess), [1, height, width, channels]);
      let scores: Float32Array;
      const diffs: string[] = [];
      try {
        scores = tf.tidy(() => forward.forward(x).dataSync() as Float32Array);
        for (const other of compared) {
          const theirs = tf.tidy(() => other.forward.forward(x).dataSync() as Float32Array);
          const d = maxAbsDiff(scores, theirs);
          diffs.push(`${other.name} max|Δ| ${fmt(d)}${topOf(theirs) === topOf(scores) ? '' : ` (top ${topOf(theirs)})`}`);
          if (!(d <= args.maxDiff)) problems.push(`${other.name} outputs differ by ${fmt(d)} > ${args.maxDiff}`);
        }
      } finally {
        x.dispose();
      }
      const top = topOf(scores);
      const labels = forward.labels;
      const name = (k: number): string => (labels?.[k] === undefined ? String(k) : `${k} '${labels[k]}'`);
      let expectText = '';
      const expected = args.expect.length === 1 ? args.expect[0] : args.expect[i];
      if (expected !== undefined) {
        const want = /^\d+$/.test(expected) ? Number(expected) : (labels?.findIndex((l) => l.toLowerCase() === expected.toLowerCase()) ?? -1);
        const ok = want === top;
        expectText = ` (expected ${expected}: ${ok ? 'ok' : 'WRONG'})`;
        if (!ok) problems.push(`top class ${name(top)}, expected ${expected}`);
      }
      const { report } = await explainImage(session, image, { outputStem: `${i}-${basename(image).replace(/\.[^.]*$/, '')}` });
      const c = report.completeness;
      const error = c.relativeError === null ? 'n/a' : fmt(c.relativeError);
      if (!c.isWithinTolerance) {
        problems.push(
          c.isDeltaNegligible
            ? `completeness absolute error ${fmt(c.absoluteError)} > ${c.tolerance} × max(|F(x)|, |F(x′)|) (try more --steps or another --baseline)`
            : `completeness error ${error} > ${c.tolerance} (try more --steps)`,
        );
      }
      say(
        `  ${basename(image)}: top ${name(top)} ${fmt(scores[top] as number)}${expectText}; ${diffs.join(', ')}; ` +
          `IG ${report.steps} steps: F(x) ${fmt(c.fx)}, F(x') ${fmt(c.fBaseline)}, completeness error ${error}` +
          `${c.isDeltaNegligible ? ' (|F(x) − F(x′)| negligible)' : ''} — ${problems.length === 0 ? 'ok' : `FAIL: ${problems.join('; ')}`}`,
      );
      if (problems.length > 0) failures++;
    }
    say(`  ${failures === 0 ? 'all checks passed' : `${failures} of ${args.images.length} image(s) failed`}`);
    return failures === 0 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`check-savedmodel: ${isIgxError(err) ? `${err.message} [${err.code}]` : ((err as Error).stack ?? String(err))}\n`);
    return 2;
  } finally {
    for (const m of others) m.dispose();
    if (session !== undefined) closeExplainSession(session);
    await rm(work, { recursive: true, force: true });
  }
}

process.exitCode = await main();
