import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel } from '@tensorflow/tfjs-layers';
import type { ForwardFn, Target } from '../src/attribution/types.js';
import { parseExplainFlags } from '../src/config/explain-config.js';
import { selectBackend } from '../src/engine/backend.js';
import { computeAuc, computeCurve, randomPatchOrder, randomPixelOrder, rankPixels, type CurveProblem } from '../src/evaluate/perturbation.js';
import { decodeNpy } from '../src/report/npy.js';
import { computePreprocessed } from '../src/image/preprocess.js';
import { readImage } from '../src/image/read-image.js';
import { computeRanks as rankWithTies } from '../src/drift/metrics.js';
import { computeCosine, computeSpearman, computeSsim, shuffleTopLayers } from '../src/evaluate/randomization.js';
import { DEFAULT_EVALUATE_OPTIONS, evaluateImage, type Evaluation } from '../src/evaluate/run-evaluate.js';
import { isIgxError } from '../src/errors.js';
import { createFileIOHandler } from '../src/model/io-handler.js';
import { closeExplainSession, explainImage, openExplainSession } from '../src/explain/index.js';
import { main } from '../src/cli/main.js';
import { fixture } from './support/paths.js';

await selectBackend('wasm');
const F0: Target = { kind: 'index', index: 0 };

test('AUC, ranks and random orders', () => {
  close(computeAuc([0, 0.5, 1], [1, 0.5, 0]), 0.5);
  close(computeAuc([0, 0.25, 0.5, 0.75, 1], [0, 0.25, 0.5, 0.75, 1]), 0.5);
  // pixel sums over 2 channels: [3, -1, 5, 0] → order 2, 0, 3, 1
  assert.deepEqual(Array.from(rankPixels([1, 2, -1, 0, 2, 3, 0, 0], [2, 2, 2])), [2, 0, 3, 1]);
  const r = randomPixelOrder(100, 9);
  assert.deepEqual(Array.from(r).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(Array.from(randomPixelOrder(100, 9)), Array.from(r));
  assert.notDeepEqual(Array.from(randomPixelOrder(100, 10)), Array.from(r));
  // Patches of 2 on a 3×5 map (edge patches smaller): the patch holding the largest sum comes first, whole.
  const map = new Array<number>(15).fill(0);
  map[13] = 5; // row 2, col 3: the patch at rows 2..2, cols 2..3, i.e. pixels 12 and 13
  map[0] = 1;
  const ranked = Array.from(rankPixels(map, [3, 5, 1], { blurSigmaPx: 0, patchSidePx: 2 }));
  assert.deepEqual(ranked.slice(0, 2), [12, 13]);
  assert.deepEqual(ranked.slice(2, 6), [0, 1, 5, 6]);
  assert.deepEqual([...ranked].sort((a, b) => a - b), Array.from({ length: 15 }, (_, i) => i));
  // Patches rank by their mean: the lone corner pixel (3) beats a full patch summing to 5 (mean 1.25).
  const edge = new Array<number>(15).fill(0);
  edge[14] = 3;
  edge[0] = 1;
  edge[6] = 4;
  assert.deepEqual(Array.from(rankPixels(edge, [3, 5, 1], { blurSigmaPx: 0, patchSidePx: 2 })).slice(0, 5), [14, 0, 1, 5, 6]);
  const patches = Array.from(randomPatchOrder(3, 5, 2, 4));
  assert.deepEqual([...patches].sort((a, b) => a - b), Array.from({ length: 15 }, (_, i) => i));
  // Each patch's pixels stay together: the first one listed is a patch's top-left corner.
  assert.ok([0, 2, 4, 10, 12, 14].includes(patches[0]!));
});

function close(a: number, b: number, tol = 1e-6): void {
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
}

test('curves on a linear F = Σ wᵢxᵢ: each point is the input with the first pixels swapped, read exactly', () => {
  const w = [4, 1, 3, 2];
  const forward: ForwardFn = (x) => tf.matMul(tf.reshape(x, [x.shape[0], -1]), tf.tensor2d(w, [4, 1]));
  const input = Float32Array.from([1, 1, 1, 1]);
  const zero = new Float32Array(4);
  const before = tf.memory().numTensors;
  const order = rankPixels(w, [2, 2, 1]); // the attribution of a linear F from 0: w ⊙ x
  assert.deepEqual(Array.from(order), [0, 2, 3, 1]);
  const problem: CurveProblem = { forward, input, shape: [2, 2, 1], target: F0 };
  const del = computeCurve(problem, { kind: 'deletion', order, reference: zero }, { points: 4, batchSize: 3 });
  assert.deepEqual(del.scores, [10, 6, 3, 1, 0]);
  const ins = computeCurve(problem, { kind: 'insertion', order, reference: zero }, { points: 4, batchSize: 2 });
  assert.deepEqual(ins.scores, [0, 4, 7, 9, 10]);
  // The attribution order is the best possible for a linear F: it beats the inverted order on both.
  const inv = Int32Array.from(order).reverse();
  assert.ok(del.auc < computeCurve(problem, { kind: 'deletion', order: inv, reference: zero }, { points: 4, batchSize: 4 }).auc);
  assert.ok(ins.auc > computeCurve(problem, { kind: 'insertion', order: inv, reference: zero }, { points: 4, batchSize: 4 }).auc);
  assert.equal(tf.memory().numTensors, before);
});

test('the evaluate command writes a file per image and prints AUCs; a bad --points is exit 2', async () => {
  const out = mkdtempSync(join(tmpdir(), 'igx-evaluate-cli-'));
  const chunks: string[] = [];
  const sink = { write: (s: string) => (chunks.push(String(s)), true) } as unknown as NodeJS.WritableStream;
  const io = { stdout: sink, stderr: sink, env: {} };
  const code = await main(['node', 'igx', 'evaluate', fixture('images', 'dog.jpg'), '-m', fixture('models', 'lenet_graph'), '--preprocess', '[0,1]', '--steps', '8', '--points', '5', '--backend', 'wasm', '--json', '-o', out], io);
  assert.equal(code, 0, chunks.join(''));
  const line = JSON.parse(chunks.find((c) => c.startsWith('{'))!);
  assert.equal(typeof line.deletionAuc, 'number');
  const saved = JSON.parse(readFileSync(join(out, 'dog.evaluate.json'), 'utf8')) as Evaluation;
  // Without -b, IG averages over the curves' references: black and the blurred image.
  assert.deepEqual(saved.attribution.baselines, ['black', 'blur:10']);
  assert.equal(saved.insertion.reference, 'blur:10');
  assert.equal(await main(['node', 'igx', 'evaluate', fixture('images', 'dog.jpg'), '--points', 'x'], io), 2);
  // The insertion start and the rank smoothing are flags; a bad value is exit 2 naming the flag.
  const base = ['node', 'igx', 'evaluate', fixture('images', 'dog.jpg'), '-m', fixture('models', 'lenet_graph'), '--preprocess', '[0,1]', '--steps', '4', '--points', '4', '--backend', 'wasm', '-o', out];
  assert.equal(await main([...base, '--insertion-start', 'baseline', '-b', 'white', '--rank-blur', '1.5'], io), 0, chunks.join(''));
  const b = JSON.parse(readFileSync(join(out, 'dog.evaluate.json'), 'utf8')) as Evaluation;
  assert.equal(b.insertion.reference, 'baseline:white');
  assert.equal(b.rankBlurSigma, 1.5);
  assert.deepEqual(b.attribution.baselines, ['white']);
  chunks.length = 0;
  assert.equal(await main([...base, '--rank-blur', '-1'], io), 2);
  assert.match(chunks.join(''), /--rank-blur: expected a number ≥ 0/);
  assert.equal(await main([...base, '--insertion-blur', 'soft'], io), 2);
});

test('evaluate --path blur / guided ranks pixels by the same map explain computes with those flags; --smooth-kind smoothgrad_sq has no completeness', async () => {
  const out = mkdtempSync(join(tmpdir(), 'igx-evaluate-path-'));
  const photo = fixture('images', 'dog.jpg');
  for (const path of ['blur', 'guided'] as const) {
    const session = await openExplainSession(parseExplainFlags({ model: fixture('models', 'lenet_graph'), preprocess: '[0,1]', backend: 'wasm', steps: '8', path, saveRaw: true, out }));
    try {
      const before = tf.memory().numTensors;
      const { report, files } = await explainImage(session, photo);
      const { evaluation: e } = await evaluateImage(session, photo, { ...DEFAULT_EVALUATE_OPTIONS, points: 6, randomOrders: 1 });
      assert.equal(e.attribution.path.kind, path);
      assert.deepEqual(e.attribution.baselines, path === 'blur' ? ['blur:50'] : ['black']);
      assert.equal(e.attribution.completenessRelativeError, report.completeness.relativeError);
      // The deletion curve of explain's own map, recomputed here, is the one evaluate drew.
      const raw = decodeNpy(readFileSync(files.raw!));
      const image = await readImage(photo, { height: 28, width: 28, channels: 1, resize: session.resize, maxPixels: 1e8 });
      const input = computePreprocessed(image.pixels, 1, session.preprocess);
      const order = rankPixels(raw.data, [28, 28, 1]);
      const problem: CurveProblem = { forward: session.forward.forward, input, shape: [28, 28, 1], target: { kind: 'index', index: e.target.index } };
      const expected = computeCurve(problem, { kind: 'deletion', order, reference: new Float32Array(input.length) }, { points: 6, batchSize: 4 });
      assert.deepEqual(e.deletion.attribution.scores, expected.scores);
      assert.equal(tf.memory().numTensors, before);
    } finally {
      closeExplainSession(session);
    }
  }
  const chunks: string[] = [];
  const sink = { write: (s: string) => (chunks.push(String(s)), true) } as unknown as NodeJS.WritableStream;
  const args = ['node', 'igx', 'evaluate', photo, '-m', fixture('models', 'lenet_graph'), '--preprocess', '[0,1]', '--steps', '4', '--points', '4', '--backend', 'wasm', '-o', out];
  assert.equal(await main([...args, '--smooth', '3', '--noise', '0.1', '--smooth-kind', 'smoothgrad_sq'], { stdout: sink, stderr: sink, env: {} }), 0, chunks.join(''));
  const sq = JSON.parse(readFileSync(join(out, 'dog.evaluate.json'), 'utf8')) as Evaluation;
  assert.deepEqual(sq.attribution.smoothing, { samples: 3, sigma: 0.1, kind: 'smoothgrad_sq' });
  assert.equal(sq.attribution.completenessRelativeError, null);
  // Flags explain refuses, evaluate refuses alike: one line, exit 2.
  chunks.length = 0;
  assert.equal(await main([...args, '--path', 'blur', '--smooth', '2'], { stdout: sink, stderr: sink, env: {} }), 2);
  assert.match(chunks.join(''), /--smooth: smoothing applies to the straight path only/);
});

test('Spearman with ties, cosine and SSIM: exact on known maps', () => {
  assert.deepEqual(Array.from(rankWithTies([10, 20, 20, 5])), [2, 3.5, 3.5, 1]);
  assert.equal(computeSpearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(computeSpearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // ranks [1,2,3] vs [1,3,2]: ρ = 1 − 6·2/(3·8) = 0.5
  close(computeSpearman([1, 2, 3], [1, 3, 2]), 0.5, 1e-12);
  close(computeCosine([1, 0], [0, 1]), 0);
  close(computeCosine([3, 4], [6, 8]), 1, 1e-12);
  const map = Float64Array.from({ length: 64 }, (_, i) => (i * 37) % 11);
  close(computeSsim(map, map, 8, 8), 1, 1e-9);
  // SSIM compares maps scaled by their maxima: a multiple of a map is the same map.
  close(computeSsim(map, map.map((v) => 3 * v), 8, 8), 1, 1e-9);
  assert.ok(computeSsim(map, Float64Array.from(map).reverse(), 8, 8) < 0.5);
});

test('shuffleTopLayers: seeded shuffles of the top weighted layers keep each tensor\'s values; too many layers is E_FLAG', async () => {
  const model = await loadLayersModel(createFileIOHandler(fixture('models', 'mnist_layers_sequential', 'mnist.json')));
  try {
    const before = tf.memory().numTensors;
    const weighted = model.layers.filter((l) => l.weights.length > 0);
    const values = (i: number): number[][] => weighted[i]!.getWeights().map((w) => Array.from(w.dataSync()));
    const original = weighted.map((_, i) => values(i));
    const names = shuffleTopLayers(model, 2, 7);
    assert.deepEqual(names, [weighted.at(-1)!.name, weighted.at(-2)!.name]);
    for (let i = 0; i < weighted.length; i += 1) {
      const now = values(i);
      if (i >= weighted.length - 2) {
        assert.notDeepEqual(now, original[i]);
        // A permutation: the same values, in another order.
        now.forEach((v, k) => assert.deepEqual([...v].sort((a, b) => a - b), [...original[i]![k]!].sort((a, b) => a - b)));
      } else {
        assert.deepEqual(now, original[i]);
      }
    }
    assert.equal(tf.memory().numTensors, before);
    assert.throws(() => shuffleTopLayers(model, weighted.length + 1, 0), (err: unknown) => isIgxError(err) && err.code === 'E_FLAG');
  } finally {
    model.dispose();
  }
});

test('model randomisation on the default model: shuffled top layers decorrelate IG, 0 layers is exactly the same map, the session model is untouched', async () => {
  const out = mkdtempSync(join(tmpdir(), 'igx-evaluate-rand-'));
  const session = await openExplainSession(parseExplainFlags({ backend: 'wasm', out, steps: '16' }));
  try {
    const input = tf.tensor4d(Float32Array.from({ length: 224 * 224 * 3 }, (_, i) => ((i * 7919) % 255) / 127.5 - 1), [1, 224, 224, 3]);
    const outputBefore = tf.tidy(() => Array.from(session.forward.forward(input).dataSync()));
    const before = tf.memory().numTensors;
    const run = (k: number) => evaluateImage(session, fixture('images', 'cat.jpg'), { ...DEFAULT_EVALUATE_OPTIONS, points: 4, randomOrders: 1, randomizeLayers: k });
    const control = (await run(0)).evaluation;
    assert.deepEqual(
      { ...control.randomization, score: undefined },
      { count: 0, layers: [], method: 'shuffle', seed: 0, score: undefined, steps: 16, completenessRelativeError: control.attribution.completenessRelativeError, spearmanAbs: 1, spearman: 1, cosineAbs: 1, ssimAbs: 1 },
    );
    assert.equal(control.randomization!.score, control.target.score);
    for (const k of [1, 3]) {
      const { evaluation: e, file } = await run(k);
      const r = e.randomization!;
      const what = `k=${k}: ${JSON.stringify(r)}`;
      assert.equal(r.layers.length, k);
      assert.equal(r.layers[0], 'conv_preds', what);
      // Measured on cat.jpg at 16 steps: ρ(|IG|) 0.44 (k=1) and 0.46 (k=3); signed ρ −0.02 and 0.08.
      assert.ok(r.spearmanAbs < 0.7, what);
      assert.ok(Math.abs(r.spearman) < 0.3, what);
      assert.ok(r.ssimAbs < 0.6 && r.cosineAbs < 0.9, what);
      // The randomised model no longer sees a cat.
      assert.ok(r.score < 0.01 * e.target.score, what);
      assert.equal((JSON.parse(readFileSync(file, 'utf8')) as Evaluation).randomization!.spearmanAbs, r.spearmanAbs);
    }
    assert.equal(tf.memory().numTensors, before);
    const outputAfter = tf.tidy(() => Array.from(session.forward.forward(input).dataSync()));
    input.dispose();
    assert.deepEqual(outputAfter, outputBefore);
  } finally {
    closeExplainSession(session);
  }
});

test('evaluate --randomize-layers: on the default model it prints the Spearman ρ; a graph model is E_FLAG (exit 2)', async () => {
  const out = mkdtempSync(join(tmpdir(), 'igx-evaluate-rand-cli-'));
  const chunks: string[] = [];
  const sink = { write: (s: string) => (chunks.push(String(s)), true) } as unknown as NodeJS.WritableStream;
  const io = { stdout: sink, stderr: sink, env: {} };
  const args = [fixture('images', 'cat.jpg'), '--steps', '8', '--points', '4', '--random-orders', '1', '--backend', 'wasm', '-o', out];
  assert.equal(await main(['node', 'igx', 'evaluate', ...args, '--randomize-layers', '2', '--json'], io), 0, chunks.join(''));
  const line = JSON.parse(chunks.find((c) => c.startsWith('{'))!);
  assert.equal(line.randomizedLayers, 2);
  assert.ok(line.randomizationSpearmanAbs > -1 && line.randomizationSpearmanAbs < 0.9, JSON.stringify(line));
  chunks.length = 0;
  assert.equal(await main(['node', 'igx', 'evaluate', ...args, '--randomize-layers', '2'], io), 0, chunks.join(''));
  assert.match(chunks.join(''), /top 2 layers randomised: Spearman \|IG\| 0\.\d{3}, SSIM/);
  chunks.length = 0;
  assert.equal(await main(['node', 'igx', 'evaluate', fixture('images', 'dog.jpg'), '-m', fixture('models', 'lenet_graph'), '--preprocess', '[0,1]', '--randomize-layers', '1', '--backend', 'wasm', '-o', out], io), 2);
  assert.match(chunks.join(''), /--randomize-layers needs a layers model.*graph model/);
  assert.equal(await main(['node', 'igx', 'evaluate', ...args, '--randomize-layers', '-1'], io), 2);
});
