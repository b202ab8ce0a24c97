/** Comparing backends: the relative L2 error of one result against another, and switching backends. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/engine/backend.js';
import { IGX_WASM } from '../../src/engine/igx-wasm.js';

export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num += ((actual[i] as number) - (expected[i] as number)) ** 2;
    den += (expected[i] as number) ** 2;
  }
  assert.ok(den > 0, 'reference gradient is all zeros');
  return Math.sqrt(num / den);
}

export async function use(backend: string): Promise<void> {
  if (backend === IGX_WASM) await selectBackend('wasm');
  else assert.ok(await tf.setBackend(backend), `could not set backend ${backend}`);
}
