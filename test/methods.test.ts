import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { blurTensor, computeBlurIG } from '../src/attribution/blur-ig.js';
import { buildBlurMatrix } from '../src/numeric/gaussian.js';
import { computeGuidedIG } from '../src/attribution/guided-ig.js';
import { computeIntegratedGradients } from '../src/attribution/integrated-gradients.js';
import { computeSmoothGradIG, sampleNoise } from '../src/attribution/smoothgrad.js';
import type { ForwardFn, Target } from '../src/attribution/types.js';
import { selectBackend } from '../src/engine/backend.js';
import { pickBaselineFiles } from '../src/image/baseline-dir.js';
import { createRng } from '../src/numeric/rng.js';
import { loadModel } from '../src/model/load-model.js';
import { fixture } from './support/paths.js';
import { prepareDoberman } from './support/prepare-doberman.js';

await selectBackend('wasm');
const F0: Target = { kind: 'index', index: 0 };
const IG = { method: 'gausslegendre' as const, steps: 4, batchSize: 8 };

const flat = (x: tf.Tensor4D): tf.Tensor2D => tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
/** F(x) = Σ wᵢ xᵢ as a one-column model. */
const linear = (w: number[]): ForwardFn => (x) => tf.matMul(flat(x), tf.tensor2d(w, [w.length, 1]));
/** F(x) = Σ aᵢ xᵢ² */
const quadratic = (a: number[]): ForwardFn => (x) => tf.matMul(tf.square(flat(x)), tf.tensor2d(a, [a.length, 1]));
const image = (v: number[], h = 1, w = v.length, c = 1): tf.Tensor4D => tf.tensor4d(v, [1, h, w, c]);
const close = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tol ${tol})`);

async function values(t: tf.Tensor): Promise<number[]> {
  try {
    return Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

test('smoothgrad on a linear F: each noisy IG is w⊙(x + εᵢ − x′), so the mean and variance are known exactly', async () => {
  const before = tf.memory().numTensors;
  const w = [2, -1, 0.5, 3];
  const xv = [1, 2, -1, 0.5];
  const bv = [0, 0.5, 0, 1];
  const x = image(xv);
  const b = image(bv);
  const N = 20;
  const sigma = 0.3;
  const run = (kind: 'smoothgrad' | 'smoothgrad_sq' | 'vargrad') =>
    computeSmoothGradIG({ forward: linear(w), input: x, baselines: [b], target: F0 }, { samples: N, sigma, kind, seed: 11, ig: IG });
  // The same noise, drawn the way computeSmoothGradIG documents it.
  const rng = createRng(11);
  const noise = Array.from({ length: N }, () => Array.from(sampleNoise(rng, 4, sigma)));
  const perSample = noise.map((e) => w.map((wi, i) => wi * (xv[i]! + e[i]! - bv[i]!)));
  const mean = w.map((_, i) => perSample.reduce((s, p) => s + p[i]!, 0) / N);
  const meanSq = w.map((_, i) => perSample.reduce((s, p) => s + p[i]! ** 2, 0) / N);

  const sg = await run('smoothgrad');
  (await values(sg.attributions)).forEach((v, i) => close(v, mean[i]!, 1e-4, `smoothgrad[${i}]`));
  // completeness: Σ mean = mean F(x + ε) − F(x′) exactly for a linear F
  assert.ok(sg.completeness && sg.completeness.absoluteError < 1e-4, JSON.stringify(sg.completeness));
  close(sg.fxClean, w.reduce((s, wi, i) => s + wi * xv[i]!, 0), 1e-5, 'F(x) clean');
  const sq = await run('smoothgrad_sq');
  (await values(sq.attributions)).forEach((v, i) => close(v, meanSq[i]!, 1e-3, `smoothgrad_sq[${i}]`));
  assert.equal(sq.completeness, null);
  const vg = await run('vargrad');
  (await values(vg.attributions)).forEach((v, i) => close(v, meanSq[i]! - mean[i]! ** 2, 1e-3, `vargrad[${i}]`));
  // The noise does move the attributions: not the plain IG w⊙(x − x′).
  const dev = w.map((wi, i) => Math.abs(mean[i]! - wi * (xv[i]! - bv[i]!)));
  assert.ok(Math.max(...dev) > 1e-3);
  tf.dispose([x, b]);
  assert.equal(tf.memory().numTensors, before);
});

test('smoothgrad on F = Σ xᵢ² (baseline 0): E = x² + σ², E[sq] = x⁴ + 6x²σ² + 3σ⁴, Var = 4x²σ² + 2σ⁴', async () => {
  const before = tf.memory().numTensors;
  const xv = [1, -0.5, 2];
  const x = image(xv);
  const b = image([0, 0, 0]);
  const N = 3000;
  const sigma = 0.5;
  const s2 = sigma * sigma;
  const opts = { samples: N, sigma, seed: 3, ig: { method: 'gausslegendre' as const, steps: 2, batchSize: 2 } };
  const f = quadratic([1, 1, 1]);
  const sg = await values((await computeSmoothGradIG({ forward: f, input: x, baselines: [b], target: F0 }, { ...opts, kind: 'smoothgrad' })).attributions);
  const sq = await values((await computeSmoothGradIG({ forward: f, input: x, baselines: [b], target: F0 }, { ...opts, kind: 'smoothgrad_sq' })).attributions);
  const vg = await values((await computeSmoothGradIG({ forward: f, input: x, baselines: [b], target: F0 }, { ...opts, kind: 'vargrad' })).attributions);
  xv.forEach((xi, i) => {
    const e4 = xi ** 4 + 6 * xi * xi * s2 + 3 * s2 * s2;
    const variance = 4 * xi * xi * s2 + 2 * s2 * s2;
    // 5 standard errors of a mean of N draws
    close(sg[i]!, xi * xi + s2, 5 * Math.sqrt(variance / N), `smoothgrad[${i}]`);
    const e8 = 105 * s2 ** 4 + 420 * s2 ** 3 * xi ** 2 + 210 * s2 ** 2 * xi ** 4 + 28 * s2 * xi ** 6 + xi ** 8;
    close(sq[i]!, e4, 5 * Math.sqrt((e8 - e4 * e4) / N), `smoothgrad_sq[${i}]`);
    close(vg[i]!, variance, 0.12 * variance + 0.02, `vargrad[${i}]`);
  });
  tf.dispose([x, b]);
  assert.equal(tf.memory().numTensors, before);
});

test('blur matrix: rows sum to 1, σ = 0 is the identity, σ large tends to the mean', () => {
  const m = buildBlurMatrix(7, 1.5);
  for (let i = 0; i < 7; i += 1) close(m.slice(i * 7, i * 7 + 7).reduce((a, b) => a + b, 0), 1, 1e-6, `row ${i}`);
  assert.deepEqual(Array.from(buildBlurMatrix(3, 0)), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  for (const v of buildBlurMatrix(5, 1e4)) close(v, 0.2, 1e-6, 'σ → ∞');
});

test('blur IG on analytic models: linear F gives w⊙(x − blur(x, σmax)); F = Σx² gives x² − blur(x, σmax)² exactly', async () => {
  const before = tf.memory().numTensors;
  const h = 5;
  const wd = 6;
  const n = h * wd;
  const rng = createRng(5);
  const xv = Array.from({ length: n }, () => rng.next() * 2 - 1);
  const w = Array.from({ length: n }, () => rng.normal());
  const x = image(xv, h, wd, 1);
  const maxSigma = 3;
  // blur(x, σ) computed here independently: Bₕ X Bᵥᵀ
  const bh = buildBlurMatrix(h, maxSigma);
  const bw = buildBlurMatrix(wd, maxSigma);
  const blurred = new Array<number>(n).fill(0);
  for (let i = 0; i < h; i += 1)
    for (let j = 0; j < wd; j += 1)
      for (let k = 0; k < h; k += 1) for (let l = 0; l < wd; l += 1) blurred[i * wd + j]! += bh[i * h + k]! * xv[k * wd + l]! * bw[j * wd + l]!;
  const tBlur = await values(blurTensor(x, maxSigma));
  tBlur.forEach((v, i) => close(v, blurred[i]!, 1e-5, `blurTensor[${i}]`));

  const lin = await computeBlurIG({ forward: linear(w), input: x, target: F0 }, { maxSigma, steps: 7, batchSize: 3 });
  (await values(lin.attributions)).forEach((v, i) => close(v, w[i]! * (xv[i]! - blurred[i]!), 1e-4, `linear[${i}]`));
  assert.ok(lin.completeness.absoluteError < 1e-4);
  assert.equal(lin.gradientEvaluations, 8);

  const quad = await computeBlurIG({ forward: quadratic(new Array<number>(n).fill(1)), input: x, target: F0 }, { maxSigma, steps: 10, batchSize: 4 });
  (await values(quad.attributions)).forEach((v, i) => close(v, xv[i]! ** 2 - blurred[i]! ** 2, 1e-4, `quadratic[${i}]`));
  assert.ok(quad.completeness.absoluteError < 1e-4);
  x.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('guided IG: linear F gives w⊙(x − x′); on F = x₀x₁ + 0.1x₀ unbounded, x₁ (smaller |∂F|) moves first → (1.1, 0), unlike IG (0.6, 0.5)', async () => {
  const before = tf.memory().numTensors;
  const w = [1, -2, 0.5, 4, -1, 3, 0.2, -0.7];
  const xv = [1, 0.5, -2, 0.25, 1, -1, 3, 0];
  const bv = [0, 0, 1, 0, -1, 0, 0, 0];
  const x = image(xv);
  const b = image(bv);
  const lin = await computeGuidedIG({ forward: linear(w), input: x, baseline: b, target: F0 }, { steps: 50, fraction: 0.25, maxDist: 0.02 });
  (await values(lin.attributions)).forEach((v, i) => close(v, w[i]! * (xv[i]! - bv[i]!), 1e-4, `linear[${i}]`));
  assert.ok(lin.completeness.absoluteError < 1e-4);
  tf.dispose([x, b]);

  const product: ForwardFn = (t) => {
    const f = flat(t);
    const x0 = tf.slice(f, [0, 0], [-1, 1]);
    const x1 = tf.slice(f, [0, 1], [-1, 1]);
    return tf.add(tf.mul(x0, x1), tf.mul(x0, 0.1)) as tf.Tensor2D;
  };
  const p = image([1, 1]);
  const p0 = image([0, 0]);
  const guided = await computeGuidedIG({ forward: product, input: p, baseline: p0, target: F0 }, { steps: 100, fraction: 0.25, maxDist: 1 });
  const [a0, a1] = await values(guided.attributions);
  close(a0!, 1.1, 0.03, 'guided x0');
  close(a1!, 0, 0.03, 'guided x1');
  close(a0! + a1!, 1.1, 0.03, 'guided completeness');
  // Bounded (maxDist 0.02) stays near the straight line: close to IG's split.
  const bounded = await values((await computeGuidedIG({ forward: product, input: p, baseline: p0, target: F0 }, { steps: 100, fraction: 0.25, maxDist: 0.02 })).attributions);
  const ig = await computeIntegratedGradients({ forward: product, input: p, baselines: [p0], target: F0 }, { method: 'gausslegendre', steps: 8, batchSize: 8 });
  const igv = await values(ig.attributions);
  close(igv[0]!, 0.6, 1e-4, 'IG x0');
  close(igv[1]!, 0.5, 1e-4, 'IG x1');
  close(bounded[0]!, 0.6, 0.05, 'bounded guided x0');
  close(bounded[1]!, 0.5, 0.05, 'bounded guided x1');
  tf.dispose([p, p0]);
  assert.equal(tf.memory().numTensors, before);
});

/** emotion_64_gray on doberman.png ([0,1]): its forward, the input, a black baseline and the top class. */
test('blur IG on a real model (emotion_64_gray) keeps completeness against F(x) − F(blur(x, σmax))', async () => {
  const model = await loadModel(fixture('models', 'emotion_64_gray'));
  try {
    const { forward, x, black, target } = await prepareDoberman(model);
    const before = tf.memory().numTensors;
    const blur = await computeBlurIG({ forward, input: x, target }, { maxSigma: 16, steps: 64, batchSize: 16 });
    blur.attributions.dispose();
    assert.ok(!blur.completeness.isDeltaNegligible);
    assert.ok(blur.completeness.relativeError < 0.05, `blur IG relative error ${blur.completeness.relativeError}`);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, black]);
  } finally {
    model.dispose();
  }
});

test('guided IG on a smooth non-separable F = sigmoid(4 w·x): completeness error shrinks with steps', async () => {
  const n = 200;
  const w = tf.tensor2d(Array.from({ length: n }, (_, i) => Math.sin(i * 1.7)), [n, 1]);
  const f: ForwardFn = (t) => tf.sigmoid(tf.mul(tf.matMul(flat(t), w), 4)) as tf.Tensor2D;
  const x = image(Array.from({ length: n }, (_, i) => Math.cos(i * 0.3)));
  const b = image(new Array<number>(n).fill(0));
  const before = tf.memory().numTensors;
  const errors: number[] = [];
  for (const steps of [50, 800]) {
    const g = await computeGuidedIG({ forward: f, input: x, baseline: b, target: F0 }, { steps, fraction: 0.25, maxDist: 0.02 });
    g.attributions.dispose();
    errors.push(g.completeness.relativeError);
    // Trapezoid: the walk's start and each step's end.
    assert.equal(g.gradientEvaluations, steps + 1);
  }
  assert.ok(errors[1]! < 0.005 && errors[1]! < errors[0]!, `relative errors ${errors.join(', ')}`);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([w, x, b]);
});

test('expected-gradient baselines: K distinct image files, the same for the same seed, E_BASELINE when too few', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'igx-bdir-'));
  for (const name of ['a.jpg', 'b.png', 'c.webp', 'd.jpeg', 'notes.txt']) writeFileSync(join(dir, name), 'x');
  const one = await pickBaselineFiles(dir, 3, 42);
  assert.equal(one.length, 3);
  assert.equal(new Set(one).size, 3);
  assert.ok(one.every((p) => !p.endsWith('.txt')));
  assert.deepEqual(await pickBaselineFiles(dir, 3, 42), one);
  const seeds = await Promise.all([1, 2, 3, 4, 5].map((s) => pickBaselineFiles(dir, 2, s)));
  assert.ok(new Set(seeds.map((s) => s.join())).size > 1, 'the seed changes the draw');
  await assert.rejects(pickBaselineFiles(dir, 5, 0), { code: 'E_BASELINE' });
  await assert.rejects(pickBaselineFiles(join(dir, 'missing'), 1, 0), { code: 'E_BASELINE' });
});
