import type * as tf from '@tensorflow/tfjs-core';

/** A result tensor's values, read once; the tensor is disposed whether or not the read succeeds. */
export async function takeValues(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}
