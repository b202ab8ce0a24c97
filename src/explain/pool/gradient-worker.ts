/**
 * A pool worker: its own tfjs, backend (its own wasm instance and heap) and model copy. It computes one
 * batch at a time with the same functions the main thread would use (computeWeightedGradientSum for
 * straight-line points, buildPointGradients for given points), so a batch's bits do not depend on
 * where it ran.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { buildGradientOfSum, buildPointGradients, computeWeightedGradientSum } from '../../attribution/integrated-gradients.js';
import { buildLayerForward } from '../../attribution/layer-ig.js';
import type { ForwardFn, PointGradients } from '../../attribution/types.js';
import { loadExplainModel, type ExplainModel } from '../index.js';
import { serializeError, type FromWorker, type ToWorker, type WorkerInit } from './messages.js';

/** An image job holds its input and baselines; a points job only its target. */
type JobState =
  | { kind: 'image'; input: tf.Tensor4D; baselines: tf.Tensor4D[]; gradOfSum: (x: tf.Tensor4D) => tf.Tensor4D }
  | { kind: 'points'; pointGradients: (points: tf.Tensor4D) => PointGradients };

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

const jobs = new Map<number, JobState>();

/** F on the input's points, or on activations of --layer (layer IG): the main thread's definitions. */
function forwardIn(space: 'input' | 'layer' | undefined): ForwardFn {
  if (space !== 'layer') return loaded.forward.forward;
  if (loaded.layerSplit === undefined) throw new Error('layer points sent to a worker without --layer');
  return buildLayerForward(loaded.layerSplit);
}

function release(imageId: number): void {
  const state = jobs.get(imageId);
  if (state === undefined) return;
  jobs.delete(imageId);
  if (state.kind === 'image') tf.dispose([state.input, ...state.baselines]);
}

/** A tensor's values as a buffer of their own (on the cpu backend dataSync hands out the tensor's own), then disposes it. */
function takeData(t: tf.Tensor): Float32Array {
  try {
    return (t.dataSync() as Float32Array).slice();
  } finally {
    t.dispose();
  }
}

function computeSum(message: Extract<ToWorker, { type: 'sum' }>): void {
  const state = jobs.get(message.imageId);
  const baseline = state?.kind === 'image' ? state.baselines[message.baselineIndex] : undefined;
  if (state?.kind !== 'image' || baseline === undefined) throw new Error(`image ${message.imageId} baseline ${message.baselineIndex} was never sent`);
  const data = takeData(computeWeightedGradientSum(state.gradOfSum, { input: state.input, baseline }, message));
  post({ type: 'sum', taskId: message.taskId, data }, [data.buffer as ArrayBuffer]);
}

function computePoints(message: Extract<ToWorker, { type: 'points' }>): void {
  const state = jobs.get(message.imageId);
  if (state?.kind !== 'points') throw new Error(`points job ${message.imageId} was never opened`);
  const points = tf.tensor4d(message.points, message.shape);
  try {
    const { values, grads } = state.pointGradients(points);
    const data = takeData(grads);
    post({ type: 'points', taskId: message.taskId, values, grads: data }, [data.buffer as ArrayBuffer]);
  } finally {
    points.dispose();
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'image':
      release(message.imageId);
      jobs.set(message.imageId, {
        kind: 'image',
        input: tf.tensor4d(message.input, message.shape),
        baselines: message.baselines.map((b) => tf.tensor4d(b, message.shape)),
        gradOfSum: buildGradientOfSum(forwardIn(message.space), message.target),
      });
      break;
    case 'points-job':
      release(message.imageId);
      jobs.set(message.imageId, { kind: 'points', pointGradients: buildPointGradients(loaded.forward.forward, message.target) });
      break;
    case 'sum':
    case 'points':
      try {
        if (message.type === 'sum') computeSum(message);
        else computePoints(message);
      } catch (err) {
        post({ type: 'error', taskId: message.taskId, error: serializeError(err) });
      }
      break;
    case 'release':
      release(message.imageId);
      break;
  }
});
