import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertNeutralWithCompleteness, explainInProcess, runExplainCli } from '../support/nsfwjs.js';

// nsfwjs 4.4.0's MobileNetV2 (Keras 2.2.4 layers model, uint8 weights) at default settings.
// In test/slow with its InceptionV3 (npm run test:slow): 90 s on 2 cores, a real-model check, not a unit test.
const MODEL = 'nsfwjs_mobilenet_v2';

test('nsfwjs MobileNetV2, built CLI: plain photos are Neutral, completeness within 5%', () => {
  const r = runExplainCli({ model: MODEL, photos: ['cat.jpg', 'coffee_mug.jpg'] });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.reports.length, 2, r.stderr);
  for (const report of r.reports) assertNeutralWithCompleteness(report, 224);
});

test('nsfwjs MobileNetV2, library: Neutral, completeness within 5%, no tensor left behind', async () => {
  const { report, leakedTensors } = await explainInProcess({ model: MODEL, photo: 'doberman.png' });
  assertNeutralWithCompleteness(report, 224);
  assert.equal(leakedTensors, 0);
});
