import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { computeIntegratedGradients, computeWeightedGradientSum, buildGradientOfSum, type WeightedGradientSumFn } from '../src/attribution/integrated-gradients.js';
import type { ForwardFn } from '../src/attribution/types.js';
import { parseByteSize, parseExplainFlags, type RawExplainFlags } from '../src/config/explain-config.js';
import { closeExplainSession, explainImage, openExplainSession, type ExplainResult } from '../src/explain/index.js';
import { selectBackend } from '../src/engine/backend.js';
import { isIgxError } from '../src/errors.js';
import { openExplainPool, type ExplainPool } from '../src/explain/pool/explain-pool.js';
import { computeBatchPlan, computeWorkerBaseBytes, computeWorkerCount, measureBytesPerPoint, WASM_HEAP_LIMIT_BYTES } from '../src/explain/pool/memory-budget.js';
import { fixture } from './support/paths.js';

// The main thread's backend, as a session would set it (tests below may run alone).
await selectBackend('wasm');

const outDir = (): string => mkdtempSync(join(tmpdir(), 'igx-pool-'));
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

async function withPool<T>(flags: RawExplainFlags, workers: number, fn: (pool: ExplainPool) => Promise<T>): Promise<T> {
  const pool = await openExplainPool(parseExplainFlags({ backend: 'wasm', out: outDir(), ...flags }), { workers });
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}

/** Everything an image's run wrote, timings aside: report text, raw .npy bytes, PNG bytes. */
function readOutputs(result: ExplainResult): { report: string; raw: Buffer | null; heatmap: Buffer; overlay: Buffer } {
  const report = JSON.parse(readFileSync(result.files.report, 'utf8'));
  assert.ok(report.timingsMs.attributionMs > 0);
  delete report.timingsMs;
  return {
    report: JSON.stringify(report),
    raw: result.files.raw ? readFileSync(result.files.raw) : null,
    heatmap: readFileSync(result.files.heatmap),
    overlay: readFileSync(result.files.overlay),
  };
}

test('1 and 2 workers write byte-identical raw attributions, reports (minus timings) and PNGs, one image or several in flight', async () => {
  // Adaptive refinement (nested points, uneven last batches), two baselines of which one random, a
  // small batch so that each image has many batches to spread over the workers.
  const flags: RawExplainFlags = { saveRaw: true, tolerance: '0.01', maxSteps: '100', batchSize: '7', baseline: ['black', 'gaussian:40'], seed: '3' };
  const images = ['cat.jpg', 'dog.jpg', 'elephant.jpg'].map((p) => fixture('images', p));
  const one = await withPool(flags, 1, async (pool) => {
    assert.equal(pool.info.workers, 1);
    assert.equal(pool.session.gradientRunner, undefined, 'one worker runs in this thread');
    const results = [];
    for (const image of images) results.push(readOutputs(await pool.explainImage(image)));
    return results;
  });
  const two = await withPool(flags, 2, async (pool) => {
    assert.equal(pool.info.workers, 2);
    assert.equal(pool.concurrency, 2);
    const before = tf.memory().numTensors;
    // The first image alone: its batches are split across both workers.
    const first = readOutputs(await pool.explainImage(images[0] as string));
    // Then the others at once, as the batch runner does.
    const rest = (await Promise.all(images.slice(1).map((i) => pool.explainImage(i)))).map(readOutputs);
    assert.equal(tf.memory().numTensors, before, 'no tensors left on the main thread');
    return [first, ...rest];
  });
  for (const [i, a] of one.entries()) {
    const b = two[i] as (typeof two)[number];
    const parsed = JSON.parse(a.report);
    assert.ok(parsed.steps > 50 || parsed.adaptive.isConverged, 'adaptive ran');
    assert.equal(b.report, a.report, `${images[i]}: report`);
    assert.ok(a.raw && b.raw && a.raw.equals(b.raw), `${images[i]}: raw attributions`);
    assert.ok(a.heatmap.equals(b.heatmap) && a.overlay.equals(b.overlay), `${images[i]}: PNGs`);
  }
  // The refinement really happened for some image, so nested rules went through the workers too.
  assert.ok(one.some((r) => JSON.parse(r.report).baselines.some((b: { steps: number }) => b.steps > 50)));
});

test('the pool gives what explainImage(session) gives, on a grayscale layers model with an uneven batch', async () => {
  const flags: RawExplainFlags = { model: fixture('models', 'emotion_64_gray'), preprocess: '[0,1]', steps: '32', batchSize: '3', saveRaw: true };
  const session = await openExplainSession(parseExplainFlags({ backend: 'wasm', out: outDir(), ...flags }));
  let direct;
  try {
    direct = readOutputs(await explainImage(session, fixture('images', 'doberman.png')));
  } finally {
    closeExplainSession(session);
  }
  const pooled = await withPool(flags, 2, async (pool) => readOutputs(await pool.explainImage(fixture('images', 'doberman.png'))));
  assert.equal(pooled.report, direct.report);
  assert.ok(pooled.raw?.equals(direct.raw as Buffer));
  const report = JSON.parse(pooled.report);
  assert.equal(report.batchSize, 3);
  assert.ok(report.completeness.relativeError <= 0.05, `completeness ${report.completeness.relativeError}`);
});

test('a pluggable batch sum: batches finishing out of order give the same bits; a failing batch leaks nothing', async () => {
  // F = 5 x0 + x1² + sin(x2), as a [batch, 1, 1, 3] image.
  const forward: ForwardFn = (x) => {
    const f = tf.reshape(x, [-1, 3]);
    const col = (i: number): tf.Tensor => tf.slice(f, [0, i], [-1, 1]);
    return tf.add(tf.add(tf.mul(col(0), 5), tf.square(col(1))), tf.sin(col(2))) as tf.Tensor2D;
  };
  const input = tf.tensor4d([1, 2, 3], [1, 1, 1, 3]);
  const baselines = [tf.tensor4d([0.5, 1, 1], [1, 1, 1, 3]), tf.tensor4d([0, 0, 0], [1, 1, 1, 3])];
  const target = { kind: 'index', index: 0 } as const;
  // Trapezoid refinement (nested points) keeps going to maxSteps: several rules of uneven batches.
  const options = { method: 'riemann-trapezoid', steps: 10, batchSize: 3, adaptive: { tolerance: 1e-7, maxSteps: 40 } } as const;
  const before = tf.memory().numTensors;
  const local = await computeIntegratedGradients({ forward, input, baselines, target }, options);
  const gradOfSum = buildGradientOfSum(forward, target);
  let calls = 0;
  // Later batches finish first: the sums must still be added in batch order.
  const shuffled: WeightedGradientSumFn = async ({ baselineIndex, alphas, weights }) => {
    const delayMs = 20 - (calls++ % 4) * 5;
    await new Promise((r) => setTimeout(r, delayMs));
    return computeWeightedGradientSum(gradOfSum, { input, baseline: baselines[baselineIndex] as tf.Tensor4D }, { alphas, weights });
  };
  const remote = await computeIntegratedGradients({ forward, input, baselines, target }, { ...options, weightedGradientSum: shuffled, batchesAhead: 3 });
  assert.deepEqual(Array.from(await remote.attributions.data()), Array.from(await local.attributions.data()));
  assert.deepEqual(remote.perBaseline, local.perBaseline);
  assert.equal(remote.gradientEvaluations, local.gradientEvaluations);
  // One call per batch of 3, as many as in-thread; F(x) and each F(x′) stay on the main thread.
  assert.equal(remote.modelCalls, local.modelCalls);
  assert.equal(calls, remote.modelCalls - 1 - baselines.length);
  assert.ok(calls > 8, `${calls} batches`);
  tf.dispose([local.attributions, remote.attributions]);
  // The third batch fails while later ones are in flight: the error comes through, their tensors are freed.
  let n = 0;
  const failing: WeightedGradientSumFn = async (batch) => {
    if (n++ === 2) throw new Error('worker lost');
    return shuffled(batch);
  };
  await assert.rejects(computeIntegratedGradients({ forward, input, baselines, target }, { ...options, weightedGradientSum: failing, batchesAhead: 3 }), /worker lost/);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([input, ...baselines]);
});

test('a failed image fails alone: the pool goes on, and closing it twice is fine', async () => {
  const bad = join(outDir(), 'not-an-image.jpg');
  writeFileSync(bad, 'this is not a JPEG');
  const pool = await openExplainPool(parseExplainFlags({ backend: 'wasm', out: outDir(), steps: '8' }), { workers: 2 });
  const before = tf.memory().numTensors;
  await assert.rejects(pool.explainImage(bad), (err: unknown) => isIgxError(err) && err.exitCode === 1);
  const [a, b] = await Promise.all([pool.explainImage(fixture('images', 'cat.jpg')), pool.explainImage(fixture('images', 'pizza.jpg'))]);
  assert.deepEqual([a.report.steps, b.report.steps], [8, 8]);
  assert.deepEqual([a.report.image.path, b.report.image.path], [fixture('images', 'cat.jpg'), fixture('images', 'pizza.jpg')]);
  assert.ok(Number.isFinite(a.report.completeness.sum) && a.report.completeness.sum !== 0);
  assert.equal(tf.memory().numTensors, before);
  await pool.close();
  await pool.close();
  await assert.rejects(pool.explainImage(fixture('images', 'cat.jpg')));
});

test('the memory budget sets the batch size from the model, and caps the workers, never the batch by the worker count', async () => {
  // The default model: ~58 MB per point, 15 points by input size.
  const roomy = await openExplainSession(parseExplainFlags({ backend: 'wasm', out: outDir(), maxMemory: '8GB' }));
  const perPoint = roomy.memory.bytesPerPoint;
  closeExplainSession(roomy);
  assert.ok(perPoint > 20 * MiB && perPoint < 200 * MiB, `bytes per point ${perPoint}`);
  assert.equal(roomy.batchSize, 15);
  assert.equal(roomy.memory.isBatchLimitedByBudget, false);
  // 512 MB leaves room for a few points only; the batch runs and still meets completeness.
  await withPool({ maxMemory: '512MB', steps: '24', saveRaw: true }, 2, async (pool) => {
    const expected = Math.floor((512 * MiB - computeWorkerBaseBytes(pool.session.memory.modelBytes)) / perPoint);
    assert.equal(pool.info.batchSize, expected);
    assert.ok(pool.info.batchSize >= 1 && pool.info.batchSize < 15);
    assert.equal(pool.session.memory.isBatchLimitedByBudget, true);
    // Two workers do not fit 512 MB at that batch: one runs, and the batch stays what one worker would use.
    assert.equal(pool.info.workers, 1);
    assert.equal(pool.info.limitedBy, 'memory');
    const { report } = await pool.explainImage(fixture('images', 'dog.jpg'));
    assert.equal(report.batchSize, expected);
    assert.ok((report.completeness.relativeError ?? 1) < 0.2);
  });
  // MobileNetV2-1.4: far more per point, so fewer points per call at the same input size.
  const mv2 = await openExplainSession(parseExplainFlags({ backend: 'wasm', out: outDir(), model: fixture('models', 'mobilenet_v2_mid_5class') }));
  try {
    assert.ok(mv2.memory.bytesPerPoint > 2 * perPoint);
    assert.ok(mv2.batchSize < 15 && mv2.batchSize >= 1, `batch ${mv2.batchSize}`);
    assert.ok(mv2.batchSize * mv2.memory.bytesPerPoint <= GiB);
  } finally {
    closeExplainSession(mv2);
  }
});

test('bytes per point bound the real peak of a batch, and the probe leaves no tensors and no profiler hooks', async () => {
  const session = await openExplainSession(parseExplainFlags({ backend: 'wasm', out: outDir(), batchSize: '4' }));
  try {
    const backend = tf.backend() as unknown as Record<string, unknown>;
    assert.equal(Object.hasOwn(backend, 'timerAvailable'), false);
    const before = tf.memory().numTensors;
    const perPoint = await measureBytesPerPoint(session.forward.forward, session.model.inputShape);
    assert.equal(perPoint, session.memory.bytesPerPoint, 'the same every time: tfjs counts bytes by shape');
    assert.equal(tf.memory().numTensors, before);
    assert.equal(Object.hasOwn(backend, 'timerAvailable'), false);
    const x = tf.randomUniform([4, ...session.model.inputShape]) as tf.Tensor4D;
    const bytes = tf.memory().numBytes;
    const g = tf.grad((t: tf.Tensor) => tf.sum(session.forward.forward(t as tf.Tensor4D)));
    const profile = await tf.profile(() => {
      tf.tidy(() => {
        g(x);
      });
    });
    x.dispose();
    assert.ok(profile.peakBytes - bytes <= 4 * perPoint, `4 points peaked at ${profile.peakBytes - bytes} > 4 × ${perPoint}`);
    assert.ok(profile.peakBytes - bytes >= 3 * perPoint, 'and not far below: the estimate is not wildly high');
  } finally {
    closeExplainSession(session);
  }
});

test('memory plan arithmetic: batch by target, budget and wasm heap; workers by budget', () => {
  const base = { modelBytes: 10 * MiB, autoBatchSize: 16, isWasm: true };
  // Roomy: the input-size default wins.
  assert.deepEqual(computeBatchPlan({ ...base, budgetBytes: 16 * GiB, bytesPerPoint: 50 * MiB })?.batchSize, 16);
  // A heavy model: the 1 GiB working-set target.
  assert.equal(computeBatchPlan({ ...base, budgetBytes: 16 * GiB, bytesPerPoint: 250 * MiB })?.batchSize, 4);
  // A tight budget.
  const tight = computeBatchPlan({ ...base, budgetBytes: computeWorkerBaseBytes(10 * MiB) + 120 * MiB, bytesPerPoint: 50 * MiB });
  assert.deepEqual([tight?.batchSize, tight?.isLimitedByBudget, tight?.isOverBudget], [2, true, false]);
  // Below one point: still 1, flagged.
  assert.deepEqual(computeBatchPlan({ ...base, budgetBytes: 64 * MiB, bytesPerPoint: 50 * MiB })?.isOverBudget, true);
  // One point larger than a wasm heap: impossible on wasm, fine elsewhere.
  assert.equal(computeBatchPlan({ ...base, budgetBytes: 64 * GiB, bytesPerPoint: WASM_HEAP_LIMIT_BYTES }), null);
  assert.equal(computeBatchPlan({ ...base, isWasm: false, budgetBytes: 64 * GiB, bytesPerPoint: WASM_HEAP_LIMIT_BYTES })?.batchSize, 1);
  assert.equal(computeWorkerCount(4, 10 * GiB, 3 * GiB), 3);
  assert.equal(computeWorkerCount(2, 1 * GiB, 3 * GiB), 1);
  assert.equal(computeWorkerCount(2, 10 * GiB, 1 * GiB), 2);
});

test('--workers and --max-memory: parsing and E_FLAG errors', () => {
  assert.equal(parseByteSize('2GB'), 2 * GiB);
  assert.equal(parseByteSize('512MB'), 512 * MiB);
  assert.equal(parseByteSize('1.5g'), 1.5 * GiB);
  assert.equal(parseByteSize('1073741824'), GiB);
  assert.equal(parseByteSize('lots'), undefined);
  const config = parseExplainFlags({ workers: '3', maxMemory: '3GiB' });
  assert.deepEqual([config.workers, config.maxMemoryBytes], [3, 3 * GiB]);
  assert.deepEqual([parseExplainFlags({}).workers, parseExplainFlags({}).maxMemoryBytes], [undefined, undefined]);
  for (const bad of [{ workers: '0' }, { workers: 'two' }, { maxMemory: '12 bananas' }, { maxMemory: '1MB' }]) {
    assert.throws(() => parseExplainFlags(bad), (err: unknown) => isIgxError(err) && err.code === 'E_FLAG' && err.exitCode === 2, JSON.stringify(bad));
  }
});

test('SmoothGrad on the pool: its noisy copies run on the workers, byte-identical to 1 worker', async () => {
  const flags: RawExplainFlags = { saveRaw: true, smooth: '4', steps: '16', batchSize: '8', seed: '5' };
  const image = fixture('images', 'dog.jpg');
  const one = await withPool(flags, 1, async (pool) => readOutputs(await pool.explainImage(image)));
  const opened: number[] = [];
  const two = await withPool(flags, 2, async (pool) => {
    const runner = pool.session.gradientRunner;
    assert.ok(runner, 'two workers run gradients off this thread');
    // Count the inputs the workers are given: each noisy copy, and not the clean image, whose
    // gradients SmoothGrad never asks for.
    pool.session.gradientRunner = { ...runner, openImage: (img) => (opened.push(img.input[0] as number), runner.openImage(img)) };
    return readOutputs(await pool.explainImage(image));
  });
  assert.equal(opened.length, 4, 'the 4 noisy copies, and nothing else, went to the workers');
  assert.equal(new Set(opened).size, 4, 'each copy with its own noise');
  assert.equal(two.report, one.report);
  assert.ok(one.raw && two.raw && one.raw.equals(two.raw), 'raw attributions');
  assert.ok(one.heatmap.equals(two.heatmap));
});

/** Runs `flags` on 1 and 2 workers; on 2, records how many points each pool call carried. */
async function compareOnPointPool(flags: RawExplainFlags, image: string): Promise<{ one: ReturnType<typeof readOutputs>; two: ReturnType<typeof readOutputs>; calls: number[] }> {
  const one = await withPool(flags, 1, async (pool) => readOutputs(await pool.explainImage(image)));
  const calls: number[] = [];
  const two = await withPool(flags, 2, async (pool) => {
    const runner = pool.session.gradientRunner;
    assert.ok(runner, 'two workers run gradients off this thread');
    pool.session.gradientRunner = {
      ...runner,
      openImage: () => assert.fail('a path that is not a straight line sends no image job'),
      openPoints: (spec) => {
        const job = runner.openPoints(spec);
        return { ...job, pointGradients: (points) => (calls.push(points.shape[0]), job.pointGradients(points)) };
      },
    };
    return readOutputs(await pool.explainImage(image));
  });
  return { one, two, calls };
}

test('Blur IG on the pool: its path images go to the workers in batches, byte-identical to 1 worker', async () => {
  const { one, two, calls } = await compareOnPointPool({ saveRaw: true, path: 'blur', steps: '10', batchSize: '4' }, fixture('images', 'dog.jpg'));
  assert.deepEqual(calls, [4, 4, 3], 'the 11 path images (σ = maxSigma … 0) in batches of 4, all on the workers');
  assert.equal(two.report, one.report);
  assert.ok(one.raw && two.raw && one.raw.equals(two.raw), 'raw attributions');
  assert.ok(one.heatmap.equals(two.heatmap));
});

test('Guided IG on the pool: two baselines walk at once on the workers, byte-identical to 1 worker', async () => {
  const flags: RawExplainFlags = { saveRaw: true, path: 'guided', steps: '6', baseline: ['black', 'white'] };
  const { one, two, calls } = await compareOnPointPool(flags, fixture('images', 'cat.jpg'));
  // Each walk: its start and the end of each of its 6 steps (trapezoid), one point per call.
  assert.deepEqual(calls, new Array<number>(14).fill(1));
  const report = JSON.parse(one.report);
  assert.equal(report.baselines.length, 2);
  assert.equal(two.report, one.report);
  assert.ok(one.raw && two.raw && one.raw.equals(two.raw), 'raw attributions');
  assert.ok(one.heatmap.equals(two.heatmap));
});

test('layer IG on the pool: the activation points go to the workers, which run the model tail; byte-identical to 1 worker', async () => {
  const flags: RawExplainFlags = { saveRaw: true, layer: 'conv_pw_13', steps: '16', batchSize: '4' };
  const image = fixture('images', 'cat.jpg');
  const one = await withPool(flags, 1, async (pool) => readOutputs(await pool.explainImage(image)));
  const opened: { space: string | undefined; shape: number[] }[] = [];
  const two = await withPool(flags, 2, async (pool) => {
    const runner = pool.session.gradientRunner;
    assert.ok(runner, 'two workers run gradients off this thread');
    pool.session.gradientRunner = { ...runner, openImage: (img) => (opened.push({ space: img.space, shape: img.shape }), runner.openImage(img)) };
    return readOutputs(await pool.explainImage(image));
  });
  // conv_pw_13 of MobileNet v1 0.25 at 224 px: 7×7×256 activations.
  assert.deepEqual(opened, [{ space: 'layer', shape: [1, 7, 7, 256] }]);
  assert.equal(JSON.parse(one.report).layer.name, 'conv_pw_13');
  assert.equal(two.report, one.report);
  assert.ok(one.raw && two.raw && one.raw.equals(two.raw), 'raw attributions');
  assert.ok(one.heatmap.equals(two.heatmap));
});
