/**
 * Checks an ONNX fixture (fixtures/onnx/<name>: model.onnx, logits.npy, grad_top*.npy, reference.json,
 * and the shared ../input.npy) through loadModel against PyTorch's references. Shared by
 * test/onnx.test.ts and test/slow/onnx-architectures.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadModel } from '../../src/model/load-model.js';
import { decodeNpy } from '../../src/report/npy.js';
import { fixture } from './paths.js';

export const ONNX_FIXTURES = fixture('onnx');

interface Reference {
  target: number;
  float32_vs_float64: { grad_top: { norm_rel: number }; grad_top_half: { norm_rel: number } };
}

/** max |a − b| / max |b|. */
export function maxRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return err / scale;
}

/** ‖a − b‖ / ‖b‖. */
export function l2Relative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += ((a[i] as number) - (b[i] as number)) ** 2;
    den += (b[i] as number) ** 2;
  }
  return Math.sqrt(num / den);
}

export async function readNpy(path: string): Promise<{ data: Float32Array; shape: number[] }> {
  const a = decodeNpy(await readFile(path));
  return { data: a.data as Float32Array, shape: [...a.shape] };
}

export interface OnnxCheck {
  logitsMaxRel: number;
  /** ‖∇ − ∇_torch‖/‖∇_torch‖ of the target logit at the input and at 0.5·input (NaN where no .npy). */
  gradRel: number;
  gradHalfRel: number;
  /** What float32 allows for each: max(1e-4, 3 × PyTorch's own float32-vs-float64 distance). */
  gradTol: number;
  gradHalfTol: number;
  /** The two examples run as one batch of 2 vs one at a time: max |Δ| / max |logit|. */
  batchMaxRel: number;
  tensorsLeaked: number;
}

/**
 * Loads fixtures/onnx/<name> on the current backend, runs the NHWC input, and compares. Float32 bound:
 * a ReLU/max-pool network's input gradient is discontinuous, and a unit within rounding of a kink
 * flips; the fixture script measured how far PyTorch's own float32 gradient lies from float64, and
 * two float32 implementations may lie up to about twice that apart (three times leaves room).
 */
export async function checkOnnxFixture(name: string): Promise<OnnxCheck> {
  const dir = join(ONNX_FIXTURES, name);
  const ref = JSON.parse(await readFile(join(dir, 'reference.json'), 'utf8')) as Reference;
  const input = await readNpy(join(ONNX_FIXTURES, 'input.npy'));
  const logits = await readNpy(join(dir, 'logits.npy'));
  const before = tf.memory().numTensors;
  const model = await loadModel(dir);
  const f = model.buildForward().forward;
  const target = ref.target;
  const grads = (scale: number): Float32Array =>
    tf.tidy(() => {
      const x = tf.mul(tf.transpose(tf.tensor4d(input.data, input.shape as [number, number, number, number]), [0, 2, 3, 1]), scale) as tf.Tensor4D;
      const g = tf.grad((z: tf.Tensor) => tf.sum(tf.slice(f(z as tf.Tensor4D), [0, target], [1, 1])))(x);
      return tf.transpose(g, [0, 3, 1, 2]).dataSync() as Float32Array; // back to NCHW
    });
  const { y, batchMaxRel } = tf.tidy(() => {
    const x = tf.transpose(tf.tensor4d(input.data, input.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D;
    const one = f(x).dataSync();
    const both = f(tf.concat([x, tf.mul(x, 0.5)]) as tf.Tensor4D);
    const first = tf.slice(both, [0, 0], [1, -1]).dataSync();
    return { y: one, batchMaxRel: maxRelative(first, one) };
  });
  const g = grads(1);
  const gHalf = grads(0.5);
  model.dispose();
  const tensorsLeaked = tf.memory().numTensors - before;
  const compareGrad = async (file: string, mine: Float32Array): Promise<number> =>
    existsSync(join(dir, file)) ? l2Relative(mine, (await readNpy(join(dir, file))).data) : NaN;
  assert.equal(y.length, logits.data.length);
  return {
    logitsMaxRel: maxRelative(y, logits.data),
    gradRel: await compareGrad('grad_top.npy', g),
    gradHalfRel: await compareGrad('grad_top_half.npy', gHalf),
    gradTol: Math.max(1e-4, 3 * ref.float32_vs_float64.grad_top.norm_rel),
    gradHalfTol: Math.max(1e-4, 3 * ref.float32_vs_float64.grad_top_half.norm_rel),
    batchMaxRel,
    tensorsLeaked,
  };
}

/** The fixture's checks as assertions (logits ≤ 1e-4 of the largest; gradients within their float32 bound). */
export function assertOnnxCheck(name: string, c: OnnxCheck, options: { gradTol?: number } = {}): void {
  const show = JSON.stringify(c);
  assert.ok(c.logitsMaxRel <= 1e-4, `${name}: logits ${show}`);
  assert.ok(c.batchMaxRel <= 1e-5, `${name}: batch of 2 ${show}`);
  if (!Number.isNaN(c.gradRel)) assert.ok(c.gradRel <= (options.gradTol ?? c.gradTol), `${name}: gradient at the input ${show}`);
  if (!Number.isNaN(c.gradHalfRel)) assert.ok(c.gradHalfRel <= c.gradHalfTol, `${name}: gradient at 0.5·input ${show}`);
  assert.equal(c.tensorsLeaked, 0, `${name}: tensors left`);
}
