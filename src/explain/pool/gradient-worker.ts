/**
 * A pool worker: its own tfjs, backend (its own wasm instance and heap) and model copy. It computes the
 * weighted gradient sum of one batch of interpolation points at a time with the same function the
 * main thread would use (computeWeightedGradientSum), so a batch's bits do not depend on where it ran.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { buildGradientOfSum, computeWeightedGradientSum } from '../../attribution/integrated-gradients.js';
import { loadExplainModel, type ExplainModel } from '../index.js';
import { serializeError, type FromWorker, type ToWorker, type WorkerInit } from './messages.js';

interface ImageState {
  input: tf.Tensor4D;
  baselines: tf.Tensor4D[];
  gradOfSum: (x: tf.Tensor4D) => tf.Tensor4D;
}

const port = parentPort;
if (port === null) throw new Error('gradient-worker.ts runs as a worker thread only');
const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

let loaded: ExplainModel;
try {
  loaded = await loadExplainModel((workerData as WorkerInit).config);
  post({ type: 'ready', backend: loaded.backend });
} catch (err) {
  post({ type: 'init-error', error: serializeError(err) });
  process.exit(1);
}

const images = new Map<number, ImageState>();

function release(imageId: number): void {
  const state = images.get(imageId);
  if (state === undefined) return;
  images.delete(imageId);
  tf.dispose([state.input, ...state.baselines]);
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'image': {
      release(message.imageId);
      images.set(message.imageId, {
        input: tf.tensor4d(message.input, message.shape),
        baselines: message.baselines.map((b) => tf.tensor4d(b, message.shape)),
        gradOfSum: buildGradientOfSum(loaded.forward.forward, message.target),
      });
      break;
    }
    case 'sum': {
      try {
        const state = images.get(message.imageId);
        const baseline = state?.baselines[message.baselineIndex];
        if (state === undefined || baseline === undefined) throw new Error(`image ${message.imageId} baseline ${message.baselineIndex} was never sent`);
        const sum = computeWeightedGradientSum(state.gradOfSum, state.input, baseline, message.alphas, message.weights);
        let data: Float32Array;
        try {
          // A copy: on the cpu backend dataSync hands out the tensor's own buffer.
          data = (sum.dataSync() as Float32Array).slice();
        } finally {
          sum.dispose();
        }
        post({ type: 'sum', taskId: message.taskId, data }, [data.buffer as ArrayBuffer]);
      } catch (err) {
        post({ type: 'error', taskId: message.taskId, error: serializeError(err) });
      }
      break;
    }
    case 'release':
      release(message.imageId);
      break;
  }
});
