import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { computeGuidedIG } from '../../src/attribution/guided-ig.js';
import { selectBackend } from '../../src/engine/backend.js';
import { loadModel } from '../../src/model/load-model.js';
import { fixture } from '../support/paths.js';
import { prepareDoberman } from '../support/prepare-doberman.js';

await selectBackend('wasm');

async function values(t: tf.Tensor): Promise<number[]> {
  try {
    return Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

test('guided IG on a ReLU network (emotion_64_gray): the trapezoid beats PAIR\'s left sum, and halving the worst steps reaches completeness', async (ctx) => {
  const model = await loadModel(fixture('models', 'emotion_64_gray'));
  try {
    const { forward, x, black, target } = await prepareDoberman(model);
    const before = tf.memory().numTensors;
    const walk = { steps: 50, fraction: 0.25, maxDist: 0.02 };
    const left = await computeGuidedIG({ forward, input: x, baseline: black, target }, { ...walk, rule: 'left' });
    const trapezoid = await computeGuidedIG({ forward, input: x, baseline: black, target }, walk);
    const progress: [number, number][] = [];
    const adaptive = await computeGuidedIG({ forward, input: x, baseline: black, target }, { ...walk, adaptive: { tolerance: 0.02, maxEvaluations: 2000 }, onProgress: (d, p) => progress.push([d, p]) });
    const [l, t, a] = [left, trapezoid, adaptive].map((r) => r.completeness.relativeError) as [number, number, number];
    assert.equal(left.gradientEvaluations, 50);
    assert.equal(trapezoid.gradientEvaluations, 51);
    assert.ok(t < l, `trapezoid ${t} vs left ${l}`);
    assert.ok(adaptive.isConverged && a <= 0.02, `adaptive ${a} after ${adaptive.gradientEvaluations} gradients`);
    assert.ok(adaptive.gradientEvaluations > 51 && adaptive.gradientEvaluations <= 2000);
    // Progress counts the walk's 50 steps, then every refining gradient past the walk's 51.
    assert.deepEqual(progress[49], [50, 50]);
    assert.deepEqual(progress.at(-1), [adaptive.gradientEvaluations - 1, adaptive.gradientEvaluations - 1]);
    // The path is the same: the refined map stays close to the plain trapezoid's.
    const [tv, av] = await Promise.all([values(trapezoid.attributions), values(adaptive.attributions)]);
    left.attributions.dispose();
    let dot = 0;
    let nt = 0;
    let na = 0;
    tv.forEach((v, i) => {
      dot += v * av[i]!;
      nt += v * v;
      na += av[i]! * av[i]!;
    });
    assert.ok(dot / Math.sqrt(nt * na) > 0.8, `cosine ${dot / Math.sqrt(nt * na)}`);
    ctx.diagnostic(`guided IG, emotion_64_gray: left ${l.toFixed(4)}, trapezoid ${t.toFixed(4)}, adaptive ${a.toFixed(4)} (${adaptive.gradientEvaluations} gradients)`);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, black]);
  } finally {
    model.dispose();
  }
});
