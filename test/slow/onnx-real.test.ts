/**
 * An ONNX model with real weights, checked against onnxruntime: PaddleOCR's text-line orientation
 * classifier ch_ppocr_mobile_v2.0_cls (fixtures/onnx/ch_ppocr_cls: paddle2onnx, opset 9, labels
 * '0' and '180'). The references come from scripts/make-onnx-real-reference.py (onnxruntime 1.30).
 * onnxruntime does not differentiate, so igx's input gradient is checked against central finite
 * differences of igx's own forward, and Integrated Gradients against completeness measured with
 * onnxruntime's F(x) − F(x′).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { computeIntegratedGradients } from '../../src/attribution/integrated-gradients.js';
import { selectBackend } from '../../src/engine/backend.js';
import { computePreprocessed, readImage, resolvePreprocess } from '../../src/image/index.js';
import { loadModel } from '../../src/model/load-model.js';
import type { LoadedModel } from '../../src/model/types.js';
import { createRng } from '../../src/numeric/rng.js';
import { ONNX_FIXTURES } from '../support/onnx-check.js';

const DIR = join(ONNX_FIXTURES, 'ch_ppocr_cls');

/**
 * Tolerances against onnxruntime. Its own fully optimised session (Conv+BN fused) and its
 * unoptimised one differ by 1.2e-6 in probability and 4.6e-5 in the logit margin (on margins up to
 * 41): that is what float32 leaves open. igx (wasm) measured 2.0e-6 and 7.9e-6·max(1, |margin|),
 * both at the black image; the bounds leave 5× and 12× room for a change of summation order, while
 * a misread op (a HardSigmoid's β, a Clip bound, a BN ε) moves probabilities by 1e-2 and margins by units.
 */
const PROBABILITY_TOL = 1e-5;
const MARGIN_TOL = 1e-4; // × max(1, |margin|)

/**
 * Finite differences: step 3e-3 along unit directions (the input spans [−1, 1]), where float32
 * rounding of F (≈ 1e-5) costs about 2e-3 of the slope and the network's kinks (ReLU, ReLU6,
 * HardSigmoid, max-pool) little. Measured: along ∇F/‖∇F‖ within 0.31% of ‖∇F‖; along random unit
 * directions within 3e-4·‖∇F‖, where a gradient unrelated to F would miss by ≈ ‖∇F‖·√(2/n) ≈ 8.5e-3·‖∇F‖.
 */
const FD_STEP = 3e-3;
const FD_ALONG_GRADIENT_TOL = 0.01; // × ‖∇F‖
const FD_RANDOM_TOL = 1e-3; // × ‖∇F‖
const FD_RANDOM_DIRECTIONS = 4;

/** igx's default for the adaptive rule (`--tolerance`). */
const COMPLETENESS_TOL = 0.05;

interface InputReference {
  file: string;
  sha256: string;
  probabilities: [number, number];
  logit_margin: number;
  probabilities_half: [number, number];
  logit_margin_half: number;
}
interface Reference {
  model: { sha256: string; labels: string[] };
  baseline_black: { probabilities: [number, number]; logit_margin: number };
  inputs: InputReference[];
}

let ref: Reference;
let model: LoadedModel;
/** The reference PNGs as igx reads them, preprocessed with the model's igx.json: [4, 48, 192, 3]. */
let inputs: tf.Tensor4D;

const indexOf = (file: string): number => ref.inputs.findIndex((r) => r.file === file);

before(async () => {
  await selectBackend('wasm');
  ref = JSON.parse(await readFile(join(DIR, 'reference.json'), 'utf8')) as Reference;
  model = await loadModel(DIR);
  const [h, w] = model.inputShape;
  const params = resolvePreprocess(model.sidecar?.preprocess ?? '[-1,1]', 3);
  const pixels = await Promise.all(
    ref.inputs.map(async (r) => {
      const img = await readImage(join(DIR, r.file), { height: h, width: w, channels: 3, resize: model.sidecar?.resize ?? 'fill' });
      assert.equal(img.sha256, r.sha256, `${r.file}: the PNG reference.json was made from`);
      assert.deepEqual([img.source.height, img.source.width], [h, w], `${r.file}: read without resampling`);
      return computePreprocessed(img.pixels, 3, params);
    }),
  );
  const flat = new Float32Array(pixels.length * h * w * 3);
  pixels.forEach((p, i) => flat.set(p, i * p.length));
  inputs = tf.tensor4d(flat, [pixels.length, h, w, 3]);
});

after(() => {
  inputs.dispose();
  model.dispose();
});

/** z0 − z1 per row of [n, 2] logits: log(p0/p1), what a saturated probability no longer shows. */
function margins(logits: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < logits.length; i += 2) out.push((logits[i] as number) - (logits[i + 1] as number));
  return out;
}

const marginError = (mine: number, theirs: number): number => Math.abs(mine - theirs) / Math.max(1, Math.abs(theirs));

/** The image at row `i` of `inputs`, moved a fraction 1 − alpha of the way to the black baseline (−1): [1, 48, 192, 3]. */
const pointOnPath = (i: number, alpha: number): tf.Tensor4D =>
  tf.tidy(() => tf.add(tf.mul(tf.slice(inputs, [i, 0, 0, 0], [1, -1, -1, -1]), alpha), alpha - 1) as tf.Tensor4D);

describe('ONNX with real weights: PaddleOCR ch_ppocr_mobile_v2.0_cls against onnxruntime', () => {
  it('is the file reference.json was made from, read with its igx.json', () => {
    assert.equal(model.format, 'onnx');
    assert.equal(model.sha256, ref.model.sha256);
    assert.deepEqual(model.labels, ref.model.labels);
    assert.deepEqual(model.inputShape, [48, 192, 3]);
  });

  it('probabilities and logit margins agree with onnxruntime at x, 0.5·x and the black baseline', (t) => {
    const before = tf.memory().numTensors;
    const probs = model.buildForward({ outputSpace: 'probabilities' }).forward;
    const logits = model.buildForward({ outputSpace: 'logits' }).forward;
    const [p, z, pHalf, zHalf, pBlack, zBlack, zOneByOne] = tf.tidy(() => {
      const half = tf.mul(inputs, 0.5) as tf.Tensor4D;
      const black = tf.fill([1, 48, 192, 3], -1) as tf.Tensor4D;
      const single = ref.inputs.map((_, i) => logits(tf.slice(inputs, [i, 0, 0, 0], [1, -1, -1, -1])));
      return [probs(inputs), logits(inputs), probs(half), logits(half), probs(black), logits(black), tf.concat(single)].map((y) => y.dataSync());
    }) as Float32Array[];
    assert.equal(tf.memory().numTensors, before, 'tensors left');
    const m = margins(z!);
    const mHalf = margins(zHalf!);
    let probabilityErr = Math.max(...[0, 1].map((c) => Math.abs((pBlack![c] as number) - ref.baseline_black.probabilities[c]!)));
    let marginErr = marginError(margins(zBlack!)[0] as number, ref.baseline_black.logit_margin);
    ref.inputs.forEach((r, i) => {
      for (const c of [0, 1]) {
        probabilityErr = Math.max(probabilityErr, Math.abs((p![2 * i + c] as number) - r.probabilities[c]!), Math.abs((pHalf![2 * i + c] as number) - r.probabilities_half[c]!));
      }
      marginErr = Math.max(marginErr, marginError(m[i] as number, r.logit_margin), marginError(mHalf[i] as number, r.logit_margin_half));
    });
    // A batch of 4 against one image at a time: the open batch runs through Shape → Slice → Concat → Reshape.
    const batchErr = Math.max(...Array.from(z!, (v, k) => Math.abs(v - (zOneByOne![k] as number))));
    t.diagnostic(`probabilities max |Δ| ${probabilityErr.toExponential(2)}; margins max |Δ|/max(1,|m|) ${marginErr.toExponential(2)}; batch vs single ${batchErr.toExponential(2)}; margins ${m.map((v) => v.toFixed(3)).join(', ')}`);
    assert.ok(probabilityErr <= PROBABILITY_TOL, `probabilities: max |Δ| ${probabilityErr}`);
    assert.ok(marginErr <= MARGIN_TOL, `logit margins: max |Δ|/max(1,|m|) ${marginErr}`);
    assert.ok(batchErr <= 1e-5 * Math.max(...Array.from(z!, Math.abs)), `batch of 4 vs one at a time: ${batchErr}`);
  });

  it('turning the text line by 180° turns the predicted class', () => {
    const labels = model.labels ?? [];
    const top = tf.tidy(() => Array.from(tf.argMax(model.buildForward().forward(inputs), 1).dataSync()));
    assert.equal(labels[top[indexOf('text.png')] as number], '0');
    assert.equal(labels[top[indexOf('text_180.png')] as number], '180');
  });

  it('the input gradient of the logit margin agrees with central finite differences', (t) => {
    const before = tf.memory().numTensors;
    const logits = model.buildForward({ outputSpace: 'logits' }).forward;
    // F = z0 − z1 of each image in the batch, summed: [n, h, w, c] → scalar.
    const F = (x: tf.Tensor4D): tf.Scalar =>
      tf.tidy(() => {
        const z = logits(x);
        return tf.sum(tf.sub(tf.slice(z, [0, 0], [-1, 1]), tf.slice(z, [0, 1], [-1, 1])));
      });
    const rng = createRng(20261203);
    const report: string[] = [];
    for (const file of ['text.png', 'cat_band.png']) {
      for (const alpha of [1, 0.5]) {
        const x = pointOnPath(indexOf(file), alpha);
        const { errAlong, errRandom, gNorm } = tf.tidy(() => {
          const g = tf.grad((y: tf.Tensor) => F(y as tf.Tensor4D))(x);
          const norm = tf.norm(g).dataSync()[0] as number;
          const slope = (v: tf.Tensor): { exact: number; fd: number } => {
            const step = tf.mul(v, FD_STEP);
            const fPlus = F(tf.add(x, step) as tf.Tensor4D).dataSync()[0] as number;
            const fMinus = F(tf.sub(x, step) as tf.Tensor4D).dataSync()[0] as number;
            return { exact: tf.sum(tf.mul(g, v)).dataSync()[0] as number, fd: (fPlus - fMinus) / (2 * FD_STEP) };
          };
          const along = slope(tf.div(g, norm));
          let worst = 0;
          for (let d = 0; d < FD_RANDOM_DIRECTIONS; d++) {
            const r = tf.tensor4d(Float32Array.from({ length: x.size }, () => rng.normal()), x.shape);
            const s = slope(tf.div(r, tf.norm(r)));
            worst = Math.max(worst, Math.abs(s.fd - s.exact) / norm);
          }
          return { errAlong: Math.abs(along.fd - along.exact) / norm, errRandom: worst, gNorm: norm };
        });
        x.dispose();
        report.push(`${file} α=${alpha}: ‖∇F‖ ${gNorm.toFixed(2)}, along ∇F ${errAlong.toExponential(1)}, random ${errRandom.toExponential(1)}`);
        assert.ok(gNorm > 0.1, `${file} α=${alpha}: ‖∇F‖ = ${gNorm}`);
        assert.ok(errAlong <= FD_ALONG_GRADIENT_TOL, `${file} α=${alpha}: along ∇F/‖∇F‖, |FD − ‖∇F‖| / ‖∇F‖ = ${errAlong}`);
        assert.ok(errRandom <= FD_RANDOM_TOL, `${file} α=${alpha}: random directions, max |FD − ⟨∇F, v⟩| / ‖∇F‖ = ${errRandom}`);
      }
    }
    t.diagnostic(report.join('; '));
    assert.equal(tf.memory().numTensors, before, 'tensors left');
  });

  it('IG of the logit margin from black is complete within 5% of onnxruntime’s F(x) − F(x′) (adaptive Gauss–Legendre, igx defaults)', async (t) => {
    const before = tf.memory().numTensors;
    const forward = model.buildForward({ outputSpace: 'logits' }).forward;
    const report: string[] = [];
    for (const file of ['text.png', 'text_180.png']) {
      const r0 = ref.inputs[indexOf(file)]!;
      const x = pointOnPath(indexOf(file), 1);
      const baseline = tf.fill([1, 48, 192, 3], -1) as tf.Tensor4D;
      const started = Date.now();
      const r = await computeIntegratedGradients(
        { forward, input: x, baselines: [baseline], target: { kind: 'difference', a: 0, b: 1 } },
        { method: 'gausslegendre', steps: 50, adaptive: { tolerance: COMPLETENESS_TOL, maxSteps: 800 }, batchSize: 16 },
      );
      const durationMs = Date.now() - started;
      r.attributions.dispose();
      tf.dispose([x, baseline]);
      const c = r.completeness;
      // Completeness against the oracle: Σ attributions vs onnxruntime's margin at x minus at black.
      const deltaOrt = r0.logit_margin - ref.baseline_black.logit_margin;
      const errOrt = Math.abs(c.sum - deltaOrt) / Math.abs(deltaOrt);
      report.push(`${file}: ${r.steps} steps, ${durationMs} ms, F(x) ${c.fx.toFixed(3)}, F(x′) ${c.fBaseline.toFixed(4)}, Σ ${c.sum.toFixed(3)}, error ${c.relativeError.toFixed(4)} (vs onnxruntime ${errOrt.toFixed(4)})`);
      assert.ok(marginError(c.fx, r0.logit_margin) <= MARGIN_TOL, `${file}: F(x) ${c.fx} vs onnxruntime ${r0.logit_margin}`);
      assert.ok(marginError(c.fBaseline, ref.baseline_black.logit_margin) <= MARGIN_TOL, `${file}: F(black) ${c.fBaseline} vs ${ref.baseline_black.logit_margin}`);
      assert.ok(!c.isDeltaNegligible);
      assert.ok(r.perBaseline[0]?.isConverged, `${file}: not converged in 800 steps: ${JSON.stringify(c)}`);
      assert.ok(c.relativeError <= COMPLETENESS_TOL, `${file}: ${JSON.stringify(c)}`);
      assert.ok(errOrt <= COMPLETENESS_TOL, `${file}: Σ ${c.sum} vs onnxruntime's Δ ${deltaOrt}`);
    }
    t.diagnostic(report.join('; '));
    assert.equal(tf.memory().numTensors, before, 'tensors left');
  });
});
