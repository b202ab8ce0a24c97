import * as tf from '@tensorflow/tfjs-core';
import type { ForwardFn, Target } from '../../src/attribution/types.js';
import { computePreprocessed, resolvePreprocess } from '../../src/image/preprocess.js';
import { readImage } from '../../src/image/read-image.js';
import type { LoadedModel } from '../../src/model/types.js';
import { fixture } from './paths.js';

/** doberman.png as `model` sees it ([0,1]), a black baseline, and the model's top class there as the target. */
export async function prepareDoberman(model: LoadedModel): Promise<{ forward: ForwardFn; x: tf.Tensor4D; black: tf.Tensor4D; target: Target }> {
  const forward = model.buildForward().forward;
  const [h, w, c] = model.inputShape;
  const img = await readImage(fixture('images', 'doberman.png'), { height: h, width: w, channels: c as 1, resize: 'cover' });
  const x = tf.tensor4d(computePreprocessed(img.pixels, c, resolvePreprocess('[0,1]', c)), [1, h, w, c]);
  const black = tf.zeros([1, h, w, c]) as tf.Tensor4D;
  const scores = tf.tidy(() => Array.from(forward(x).dataSync()));
  return { forward, x, black, target: { kind: 'index', index: scores.indexOf(Math.max(...scores)) } };
}

