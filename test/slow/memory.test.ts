import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { parseExplainFlags } from '../../src/config/explain-config.js';
import { openExplainPool } from '../../src/explain/pool/explain-pool.js';
import { fixture } from '../support/paths.js';

const PHOTOS = ['black_swan.jpg', 'cat.jpg', 'coffee_mug.jpg', 'dog.jpg', 'elephant.jpg', 'mountain.jpg', 'pizza.jpg', 'tabby_cat_224.jpg', 'doberman.png'];
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

test('RSS stays flat over a long run: 2 workers, 72 images, 2 in flight; peak within 10% of the peak after 24', async () => {
  const pool = await openExplainPool(parseExplainFlags({ backend: 'wasm', out: mkdtempSync(join(tmpdir(), 'igx-memory-')), steps: '8' }), { workers: 2 });
  try {
    assert.equal(pool.info.workers, 2);
    const tensors = tf.memory().numTensors;
    const total = 72;
    let next = 0;
    let done = 0;
    let peakAfterWarmup = 0;
    let rssAfterWarmup = 0;
    const lane = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        // Distinct output names: every image writes its own files, as in a batch run.
        const { report } = await pool.explainImage(fixture('images', PHOTOS[i % PHOTOS.length] as string), { outputStem: `image-${i}` });
        assert.equal(report.steps, 8);
        done += 1;
        if (done === 24) {
          peakAfterWarmup = peakRss();
          rssAfterWarmup = process.memoryUsage().rss;
        }
      }
    };
    await Promise.all(Array.from({ length: pool.concurrency }, lane));
    const peakEnd = peakRss();
    const rssEnd = process.memoryUsage().rss;
    const mib = (b: number): string => `${Math.round(b / 1024 ** 2)} MiB`;
    assert.ok(peakEnd <= 1.1 * peakAfterWarmup, `peak RSS grew from ${mib(peakAfterWarmup)} to ${mib(peakEnd)}`);
    assert.ok(rssEnd <= 1.1 * rssAfterWarmup, `RSS grew from ${mib(rssAfterWarmup)} to ${mib(rssEnd)}`);
    // And bounded by what the budget planned: the main thread's session plus two workers' batches.
    const planned = pool.session.memory.bytesPerWorker * 3 + 512 * 1024 ** 2;
    assert.ok(peakEnd <= planned, `peak ${mib(peakEnd)} above the planned ${mib(planned)}`);
    assert.equal(tf.memory().numTensors, tensors, 'no tensors left on the main thread');
  } finally {
    await pool.close();
  }
});
