import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers all of them globally.
import '@tensorflow/tfjs-layers';
import { computeIntegratedGradients, computeCompleteness } from '../src/attribution/integrated-gradients.js';
import { computeAttributionGrid, computeAttributionStats } from '../src/numeric/attribution-summary.js';
import type { ForwardFn, Target } from '../src/attribution/types.js';
import { METHODS } from '../src/attribution/types.js';

await tf.setBackend('cpu');
const reference = JSON.parse(readFileSync(new URL('../fixtures/reference/analytic_ig_cases.json', import.meta.url), 'utf8'));
const F0: Target = { kind: 'index', index: 0 };

/** Features laid out as a [batch, 1, 1, n] image; column k of the output is one function. */
const features = (x: tf.Tensor4D, n: number): tf.Tensor2D => tf.reshape(x, [-1, n]) as tf.Tensor2D;
const col = (t: tf.Tensor2D, i: number): tf.Tensor2D => tf.slice(t, [0, i], [-1, 1]) as tf.Tensor2D;

// PAIR: F = 5 x0 + x1² + sin(x2)
const pairModel: ForwardFn = (x) => {
  const f = features(x, 3);
  return tf.add(tf.add(tf.mul(col(f, 0), 5), tf.square(col(f, 1))), tf.sin(col(f, 2))) as tf.Tensor2D;
};
// Captum BasicModel2: relu(relu(x1) − 1 − relu(x2)); BasicModel3: relu(relu(x1 − 1) − relu(x2)); BasicModel: 1 − relu(1 − x)
const captum2: ForwardFn = (x) => {
  const f = features(x, 2);
  return tf.relu(tf.sub(tf.sub(tf.relu(col(f, 0)), 1), tf.relu(col(f, 1)))) as tf.Tensor2D;
};
const captum3: ForwardFn = (x) => {
  const f = features(x, 2);
  return tf.relu(tf.sub(tf.relu(tf.sub(col(f, 0), 1)), tf.relu(col(f, 1)))) as tf.Tensor2D;
};
const captum1: ForwardFn = (x) => tf.sub(1, tf.relu(tf.sub(1, features(x, 1)))) as tf.Tensor2D;

const asImage = (v: number[]): tf.Tensor4D => tf.tensor4d(v, [1, 1, 1, v.length]);

async function explain(forward: ForwardFn, x: number[], baseline: number[], opts: Partial<Parameters<typeof computeIntegratedGradients>[1]> = {}) {
  const input = asImage(x);
  const base = asImage(baseline);
  try {
    const result = await computeIntegratedGradients({ forward, input, baselines: [base], target: F0 }, { method: 'gausslegendre', steps: 50, batchSize: 16, ...opts });
    const attributions = Array.from(await result.attributions.data());
    result.attributions.dispose();
    return { ...result, values: attributions };
  } finally {
    input.dispose();
    base.dispose();
  }
}

const assertClose = (actual: number[], expected: number[], tol: number, what: string): void =>
  expected.forEach((e, i) => assert.ok(Math.abs((actual[i] as number) - e) <= tol, `${what}[${i}]: ${actual[i]} vs ${e}`));

test('the analytic reference cases to 1e-3', async () => {
  const before = tf.memory().numTensors;
  const models: ForwardFn[] = [pairModel, pairModel, captum2, captum3, captum1];
  for (const [i, c] of (reference.cases as { x: number[]; baseline: number[]; expected: number[]; F: string }[]).entries()) {
    // ReLU kinks make the integrand discontinuous: more points for those.
    const r = await explain(models[i] as ForwardFn, c.x, c.baseline, { steps: i < 2 ? 50 : 400 });
    assertClose(r.values, c.expected, 1e-3, c.F);
    assert.ok(r.completeness.absoluteError < 1e-3, `${c.F} completeness ${r.completeness.absoluteError}`);
  }
  assert.equal(tf.memory().numTensors, before);
});

test('every method converges to the same attributions on a smooth function', async () => {
  const expected = reference.cases[0].expected as number[];
  for (const method of METHODS) {
    const r = await explain(pairModel, [1, 2, 3], [0.5, 1, 1], { method, steps: 400 });
    assertClose(r.values, expected, method === 'gausslegendre' ? 1e-6 : 2e-2, method);
  }
});

test('attributions carry the (x − x′) factor: a zero difference gives zero attribution', async () => {
  const r = await explain(pairModel, [1, 2, 3], [1, 1, 3]);
  assert.equal(r.values[0], 0);
  assert.equal(r.values[2], 0);
  assert.ok(Math.abs((r.values[1] as number) - 3) < 1e-5); // ∫ 2(1 + α) dα · 1 = 3
});

test('points go through the model in batches: 50 points in batches of 16 take 4 gradient calls', async () => {
  const r = await explain(pairModel, [1, 2, 3], [0, 0, 0], { steps: 50, batchSize: 16 });
  // 2 forward calls (F(x), F(x′)) + ⌈50/16⌉ = 4 gradient calls
  assert.equal(r.modelCalls, 6);
  assert.equal(r.gradientEvaluations, 50);
  const one = await explain(pairModel, [1, 2, 3], [0, 0, 0], { steps: 50, batchSize: 1 });
  assert.equal(one.modelCalls, 52);
  assertClose(r.values, one.values, 1e-6, 'batched vs unbatched');
});

test('a comparative target F = out[a] − out[b] attributes the difference', async () => {
  const two: ForwardFn = (x) => {
    const f = features(x, 2);
    return tf.concat([tf.square(col(f, 0)), tf.mul(col(f, 1), 3)], 1) as tf.Tensor2D;
  };
  const input = asImage([2, 1]);
  const base = asImage([0, 0]);
  const r = await computeIntegratedGradients({ forward: two, input, baselines: [base], target: { kind: 'difference', a: 0, b: 1 } }, { method: 'gausslegendre', steps: 8, batchSize: 8 });
  assertClose(Array.from(await r.attributions.data()), [4, -3], 1e-6, 'difference');
  assert.ok(Math.abs(r.completeness.fx - (4 - 3)) < 1e-6);
  tf.dispose([input, base, r.attributions]);
});

test('adaptive refinement reaches the tolerance and reuses nested points', async () => {
  // A steep sigmoid along the path: 4 points miss it, more points find it.
  const steep: ForwardFn = (x) => tf.sigmoid(tf.mul(tf.sub(features(x, 1), 0.7), 40)) as tf.Tensor2D;
  const fixed = await explain(steep, [1], [0], { method: 'riemann-trapezoid', steps: 3 });
  assert.ok(fixed.completeness.relativeError > 0.05, `3 points should miss: ${fixed.completeness.relativeError}`);
  const adaptive = await explain(steep, [1], [0], { method: 'riemann-trapezoid', steps: 3, adaptive: { tolerance: 0.001, maxSteps: 400 } });
  assert.ok(adaptive.completeness.relativeError <= 0.001, `${adaptive.completeness.relativeError}`);
  assert.ok(adaptive.isConverged);
  // Trapezoid refines 3 → 5 → 9 → 17 …, evaluating only new points: total evaluations = final points.
  assert.equal(adaptive.gradientEvaluations, adaptive.steps);
  const capped = await explain(steep, [1], [0], { method: 'gausslegendre', steps: 2, adaptive: { tolerance: 1e-12, maxSteps: 16 } });
  assert.equal(capped.isConverged, false);
  assert.equal(capped.steps, 16);
  assert.equal(capped.gradientEvaluations, 2 + 4 + 8 + 16);
});

test('several baselines: attributions are the mean, completeness per baseline', async () => {
  const input = asImage([1, 2, 3]);
  const b1 = asImage([0.5, 1, 1]);
  const b2 = asImage([0, 0, 0]);
  const r = await computeIntegratedGradients({ forward: pairModel, input, baselines: [b1, b2], target: F0 }, { method: 'gausslegendre', steps: 50, batchSize: 50 });
  const values = Array.from(await r.attributions.data());
  // against 0: 5·1, 2², sin 3
  assertClose(values, [(2.5 + 5) / 2, (3 + 4) / 2, (-0.7003509767 + Math.sin(3)) / 2], 1e-6, 'mean');
  assert.equal(r.perBaseline.length, 2);
  assert.ok(r.perBaseline.every((p) => p.completeness.absoluteError < 1e-6));
  assert.ok(r.completeness.absoluteError < 1e-6);
  tf.dispose([input, b1, b2, r.attributions]);
});

test('completeness arithmetic and the negligible-delta flag', () => {
  const c = computeCompleteness(0.9, 0.1, 0.76);
  assert.ok(Math.abs(c.absoluteError - 0.04) < 1e-12);
  assert.ok(Math.abs(c.relativeError - 0.05) < 1e-12);
  assert.equal(c.isDeltaNegligible, false);
  assert.equal(computeCompleteness(0.5, 0.5 - 1e-6, 0).isDeltaNegligible, true);
});

test('grid pooling keeps the total and stats are exact', () => {
  const h = 28;
  const w = 20;
  const c = 3;
  const data = Float32Array.from({ length: h * w * c }, (_, i) => Math.sin(i) * 0.01);
  const grid = computeAttributionGrid(data, [h, w, c], 32);
  const stats = computeAttributionStats(data);
  assert.equal(grid.length, 1024);
  assert.ok(Math.abs(grid.reduce((s, v) => s + v, 0) - stats.sum) < 1e-9);
  // 64×64 into 32×32: each cell is the sum of a 2×2 block over channels
  const block = new Float32Array(64 * 64).map((_, i) => i);
  const g = computeAttributionGrid(block, [64, 64, 1], 32);
  assert.equal(g[0], 0 + 1 + 64 + 65);
  assert.deepEqual(computeAttributionStats(Float32Array.from([-2, 1, 3])), { min: -2, max: 3, sum: 2, sumAbs: 6 });
});
