/**
 * npm run bench: igx's speed and memory per backend and worker count, and PyTorch's for comparison.
 * Not a test: it prints a table and writes bench/results.json. Each case runs in a child process of
 * its own, so that its peak RSS is its own; the children run the built library (dist/), as users do.
 *
 *   node --import tsx bench/bench.ts [--quick] [--only perstep,whole,longrun,torch,inception] [--workers 1,2]
 *                                    [--backends wasm,cpu] [--long-run-images 500] [--long-run-steps 16]
 *                                    [--wait-quiet] [--inception-cpu] [--onnx-models resnet18,resnet50,vit_b_16]
 *
 * `inception` is nsfwjs's InceptionV3 at 299×299 (fixtures/models/nsfwjs_inception_v3) per step, next to
 * PyTorch's torchvision inception_v3 (bench/torch_inception_reference.py); `--only inception` runs it alone.
 * Its cpu-backend row runs only with --inception-cpu: one point did not finish in 13 minutes on 2 cores.
 * `onnx` is torchvision's ResNet18, ResNet50 and ViT-B/16 exported to ONNX (fixtures/onnx/<name>/model.onnx,
 * written by scripts/make-onnx-fixtures.py, not committed) on igx-wasm, next to PyTorch on the same weights
 * (bench/torch_onnx_reference.py); `--only onnx` runs it alone. The cpu backend is not run on them.
 *
 * The machine should be otherwise idle: the load average is recorded with every case, and numbers taken
 * under load are not comparable.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

type Lib = typeof import('../src/index.js') &
  typeof import('../src/explain/pool/explain-pool.js') &
  typeof import('../src/attribution/integrated-gradients.js');

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_PATH = join(ROOT, 'bench', 'results.json');
const TORCH_SCRIPT = join(ROOT, '..', 'shared', 'bench', 'torch_ig_reference.py');
const TORCH_INCEPTION_SCRIPT = join(ROOT, 'bench', 'torch_inception_reference.py');
const PYTHON = '/usr/bin/python3';

const MODELS = {
  mobilenet_v2: { dir: join(ROOT, 'fixtures', 'models', 'mobilenet_v2_mid_5class'), image: 'pizza.jpg', flags: { preprocess: '[0,1]' } },
  default: { dir: undefined, image: 'cat.jpg', flags: {} },
  // Its igx.json gives the preprocessing (x/255).
  inception_v3: { dir: join(ROOT, 'fixtures', 'models', 'nsfwjs_inception_v3'), image: 'doberman.png', flags: {} },
  // ONNX exports of torchvision models (scripts/make-onnx-fixtures.py; too large to commit).
  resnet18: { dir: join(ROOT, 'fixtures', 'onnx', 'resnet18'), image: 'cat.jpg', flags: { preprocess: 'imagenet' } },
  resnet50: { dir: join(ROOT, 'fixtures', 'onnx', 'resnet50'), image: 'cat.jpg', flags: { preprocess: 'imagenet' } },
  vit_b_16: { dir: join(ROOT, 'fixtures', 'onnx', 'vit_b_16'), image: 'cat.jpg', flags: { preprocess: 'imagenet' } },
} as const;
/** The `onnx` part's models, each against PyTorch on the same weights (bench/torch_onnx_reference.py). */
const ONNX_MODELS = ['resnet18', 'resnet50', 'vit_b_16'] as const;
const TORCH_ONNX_SCRIPT = join(ROOT, 'bench', 'torch_onnx_reference.py');
type ModelKey = keyof typeof MODELS;
/** The per-step and whole-image tables' models; InceptionV3 has its own part (`inception`). */
const TABLE_MODELS: readonly ModelKey[] = ['mobilenet_v2', 'default'];
const PHOTOS = ['black_swan.jpg', 'cat.jpg', 'coffee_mug.jpg', 'dog.jpg', 'elephant.jpg', 'mountain.jpg', 'pizza.jpg', 'tabby_cat_224.jpg', 'doberman.png'];

type Case =
  | { kind: 'perstep'; backend: string; model: ModelKey; workers: number; seconds: number; batchSize?: number; warmupRounds: number; minRounds: number }
  | { kind: 'whole'; backend: string; model: ModelKey; workers: number; mode: 'steps50' | 'adaptive'; warmup: boolean }
  | { kind: 'longrun'; backend: string; workers: number; images: number; steps: number };

/** The built library: `npm run bench` builds first, so the numbers are those of dist/, what the CLI runs. */
async function loadLib(): Promise<Lib> {
  const dist = (p: string): string => new URL(`../dist/src/${p}`, import.meta.url).href;
  if (!existsSync(fileURLToPath(dist('index.js')))) throw new Error('dist/ is missing: run `npm run build` (npm run bench does)');
  const [index, pool, ig] = await Promise.all([import(dist('index.js')), import(dist('explain/pool/explain-pool.js')), import(dist('attribution/integrated-gradients.js'))]);
  return { ...index, ...pool, ...ig } as Lib;
}

const peakRssBytes = (): number => process.resourceUsage().maxRSS * 1024;

/** Busy and total jiffies of the whole machine (Linux /proc/stat), to tell how much other processes ran. */
function readMachineCpu(): { busy: number; total: number } | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}
const fixture = (...p: string[]): string => join(ROOT, 'fixtures', ...p);

function flagsFor(model: ModelKey, backend: string, out: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const m = MODELS[model];
  return { backend, out, ...(m.dir ? { model: m.dir } : {}), ...m.flags, ...extra };
}

/** Forward + input gradient per point, the same measure as PyTorch's script: batches of the session's size. */
async function runPerStep(lib: Lib, c: Extract<Case, { kind: 'perstep' }>): Promise<Record<string, unknown>> {
  const out = mkdtempSync(join(tmpdir(), 'igx-bench-'));
  const opened = performance.now();
  const extra = c.batchSize === undefined ? {} : { batchSize: String(c.batchSize) };
  const pool = await lib.openExplainPool(lib.parseExplainFlags(flagsFor(c.model, c.backend, out, extra)), { workers: c.workers });
  const openMs = performance.now() - opened;
  try {
    const s = pool.session;
    const [h, w, ch] = s.model.inputShape;
    const shape: [number, number, number, number] = [1, h, w, ch];
    let seed = 1;
    const input = Float32Array.from({ length: h * w * ch }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647));
    const baseline = new Float32Array(h * w * ch);
    const target = { kind: 'index', index: 0 } as const;
    const B = s.batchSize;
    const batch = { baselineIndex: 0, alphas: Array.from({ length: B }, (_, k) => (k + 0.5) / B), weights: Array.from({ length: B }, () => 1 / B) };
    let runBatch: () => Promise<void>;
    let close = (): void => undefined;
    if (s.gradientRunner) {
      const job = s.gradientRunner.openImage({ shape, input, baselines: [baseline], target });
      runBatch = async () => (await job.weightedGradientSum(batch)).dispose();
      close = () => job.close();
    } else {
      const x = tf.tensor4d(input, shape);
      const b = tf.tensor4d(baseline, shape);
      const gradOfSum = lib.buildGradientOfSum(s.forward.forward, target);
      runBatch = async () => {
        const sum = lib.computeWeightedGradientSum(gradOfSum, { input: x, baseline: b }, { alphas: batch.alphas, weights: batch.weights });
        await sum.data();
        sum.dispose();
      };
      close = () => tf.dispose([x, b]);
    }
    const n = pool.info.workers;
    const round = async (): Promise<void> => {
      await Promise.all(Array.from({ length: n }, runBatch));
    };
    // Warm-up: XNNPACK's operators, the heap's growth, the flipped-filter cache.
    for (let i = 0; i < c.warmupRounds; i += 1) await round();
    const rounds: number[] = [];
    const cpuBefore = process.cpuUsage();
    const machineBefore = readMachineCpu();
    const started = performance.now();
    while (performance.now() - started < c.seconds * 1000 || rounds.length < c.minRounds) {
      const t0 = performance.now();
      await round();
      rounds.push((performance.now() - t0) / (n * B));
    }
    const cpu = process.cpuUsage(cpuBefore);
    // Cores busy on average (all threads of this process): ≈ workers when nothing else competes.
    const coresBusy = (cpu.user + cpu.system) / 1000 / (performance.now() - started);
    const machineAfter = readMachineCpu();
    // Cores the rest of the machine kept busy meanwhile: > 0.2 means these numbers are disturbed.
    const otherCoresBusy =
      machineBefore && machineAfter
        ? Math.max(0, ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * availableParallelism() - coresBusy)
        : undefined;
    close();
    rounds.sort((a, b) => a - b);
    return {
      msPerImageStep: rounds[Math.floor(rounds.length / 2)],
      msPerImageStepMin: rounds[0],
      rounds: rounds.length,
      coresBusy,
      otherCoresBusy,
      batchSize: B,
      workers: n,
      openMs,
      bytesPerPoint: s.memory.bytesPerPoint,
    };
  } finally {
    await pool.close();
    rmSync(out, { recursive: true, force: true });
  }
}

/** One whole image through pool.explainImage, after a warm-up image: what a user waits per image. */
async function runWhole(lib: Lib, c: Extract<Case, { kind: 'whole' }>): Promise<Record<string, unknown>> {
  const out = mkdtempSync(join(tmpdir(), 'igx-bench-'));
  const extra = c.mode === 'steps50' ? { steps: '50', method: 'gausslegendre' } : { tolerance: '0.01' };
  const opened = performance.now();
  const pool = await lib.openExplainPool(lib.parseExplainFlags(flagsFor(c.model, c.backend, out, extra)), { workers: c.workers });
  const openMs = performance.now() - opened;
  try {
    if (c.warmup) await pool.explainImage(fixture('images', 'dog.jpg'));
    const t0 = performance.now();
    const { report } = await pool.explainImage(fixture('images', MODELS[c.model].image));
    return {
      wallMs: performance.now() - t0,
      attributionMs: report.timingsMs.attributionMs,
      totalMs: report.timingsMs.totalMs,
      steps: report.steps,
      relativeError: report.completeness.relativeError,
      isConverged: report.adaptive?.isConverged ?? null,
      batchSize: report.batchSize,
      workers: pool.info.workers,
      openMs,
    };
  } finally {
    await pool.close();
    rmSync(out, { recursive: true, force: true });
  }
}

/** Many images through the pool, `workers` in flight: RSS after the first 50 against the end. */
async function runLongRun(lib: Lib, c: Extract<Case, { kind: 'longrun' }>): Promise<Record<string, unknown>> {
  const out = mkdtempSync(join(tmpdir(), 'igx-bench-'));
  const pool = await lib.openExplainPool(lib.parseExplainFlags(flagsFor('default', c.backend, out, { steps: String(c.steps) })), { workers: c.workers });
  try {
    const t0 = performance.now();
    let next = 0;
    let done = 0;
    let peakAt50 = 0;
    const samples: number[] = [];
    const worker = async (): Promise<void> => {
      while (next < c.images) {
        const i = next++;
        await pool.explainImage(fixture('images', PHOTOS[i % PHOTOS.length] as string), { outputStem: `img${i}` });
        done += 1;
        if (done === 50) peakAt50 = peakRssBytes();
        if (done % 50 === 0) samples.push(process.memoryUsage().rss);
      }
    };
    await Promise.all(Array.from({ length: pool.concurrency }, worker));
    const peakEnd = peakRssBytes();
    return {
      images: c.images,
      steps: c.steps,
      workers: pool.info.workers,
      msPerImage: (performance.now() - t0) / c.images,
      peakRssAfter50: peakAt50,
      peakRssEnd: peakEnd,
      growth: peakAt50 > 0 ? (peakEnd - peakAt50) / peakAt50 : null,
      rssEvery50: samples,
    };
  } finally {
    await pool.close();
    rmSync(out, { recursive: true, force: true });
  }
}

async function runCase(c: Case): Promise<void> {
  const lib = await loadLib();
  const result = c.kind === 'perstep' ? await runPerStep(lib, c) : c.kind === 'whole' ? await runWhole(lib, c) : await runLongRun(lib, c);
  process.stdout.write(`\n@@result ${JSON.stringify({ ...result, peakRssBytes: peakRssBytes() })}\n`);
}

// ------------------------------------------------------------------------------------------------
// The parent: plans the cases, runs each in a child, prints and saves.

interface Args {
  quick: boolean;
  only: Set<string>;
  workers: number[];
  backends: string[] | undefined;
  longRunImages: number;
  longRunSteps: number;
  onnxModels: OnnxModel[];
}
type OnnxModel = (typeof ONNX_MODELS)[number];

function parseArgs(argv: string[]): Args {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const cores = availableParallelism();
  return {
    quick: argv.includes('--quick'),
    only: new Set((value('--only') ?? 'perstep,whole,longrun,torch,inception,onnx').split(',')),
    workers: value('--workers')?.split(',').map(Number) ?? Array.from({ length: cores }, (_, i) => i + 1),
    backends: value('--backends')?.split(','),
    longRunImages: Number(value('--long-run-images') ?? 500),
    longRunSteps: Number(value('--long-run-steps') ?? 16),
    onnxModels: (value('--onnx-models')?.split(',') ?? [...ONNX_MODELS]).filter((m): m is OnnxModel => (ONNX_MODELS as readonly string[]).includes(m)),
  };
}

/**
 * --wait-quiet: before each case, wait (up to 3 minutes) for a second in which the machine is under
 * 0.2 cores busy, so that other users' jobs do not end up in the numbers.
 */
let waitQuiet = false;
function awaitQuiet(): number {
  if (!waitQuiet) return 0;
  const started = Date.now();
  while (Date.now() - started < 180_000) {
    const a = readMachineCpu();
    spawnSync('sleep', ['1']);
    const b = readMachineCpu();
    if (!a || !b) return 0;
    if (((b.busy - a.busy) / Math.max(1, b.total - a.total)) * availableParallelism() < 0.2) break;
  }
  return Date.now() - started;
}

function runChild(c: Case): Record<string, unknown> {
  const waitedMs = awaitQuiet();
  const loadBefore = loadavg()[0];
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--case', JSON.stringify(c)], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('@@result '));
  const load = { loadBefore: round2(loadBefore), loadAfter: round2(loadavg()[0]), waitedMs };
  if (r.status !== 0 || line === undefined) {
    return { ...c, ...load, error: (r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ') };
  }
  return { ...c, ...load, ...(JSON.parse(line.slice('@@result '.length)) as Record<string, unknown>) };
}

const round2 = (x: number | undefined): number | undefined => (x === undefined ? undefined : Math.round(x * 100) / 100);

interface TorchRun {
  script: string;
  /** Arguments before batch and reps (the architecture, for the ONNX peer). */
  args?: string[];
  threads: number;
  batch: number;
  reps: number;
}

/** PyTorch's reference on the same machine, when /usr/bin/python3 has torch and the script is there. */
function runTorch(run: TorchRun): Record<string, unknown> {
  const { script, threads } = run;
  if (!existsSync(script)) return { threads, skipped: `${script} not found (a fresh clone without ../shared)` };
  const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return { threads, skipped: `${PYTHON} has no torch/torchvision (apt-get install -y python3-torch python3-torchvision)` };
  }
  const waitedMs = awaitQuiet();
  const loadBefore = loadavg()[0];
  const r = spawnSync(PYTHON, [script, ...(run.args ?? []), String(run.batch), String(run.reps)], { encoding: 'utf8', env: { ...process.env, THREADS: String(threads) } });
  const m = /threads (\d+) batch (\d+): ([\d.]+) ms per image-step/.exec(r.stdout);
  if (!m) return { threads, error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ') || `exited with ${r.signal ?? r.status} and printed nothing` };
  return { threads: Number(m[1]), batch: Number(m[2]), msPerImageStep: Number(m[3]), line: r.stdout.trim(), loadBefore: round2(loadBefore), loadAfter: round2(loadavg()[0]), waitedMs };
}

async function availableBackends(requested: string[] | undefined): Promise<{ run: string[]; skipped: Record<string, string> }> {
  const skipped: Record<string, string> = {};
  const run: string[] = [];
  for (const b of requested ?? ['tensorflow', 'wasm', 'cpu']) {
    if (b === 'tensorflow') {
      try {
        const specifier: string = '@tensorflow/tfjs-node';
        await import(specifier);
        run.push(b);
      } catch {
        skipped[b] = '@tensorflow/tfjs-node is not installed';
      }
    } else {
      run.push(b);
    }
  }
  return { run, skipped };
}

const fmt = (x: unknown, digits = 1): string => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–');
const mb = (x: unknown): string => (typeof x === 'number' ? `${Math.round(x / 1024 ** 2)} MiB` : '–');

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  waitQuiet = process.argv.includes('--wait-quiet');
  const { run: backends, skipped } = await availableBackends(args.backends);
  const machine = {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  log(`igx bench: ${machine.cpu}, ${machine.cores} cores, ${mb(machine.memoryBytes)}, node ${machine.node}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const [b, why] of Object.entries(skipped)) log(`backend ${b}: skipped (${why})`);
  const results: { machine: typeof machine; skipped: Record<string, string>; perStep: Record<string, unknown>[]; whole: Record<string, unknown>[]; longRun: Record<string, unknown>[]; torch: Record<string, unknown>[]; inception: PeerResults; onnx: Record<string, PeerResults> } = {
    machine,
    skipped,
    perStep: [],
    whole: [],
    longRun: [],
    torch: [],
    inception: { perStep: [], torch: [] },
    onnx: {},
  };
  const seconds = args.quick ? 3 : 10;

  if (args.only.has('torch')) {
    for (const threads of [1, machine.cores]) {
      const r = runTorch({ script: TORCH_SCRIPT, threads, batch: 16, reps: args.quick ? 3 : 5 });
      results.torch.push(r);
      log(r.skipped ? `pytorch: skipped (${String(r.skipped)})` : r.error ? `pytorch ${threads} threads: error ${String(r.error)}` : `pytorch ${threads} thread(s), batch ${String(r.batch)}: ${fmt(r.msPerImageStep)} ms per image-step (load ${String(r.loadBefore)})`);
    }
  }
  if (args.only.has('perstep')) {
    for (const backend of backends) {
      for (const model of TABLE_MODELS) {
        // The pure-JS cpu backend takes seconds per point (~40 s on MobileNetV2): one small batch per worker, once.
        const isCpu = backend === 'cpu';
        const slow = isCpu ? { batchSize: model === 'mobilenet_v2' ? 1 : 2, warmupRounds: 0, minRounds: 1 } : { warmupRounds: 2, minRounds: 3 };
        for (const workers of args.workers) {
          const r = runChild({ kind: 'perstep', backend, model, workers, seconds: isCpu ? 0 : seconds, ...slow });
          results.perStep.push(r);
          log(r.error ? `per-step ${backend} ${model} ×${workers}: error ${String(r.error)}` : `per-step ${backend} ${model} ×${String(r.workers)} (batch ${String(r.batchSize)}): ${fmt(r.msPerImageStep)} ms per image-step, ${fmt(r.coresBusy, 2)} cores busy (others ${fmt(r.otherCoresBusy, 2)}), peak RSS ${mb(r.peakRssBytes)} (load ${String(r.loadBefore)} → ${String(r.loadAfter)})`);
        }
      }
    }
  }
  if (args.only.has('whole')) {
    for (const backend of backends) {
      for (const model of TABLE_MODELS) {
        const perStep = results.perStep.find((r) => r.backend === backend && r.model === model && r.workers === 1)?.msPerImageStep;
        // Skip what would take minutes per image (the cpu backend: seconds per step).
        if (typeof perStep === 'number' && perStep * 50 > 120_000) {
          results.whole.push({ kind: 'whole', backend, model, skipped: `~${Math.round((perStep * 50) / 1000)} s per 50-step image at ${fmt(perStep, 0)} ms per step` });
          log(`whole ${backend} ${model}: skipped (${fmt(perStep, 0)} ms per step)`);
          continue;
        }
        for (const mode of ['steps50', 'adaptive'] as const) {
          for (const workers of args.workers) {
            // wasm's first image on fresh workers pays XNNPACK's operator setup: warm up as a long run would.
            const r = runChild({ kind: 'whole', backend, model, workers, mode, warmup: backend !== 'cpu' });
            results.whole.push(r);
            log(r.error ? `whole ${backend} ${model} ${mode} ×${workers}: error ${String(r.error)}` : `whole ${backend} ${model} ${mode} ×${String(r.workers)}: attribution ${fmt(Number(r.attributionMs) / 1000, 2)} s, total ${fmt(Number(r.totalMs) / 1000, 2)} s, ${String(r.steps)} steps, completeness ${fmt(r.relativeError, 4)}, peak RSS ${mb(r.peakRssBytes)} (load ${String(r.loadBefore)} → ${String(r.loadAfter)})`);
          }
        }
      }
    }
  }
  if (args.only.has('longrun') && backends.includes('wasm')) {
    const workers = Math.max(...args.workers);
    const r = runChild({ kind: 'longrun', backend: 'wasm', workers, images: args.quick ? 100 : args.longRunImages, steps: args.longRunSteps });
    results.longRun.push(r);
    log(r.error ? `long run: error ${String(r.error)}` : `long run wasm ×${String(r.workers)}: ${String(r.images)} images at --steps ${String(r.steps)}, ${fmt(r.msPerImage, 0)} ms per image; peak RSS after 50 ${mb(r.peakRssAfter50)}, at the end ${mb(r.peakRssEnd)} (${fmt(Number(r.growth) * 100, 1)}%) (load ${String(r.loadBefore)} → ${String(r.loadAfter)})`);
  }

  if (args.only.has('inception')) results.inception = runInceptionPart({ backends, workers: args.workers, cores: machine.cores, quick: args.quick, withCpu: process.argv.includes('--inception-cpu'), log });

  if (args.only.has('onnx')) {
    for (const model of args.onnxModels) results.onnx[model] = runOnnxPart({ model, backends, workers: args.workers, cores: machine.cores, quick: args.quick, log });
  }

  writeFileSync(RESULTS_PATH, `${JSON.stringify(results, null, 2)}\n`);
  log('');
  // `--only inception` or `--only onnx` has nothing for the MobileNetV2 tables.
  if ([...args.only].some((part) => part !== 'inception' && part !== 'onnx')) log(renderMarkdown(results));
  if (args.only.has('inception')) log(`\n${renderPeerMarkdown({ ...results.inception, cores: machine.cores, title: 'InceptionV3 299×299' })}`);
  for (const [model, r] of Object.entries(results.onnx)) log(`\n${renderPeerMarkdown({ ...r, cores: machine.cores, title: `${model} (ONNX) 224×224` })}`);
  log(`\nwrote ${RESULTS_PATH}`);
}

interface PeerResults {
  perStep: Record<string, unknown>[];
  torch: Record<string, unknown>[];
}

const describePerStep = (r: Record<string, unknown>): string =>
  `${fmt(r.msPerImageStep)} ms per image-step (batch ${String(r.batchSize)}, ${String(r.rounds)} rounds), ${fmt(r.coresBusy, 2)} cores busy (others ${fmt(r.otherCoresBusy, 2)}), peak RSS ${mb(r.peakRssBytes)} (load ${String(r.loadBefore)} → ${String(r.loadAfter)})`;

/** A PyTorch peer at 1 thread and at every core, each run logged. */
function runTorchPeer(p: { name: string; run: Omit<TorchRun, 'threads'>; cores: number; log: (line: string) => void }): Record<string, unknown>[] {
  return [1, p.cores].map((threads) => {
    const r = runTorch({ ...p.run, threads });
    p.log(
      r.skipped
        ? `pytorch ${p.name}: skipped (${String(r.skipped)})`
        : r.error
          ? `pytorch ${p.name} ${threads} threads: error ${String(r.error)}`
          : `pytorch ${p.name} ${String(r.threads)} thread(s), batch ${String(r.batch)}: ${fmt(r.msPerImageStep)} ms per image-step (load ${String(r.loadBefore)})`,
    );
    return r;
  });
}

/**
 * InceptionV3 at 299×299 per image-step: igx per backend × workers, PyTorch per thread count. The cpu
 * backend takes many minutes per point: only with `withCpu`, then one worker, one point, once.
 */
function runInceptionPart(options: { backends: string[]; workers: number[]; cores: number; quick: boolean; withCpu: boolean; log: (line: string) => void }): PeerResults {
  const { log } = options;
  const results: PeerResults = { perStep: [], torch: [] };
  // Batch 4: PyTorch takes seconds per InceptionV3 image-step on one thread.
  results.torch = runTorchPeer({ name: 'inception_v3', run: { script: TORCH_INCEPTION_SCRIPT, batch: 4, reps: options.quick ? 2 : 3 }, cores: options.cores, log });
  for (const backend of options.backends) {
    const isCpu = backend === 'cpu';
    if (isCpu && !options.withCpu) {
      log('per-step cpu inception_v3: skipped (one point took over 13 minutes on 2 cores; --inception-cpu runs it)');
      continue;
    }
    const plan = isCpu ? { workers: [1], seconds: 0, batchSize: 1, warmupRounds: 0, minRounds: 1 } : { workers: options.workers, seconds: options.quick ? 3 : 10, warmupRounds: 1, minRounds: 3 };
    for (const workers of plan.workers) {
      const r = runChild({ kind: 'perstep', backend, model: 'inception_v3', workers, seconds: plan.seconds, warmupRounds: plan.warmupRounds, minRounds: plan.minRounds, ...(isCpu ? { batchSize: plan.batchSize } : {}) });
      results.perStep.push(r);
      log(r.error ? `per-step ${backend} inception_v3 ×${workers}: error ${String(r.error)}` : `per-step ${backend} inception_v3 ×${String(r.workers)}: ${describePerStep(r)}`);
    }
  }
  return results;
}

/**
 * One ONNX export per image-step on igx-wasm, next to PyTorch on the same weights. A fresh clone has no
 * large exports: the rows are skipped, naming the script that writes them.
 */
function runOnnxPart(options: { model: OnnxModel; backends: string[]; workers: number[]; cores: number; quick: boolean; log: (line: string) => void }): PeerResults {
  const { model, log } = options;
  const results: PeerResults = { perStep: [], torch: [] };
  if (!existsSync(join(MODELS[model].dir, 'model.onnx'))) {
    log(`${model} (ONNX): skipped (fixtures/onnx/${model}/model.onnx is missing: /usr/bin/python3 scripts/make-onnx-fixtures.py --models ${model})`);
    return results;
  }
  results.torch = runTorchPeer({ name: model, run: { script: TORCH_ONNX_SCRIPT, args: [model], batch: 16, reps: options.quick ? 2 : 3 }, cores: options.cores, log });
  if (!options.backends.includes('wasm')) return results;
  for (const workers of options.workers) {
    const r = runChild({ kind: 'perstep', backend: 'wasm', model, workers, seconds: options.quick ? 3 : 10, warmupRounds: 1, minRounds: 3 });
    results.perStep.push(r);
    log(r.error ? `per-step wasm ${model} ×${workers}: error ${String(r.error)}` : `per-step wasm ${model} ×${String(r.workers)}: ${describePerStep(r)}`);
  }
  return results;
}

function renderPeerMarkdown(r: PeerResults & { cores: number; title: string }): string {
  const torch = (threads: number): Record<string, unknown> | undefined => r.torch.find((x) => x.threads === threads && typeof x.msPerImageStep === 'number');
  const t1 = torch(1)?.msPerImageStep as number | undefined;
  const tN = torch(r.cores)?.msPerImageStep as number | undefined;
  const ratio = (ms: unknown, base: number | undefined): string => (typeof ms === 'number' && base ? fmt(ms / base, 2) : '–');
  const lines = [
    `| engine | workers / threads | batch | ${r.title} ms per image-step | vs PyTorch 1 thread | vs PyTorch ${r.cores} threads | peak RSS | cores busy: igx / others | load |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const t of r.torch.filter((x) => typeof x.msPerImageStep === 'number')) {
    lines.push(`| PyTorch ${String(t.line ?? '').split(' ')[1] ?? ''} | ${String(t.threads)} | ${String(t.batch)} | ${fmt(t.msPerImageStep)} | ${ratio(t.msPerImageStep, t1)} | ${ratio(t.msPerImageStep, tN)} | | | ${String(t.loadBefore ?? '')} |`);
  }
  for (const p of r.perStep.filter((x) => typeof x.msPerImageStep === 'number')) {
    lines.push(
      `| igx ${String(p.backend)} | ${String(p.workers)} | ${String(p.batchSize)} | ${fmt(p.msPerImageStep)} | ${ratio(p.msPerImageStep, t1)} | ${ratio(p.msPerImageStep, tN)} | ${mb(p.peakRssBytes)} | ${fmt(p.coresBusy, 2)} / ${fmt(p.otherCoresBusy, 2)} | ${String(p.loadBefore ?? '')} |`,
    );
  }
  return lines.join('\n');
}

/** The README's table: igx per backend × workers next to PyTorch, with ratios. */
function renderMarkdown(r: { machine: { date: string; cpu: string; cores: number }; perStep: Record<string, unknown>[]; whole: Record<string, unknown>[]; longRun: Record<string, unknown>[]; torch: Record<string, unknown>[] }): string {
  const torch = (threads: number): number | undefined => {
    const t = r.torch.find((x) => x.threads === threads && typeof x.msPerImageStep === 'number');
    return t?.msPerImageStep as number | undefined;
  };
  const t1 = torch(1);
  const tN = torch(r.machine.cores);
  const lines = [
    `Measured ${r.machine.date.slice(0, 10)} on ${r.machine.cpu} (${r.machine.cores} cores).`,
    '',
    '| engine | workers / threads | batch | MobileNetV2-1.4 ms per image-step | vs PyTorch 1 thread | vs PyTorch ' + `${r.machine.cores} threads | default model ms per image-step | peak RSS (MobileNetV2) | cores busy: igx / others (MobileNetV2) | load |`,
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  if (t1 !== undefined) lines.push(`| PyTorch ${String(r.torch.find((x) => x.threads === 1)?.line ?? '').split(' ')[1] ?? ''} | 1 | 16 | ${fmt(t1)} | 1.00 | ${tN ? fmt(t1 / tN, 2) : '–'} | | | | ${String(r.torch.find((x) => x.threads === 1)?.loadBefore ?? '')} |`);
  if (tN !== undefined) lines.push(`| PyTorch | ${r.machine.cores} | 16 | ${fmt(tN)} | ${t1 ? fmt(tN / t1, 2) : '–'} | 1.00 | | | | ${String(r.torch.find((x) => x.threads === r.machine.cores)?.loadBefore ?? '')} |`);
  const backends = [...new Set(r.perStep.map((x) => String(x.backend)))];
  for (const backend of backends) {
    const workerCounts = [...new Set(r.perStep.filter((x) => x.backend === backend).map((x) => Number(x.workers)))];
    for (const n of workerCounts) {
      const mv2 = r.perStep.find((x) => x.backend === backend && x.model === 'mobilenet_v2' && x.workers === n);
      const def = r.perStep.find((x) => x.backend === backend && x.model === 'default' && x.workers === n);
      const ms = mv2?.msPerImageStep as number | undefined;
      lines.push(
        `| igx ${backend} | ${n} | ${String(mv2?.batchSize ?? '–')} | ${fmt(ms)} | ${ms && t1 ? fmt(ms / t1, 2) : '–'} | ${ms && tN ? fmt(ms / tN, 2) : '–'} | ${fmt(def?.msPerImageStep)} | ${mb(mv2?.peakRssBytes)} | ${fmt(mv2?.coresBusy, 2)} / ${fmt(mv2?.otherCoresBusy, 2)} | ${String(mv2?.loadBefore ?? '')} |`,
      );
    }
  }
  lines.push('', '| whole image | backend | workers | method | steps | attribution s | total s | completeness error | peak RSS | load |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const w of r.whole) {
    if (w.skipped) {
      lines.push(`| ${String(w.model)} | ${String(w.backend)} | | skipped: ${String(w.skipped)} | | | | | | |`);
      continue;
    }
    lines.push(
      `| ${String(w.model)} | ${String(w.backend)} | ${String(w.workers)} | ${w.mode === 'steps50' ? 'Gauss-Legendre, --steps 50' : 'adaptive, --tolerance 0.01'} | ${String(w.steps ?? '–')} | ${fmt(Number(w.attributionMs) / 1000, 2)} | ${fmt(Number(w.totalMs) / 1000, 2)} | ${fmt(w.relativeError, 4)} | ${mb(w.peakRssBytes)} | ${String(w.loadBefore ?? '')} |`,
    );
  }
  for (const l of r.longRun) {
    if (l.error) continue;
    lines.push(
      '',
      `Long run: ${String(l.images)} images (default model, --steps ${String(l.steps)}, ${String(l.workers)} workers, ${fmt(l.msPerImage, 0)} ms per image): peak RSS after 50 images ${mb(l.peakRssAfter50)}, after all ${mb(l.peakRssEnd)} (${fmt(Number(l.growth) * 100, 1)}%).`,
    );
  }
  return lines.join('\n');
}

if (process.argv[2] === '--case') {
  await runCase(JSON.parse(process.argv[3] as string) as Case);
} else {
  await main();
}
