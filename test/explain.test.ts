import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import type { RawExplainFlags } from '../src/config/explain-config.js';
import { explainImage, resolveTarget } from '../src/explain/index.js';
import { fixture } from './support/paths.js';
import { withSession } from './support/explain-session.js';

const PHOTOS = ['black_swan.jpg', 'cat.jpg', 'coffee_mug.jpg', 'dog.jpg', 'elephant.jpg', 'mountain.jpg', 'pizza.jpg', 'tabby_cat_224.jpg', 'doberman.png'];

test('default model, default (adaptive) settings: completeness within 5% on every fixture photo, no tensor leak', async () => {
  await withSession({}, async (session) => {
    const before = tf.memory().numTensors;
    for (const photo of PHOTOS) {
      const { report } = await explainImage(session, fixture('images', photo));
      const rel = report.completeness.relativeError;
      assert.ok(rel !== null && rel <= 0.05, `${photo}: relative completeness error ${rel}`);
      assert.equal(report.completeness.isWithinTolerance, true);
      assert.equal(report.adaptive?.isConverged, true);
      // Σ attributions is the grid's total too, and F(x) − F(x′) is what it approximates
      const gridSum = report.attribution.grid.values.reduce((s, v) => s + v, 0);
      assert.ok(Math.abs(gridSum - report.completeness.sum) < 1e-3 * Math.max(1, Math.abs(report.completeness.sum)));
      assert.equal(report.target.index, report.prediction.index);
    }
    assert.equal(tf.memory().numTensors, before);
  });
});

test('same seed → identical report bytes apart from timings; another seed differs', async () => {
  const flags: RawExplainFlags = { model: fixture('models', 'lenet_graph'), preprocess: '[0,1]', baseline: ['gaussian:40', 'uniform'], baselineSamples: '2', seed: '7', steps: '16' };
  const strip = (path: string): string => {
    const report = JSON.parse(readFileSync(path, 'utf8'));
    delete report.timingsMs;
    return JSON.stringify(report);
  };
  const run = async (extra: RawExplainFlags = {}): Promise<{ report: string; heatmap: Buffer }> =>
    withSession({ ...flags, ...extra }, async (s) => {
      const { files } = await explainImage(s, fixture('images', 'cat.jpg'));
      return { report: strip(files.report), heatmap: readFileSync(files.heatmap) };
    });
  const a = await run();
  const b = await run();
  const c = await run({ seed: '8' });
  assert.equal(a.report, b.report);
  assert.ok(a.heatmap.equals(b.heatmap));
  assert.notEqual(a.report, c.report);
  assert.equal(JSON.parse(a.report).baselines.length, 4);
});

test('batched and unbatched give the same attributions on a real model', async () => {
  const base: RawExplainFlags = { model: fixture('models', 'emotion_64_gray'), preprocess: '[0,1]', steps: '20', saveRaw: true };
  const raw = async (batchSize: string): Promise<Float32Array> =>
    withSession({ ...base, batchSize }, async (s) => {
      const { files } = await explainImage(s, fixture('images', 'doberman.png'));
      const bytes = readFileSync(files.raw as string);
      const offset = bytes.readUInt16LE(8) + 10;
      return new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + bytes.length));
    });
  const one = await raw('1');
  const many = await raw('20');
  assert.equal(one.length, 64 * 64);
  let maxDiff = 0;
  let maxAbs = 0;
  one.forEach((v, i) => {
    maxDiff = Math.max(maxDiff, Math.abs(v - (many[i] as number)));
    maxAbs = Math.max(maxAbs, Math.abs(v));
  });
  assert.ok(maxAbs > 0);
  assert.ok(maxDiff <= 1e-5 * maxAbs + 1e-9, `max difference ${maxDiff} of ${maxAbs}`);
});

test('targets by label and A-B on the default model', async () => {
  await withSession({ target: 'tiger cat', steps: '16', outputSpace: 'logits' }, async (s) => {
    const { report } = await explainImage(s, fixture('images', 'cat.jpg'));
    assert.equal(report.target.index, 282);
    assert.equal(report.model.output.space, 'logits');
    assert.equal(report.target.rule, 'label');
  });
  await withSession({ target: 'tabby, tabby cat-tiger cat' }, async (s) => {
    const { report } = await explainImage(s, fixture('images', 'cat.jpg'));
    assert.equal(report.target.rule, 'difference');
    assert.equal(report.target.index, 281);
    assert.equal(report.target.minus?.index, 282);
    const c = report.completeness;
    assert.ok(Math.abs(c.fx - (report.prediction.score - (report.target.minus?.score ?? NaN))) < 1e-6);
    assert.ok(Math.abs(c.sum - (c.fx - c.fBaseline)) <= 0.05 * Math.abs(c.fx - c.fBaseline), JSON.stringify(c));
  });
});

test('resolveTarget: indices, labels with hyphens, pairs, and bad text', () => {
  const labels = ['cat', 'black-and-tan coonhound', 'dog'];
  const scores = [0.1, 0.2, 0.7];
  assert.deepEqual(resolveTarget('top', scores, labels).target, { kind: 'index', index: 2 });
  assert.deepEqual(resolveTarget('black-and-tan coonhound', scores, labels).target, { kind: 'index', index: 1 });
  assert.deepEqual(resolveTarget('cat-black-and-tan coonhound', scores, labels).target, { kind: 'difference', a: 0, b: 1 });
  assert.deepEqual(resolveTarget('2-0', scores, labels).target, { kind: 'difference', a: 2, b: 0 });
  assert.throws(() => resolveTarget('3', scores, labels), { code: 'E_TARGET' });
  assert.throws(() => resolveTarget('wolf', scores, labels), { code: 'E_TARGET' });
});

test('outputs are only the finished files', async () => {
  await withSession({ steps: '4' }, async (s) => {
    await explainImage(s, fixture('images', 'dog.jpg'));
    assert.deepEqual(readdirSync(s.config.out).sort(), ['dog.ig.json', 'dog.ig.png', 'dog.overlay.png']);
  });
});
