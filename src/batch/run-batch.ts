/**
 * A batch run: inputs → (shard filter) → (resume check) → explain → manifest rows. Streams: the input walk
 * is consumed as images finish, with at most `concurrency` images in flight.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import type { ExplainConfig } from '../config/explain-config.js';
import { IgxError, isIgxError, toIgxError } from '../errors.js';
import type { ExplainImageOptions, ExplainProgress, ExplainResult } from '../explain/index.js';
import { IGX_VERSION } from '../package-info.js';
import { REPORT_SUFFIX } from '../report/run-layout.js';
import { computeCounts, MANIFEST_NAME, MANIFEST_SCHEMA_VERSION, ManifestWriter, shardManifestName, type Manifest, type ManifestRow } from '../report/manifest.js';
import { computeRunRoot, countInputs, discoverInputs, IMAGE_EXTENSIONS, type DiscoveredInput } from './discover-inputs.js';
import { isInShard, type Shard } from './shard.js';
import { ensureDir } from '../files/ensure-dir.js';
import { lockFolder, type FolderLock } from '../files/folder-lock.js';
import { removeStrayTempFiles } from '../files/stray-temp-files.js';
import { isAlreadyDone } from './resume-check.js';

/** What runs one image: an in-process session or a worker pool. */
export interface ImageExplainer {
  explainImage(imagePath: string, options?: ExplainImageOptions): Promise<ExplainResult>;
  configHash: string;
  model: { path: string; format: string; sha256: string };
  /** Images in flight at once. */
  concurrency: number;
}

export type BatchEvent =
  | { type: 'start'; manifestPath: string; runRoot: string }
  | { type: 'discovered'; count: number }
  /** How many inputs the run holds in all, from a counting walk beside the explaining one. */
  | { type: 'total'; count: number }
  | { type: 'image-start'; path: string }
  | { type: 'progress'; path: string; progress: ExplainProgress }
  | { type: 'row'; row: ManifestRow; result?: ExplainResult };

export interface BatchOptions {
  inputs: string[];
  config: ExplainConfig;
  shard?: Shard;
  resume: boolean;
  signal?: AbortSignal;
  onEvent?: (event: BatchEvent) => void;
}

export interface BatchSummary {
  manifestPath: string;
  manifest: Manifest;
  isInterrupted: boolean;
}

export class AbortedError extends Error {
  constructor() {
    super('aborted');
    this.name = 'AbortedError';
  }
}

const stripExtension = (relPath: string): string => {
  const ext = posix.extname(relPath);
  return ext ? relPath.slice(0, -ext.length) : relPath;
};

/** sha256 of a regular file, streamed; anything else (a FIFO would block, /dev/zero never end) throws. */
export async function computeFileSha256(path: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw new Error(`'${path}' is not a regular file`);
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ autoClose: false, start: 0 })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

interface RunContext {
  explainer: ImageExplainer;
  options: BatchOptions;
  writer: ManifestWriter;
  emit: (event: BatchEvent) => void;
}

/**
 * The manifest of a new run, written once before any image so that the run is visible at once, and the
 * lock that keeps a second run from writing the same manifest and outputs meanwhile.
 */
async function startManifest(
  explainer: ImageExplainer,
  options: BatchOptions & { runRoot: string },
): Promise<{ manifestPath: string; manifest: Manifest; writer: ManifestWriter; lock: FolderLock }> {
  const { config, shard, runRoot } = options;
  const manifestPath = join(config.out, shard ? shardManifestName(shard.index, shard.count) : MANIFEST_NAME);
  const manifest: Manifest = {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    igxVersion: IGX_VERSION,
    model: explainer.model,
    config: JSON.parse(JSON.stringify(config)) as Record<string, unknown>,
    configHash: explainer.configHash,
    runRoot,
    shard: shard ?? null,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    status: 'running',
    counts: computeCounts([]),
    rows: [],
  };
  const writer = new ManifestWriter(manifestPath, manifest);
  await ensureDir(config.out).catch((err: NodeJS.ErrnoException) => {
    throw new IgxError('E_WRITE', `--out ${config.out}: cannot create the folder (${err.code ?? err.message})`);
  });
  const lock = await lockFolder({ dir: config.out, name: basename(manifestPath) }).catch((err: NodeJS.ErrnoException) => {
    throw isIgxError(err) ? err : new IgxError('E_WRITE', `--out ${config.out}: cannot take its lock (${err.code ?? err.message})`);
  });
  return { manifestPath, manifest, writer, lock };
}

/**
 * The inputs' stream, once it has shown that it holds something: a run that would explain nothing
 * fails before its manifest is written (E_NO_INPUT), unless --allow-empty.
 */
async function openInputs(options: BatchOptions, runRoot: string): Promise<{ first: DiscoveredInput | undefined; rest: AsyncIterator<DiscoveredInput> }> {
  const rest = discoverInputs(options.inputs, runRoot)[Symbol.asyncIterator]();
  const first = await rest.next();
  if (first.done === true && !options.config.allowEmpty) throw buildNoInputError(options.inputs);
  return { first: first.done === true ? undefined : first.value, rest };
}

function buildNoInputError(inputs: string[]): IgxError {
  const searched = inputs.map((i) => `'${i}'`).join(', ');
  return new IgxError('E_NO_INPUT', `no images found in ${searched} (folders are searched recursively for ${[...IMAGE_EXTENSIONS].join(' ')} files); --allow-empty accepts an empty run`);
}

/**
 * E_NO_INPUT now, unless the inputs name something or `allowEmpty`: the check runBatch makes, for a
 * caller that would otherwise load a model first (the walk stops at the first input it finds).
 */
export async function checkHasInput(inputs: string[], allowEmpty: boolean): Promise<void> {
  if (allowEmpty) return;
  const walk = discoverInputs(inputs, await computeRunRoot(inputs), { sniffs: false });
  const first = await walk.next();
  await walk.return(undefined);
  if (first.done === true) throw buildNoInputError(inputs);
}

async function* chain<T>(first: T | undefined, rest: AsyncIterator<T>): AsyncGenerator<T> {
  if (first !== undefined) yield first;
  for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value;
}

async function addRow(ctx: RunContext, row: ManifestRow, result?: ExplainResult): Promise<void> {
  await ctx.writer.add(row);
  ctx.emit(result ? { type: 'row', row, result } : { type: 'row', row });
}

/** One image: resumed, explained, or a failed row; errors that are not the image's end the run. */
async function explainOne(ctx: RunContext, input: Extract<DiscoveredInput, { kind: 'image' }>, stem: string): Promise<void> {
  const { config, resume, signal } = ctx.options;
  const reportRel = `${stem}${REPORT_SUFFIX}`;
  const base = { path: input.path, relPath: input.relPath };
  let sha256: string | null = null;
  try {
    sha256 = await computeFileSha256(input.path);
  } catch {
    // readImage reports the unreadable file with its code below.
  }
  if (resume && sha256 && (await isAlreadyDone(join(config.out, reportRel), { sha256, configHash: ctx.explainer.configHash }))) {
    return addRow(ctx, { ...base, sha256, status: 'skipped', report: reportRel, reason: 'resumed', error: null });
  }
  ctx.emit({ type: 'image-start', path: input.path });
  try {
    const result = await ctx.explainer.explainImage(input.path, {
      outputStem: stem,
      onProgress: (progress) => {
        // Abandon the image at the next batch boundary: nothing of it has been written yet.
        if (signal?.aborted) throw new AbortedError();
        ctx.emit({ type: 'progress', path: input.path, progress });
      },
    });
    await addRow(ctx, { ...base, sha256: result.report.image.sha256, status: 'ok', report: reportRel, reason: null, error: null }, result);
  } catch (err) {
    if (err instanceof AbortedError || signal?.aborted) return;
    // Per-image failures (exit 1 kinds) become rows and the run goes on; bad flags or a broken model
    // end the run. An unexpected error becomes the image's row too (E_INTERNAL), then ends the run
    // (exit 2): it comes from the model or igx, and would most likely repeat on every image.
    const e = toIgxError(err);
    if (e.exitCode !== 1 && e.code !== 'E_INTERNAL') throw e;
    await addRow(ctx, { ...base, sha256, status: 'failed', report: null, reason: null, error: { code: e.code, message: e.message } });
    if (e.code === 'E_INTERNAL') throw e;
  }
}

/** A discovered input that is no image: its skipped or failed row. */
function rowForNonImage(input: Exclude<DiscoveredInput, { kind: 'image' }>): ManifestRow {
  const base = { path: input.path, relPath: input.relPath, sha256: null };
  return input.kind === 'skipped'
    ? { ...base, status: 'skipped', report: null, reason: input.reason, error: null }
    : { ...base, status: 'failed', report: null, reason: null, error: { code: input.code, message: input.message } };
}

export async function runBatch(explainer: ImageExplainer, options: BatchOptions): Promise<BatchSummary> {
  const emit = options.onEvent ?? (() => undefined);
  const runRoot = await computeRunRoot(options.inputs);
  const inputs = await openInputs(options, runRoot);
  const { manifestPath, manifest, writer, lock } = await startManifest(explainer, { ...options, runRoot });
  try {
    return await runLocked({ explainer, options, writer, emit }, { manifestPath, manifest, runRoot, inputs });
  } finally {
    await lock.release();
  }
}

interface LockedRun {
  manifestPath: string;
  manifest: Manifest;
  runRoot: string;
  inputs: { first: DiscoveredInput | undefined; rest: AsyncIterator<DiscoveredInput> };
}

/** The run itself, while this process holds the --out folder's lock. */
async function runLocked(ctx: RunContext, run: LockedRun): Promise<BatchSummary> {
  const { explainer, options, writer, emit } = ctx;
  const { shard, signal } = options;
  const { manifestPath, manifest, runRoot } = run;
  const { first, rest } = run.inputs;
  // Holding the lock, this run owns the folder: what a killed run was writing is garbage now.
  await removeStrayTempFiles(options.config.out);
  emit({ type: 'start', manifestPath, runRoot });
  // The total, for progress only: a failed count (a folder removed meanwhile) shows none.
  void countInputs(options.inputs, runRoot, (relPath) => isInShard(relPath, shard)).then(
    (count) => emit({ type: 'total', count }),
    () => undefined,
  );
  await writer.flush();

  // Two inputs with one stem (a/cat.jpg, a/cat.png) keep their extensions: outputs never collide.
  const stems = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let discovered = 0;
  // The first error that ends the run (a broken model, not a broken image).
  let fatal: { err: unknown } | undefined;
  try {
    for await (const input of chain(first, rest)) {
      if (signal?.aborted) break;
      if (!isInShard(input.relPath, shard)) {
        if (input.kind === 'image') stems.add(stripExtension(input.relPath));
        continue;
      }
      discovered += 1;
      emit({ type: 'discovered', count: discovered });
      if (input.kind !== 'image') {
        await addRow(ctx, rowForNonImage(input));
        continue;
      }
      let stem = stripExtension(input.relPath);
      if (stems.has(stem)) stem = input.relPath;
      stems.add(stem);
      const task: Promise<void> = explainOne(ctx, input, stem)
        .catch((err: unknown) => {
          fatal ??= { err };
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= Math.max(1, explainer.concurrency)) await Promise.race(inFlight);
      if (fatal) break;
    }
    await Promise.all(inFlight);
  } catch (err) {
    fatal ??= { err };
  }
  if (fatal) {
    await Promise.all(inFlight);
    await writer.finish('interrupted');
    throw fatal.err;
  }
  const isInterrupted = Boolean(signal?.aborted);
  await writer.finish(isInterrupted ? 'interrupted' : 'finished');
  return { manifestPath, manifest, isInterrupted };
}
