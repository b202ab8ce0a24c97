import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { parseExplainFlags } from '../../src/config/explain-config.js';
import { selectBackend } from '../../src/engine/backend.js';
import { DEFAULT_EVALUATE_OPTIONS, buildEvaluateBaselines, evaluateImage, type Evaluation } from '../../src/evaluate/run-evaluate.js';
import { closeExplainSession, openExplainSession } from '../../src/explain/index.js';
import { fixture } from '../support/paths.js';

await selectBackend('wasm');

function close(a: number, b: number, tol = 1e-6): void {
  assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b} (tol ${tol})`);
}

test('igx evaluate on the default model: IG beats a random order on fixture photos, the inverted order does worse', async () => {
  const out = mkdtempSync(join(tmpdir(), 'igx-evaluate-'));
  const session = await openExplainSession(parseExplainFlags({ backend: 'wasm', out, steps: '32', baseline: buildEvaluateBaselines(DEFAULT_EVALUATE_OPTIONS) }));
  try {
    const before = tf.memory().numTensors;
    for (const photo of ['cat.jpg', 'elephant.jpg', 'black_swan.jpg', 'dog.jpg', 'tabby_cat_224.jpg', 'doberman.png']) {
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
