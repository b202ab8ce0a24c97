import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { ForwardFn, Target } from '../src/attribution/types.js';
import { parseExplainFlags } from '../src/config/explain-config.js';
import { selectBackend } from '../src/engine/backend.js';
import { computeAuc, computeCurve, randomPixelOrder, rankPixels } from '../src/evaluate/perturbation.js';
import { DEFAULT_EVALUATE_OPTIONS, evaluateImage, type Evaluation } from '../src/evaluate/run-evaluate.js';
import { closeExplainSession, openExplainSession } from '../src/explain.js';
import { main } from '../src/cli/main.js';
import { fixture } from './support/paths.js';

await selectBackend('wasm');
const F0: Target = { kind: 'index', index: 0 };

test('AUC, ranks and random orders', () => {
  close(computeAuc([0, 0.5, 1], [1, 0.5, 0]), 0.5);
  close(computeAuc([0, 0.25, 0.5, 0.75, 1], [0, 0.25, 0.5, 0.75, 1]), 0.5);
  // pixel sums over 2 channels: [3, -1, 5, 0] → order 2, 0, 3, 1
  assert.deepEqual(Array.from(rankPixels([1, 2, -1, 0, 2, 3, 0, 0], 2, 2, 2)), [2, 0, 3, 1]);
  const r = randomPixelOrder(100, 9);
  assert.deepEqual(Array.from(r).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(Array.from(randomPixelOrder(100, 9)), Array.from(r));
  assert.notDeepEqual(Array.from(randomPixelOrder(100, 10)), Array.from(r));
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
  const order = rankPixels(w, 2, 2, 1); // the attribution of a linear F from 0: w ⊙ x
  assert.deepEqual(Array.from(order), [0, 2, 3, 1]);
  const del = computeCurve(forward, input, zero, [2, 2, 1], F0, order, 'deletion', { points: 4, batchSize: 3 });
  assert.deepEqual(del.scores, [10, 6, 3, 1, 0]);
  const ins = computeCurve(forward, input, zero, [2, 2, 1], F0, order, 'insertion', { points: 4, batchSize: 2 });
  assert.deepEqual(ins.scores, [0, 4, 7, 9, 10]);
  // The attribution order is the best possible for a linear F: it beats the inverted order on both.
  const inv = Int32Array.from(order).reverse();
  assert.ok(del.auc < computeCurve(forward, input, zero, [2, 2, 1], F0, inv, 'deletion', { points: 4, batchSize: 4 }).auc);
  assert.ok(ins.auc > computeCurve(forward, input, zero, [2, 2, 1], F0, inv, 'insertion', { points: 4, batchSize: 4 }).auc);
  assert.equal(tf.memory().numTensors, before);
});

test('igx evaluate on the default model: IG beats a random order on fixture photos, the inverted order does worse', async () => {
  const out = mkdtempSync(join(tmpdir(), 'igx-evaluate-'));
  const session = await openExplainSession(parseExplainFlags({ backend: 'wasm', out, steps: '32' }));
  try {
    const before = tf.memory().numTensors;
    for (const photo of ['cat.jpg', 'elephant.jpg', 'black_swan.jpg']) {
      const { evaluation: e, file } = await evaluateImage(session, fixture('images', photo), { ...DEFAULT_EVALUATE_OPTIONS, points: 20, randomOrders: 2 });
      const what = `${photo}: ${JSON.stringify({ del: [e.deletion.attribution.auc, e.deletion.random.auc, e.deletion.inverted.auc], ins: [e.insertion.attribution.auc, e.insertion.random.auc, e.insertion.inverted.auc] })}`;
      assert.ok(e.deletion.attribution.auc < e.deletion.random.auc, what);
      assert.ok(e.insertion.attribution.auc > e.insertion.random.auc, what);
      assert.ok(e.deletion.inverted.auc > e.deletion.attribution.auc, what);
      assert.ok(e.insertion.inverted.auc < e.insertion.attribution.auc, what);
      // The curve starts at F(x) for deletion and ends there for insertion.
      close(e.deletion.attribution.scores[0]!, e.target.score, 1e-4);
      close(e.insertion.attribution.scores.at(-1)!, e.target.score, 1e-4);
      assert.equal(e.deletion.attribution.scores.length, 21);
      const saved = JSON.parse(readFileSync(file, 'utf8')) as Evaluation;
      assert.equal(saved.deletion.attribution.auc, e.deletion.attribution.auc);
    }
    assert.equal(tf.memory().numTensors, before);
  } finally {
    closeExplainSession(session);
  }
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
  assert.ok(readFileSync(join(out, 'dog.evaluate.json'), 'utf8').includes('"insertion"'));
  assert.equal(await main(['node', 'igx', 'evaluate', fixture('images', 'dog.jpg'), '--points', 'x'], io), 2);
});
