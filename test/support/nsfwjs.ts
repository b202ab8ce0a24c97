/**
 * nsfwjs 4.4.0's Keras models (fixtures/models/nsfwjs_*): run through the built CLI and through the
 * library, and the checks both share. nsfwjs's README: a plain photo is "Neutral".
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseExplainFlags } from '../../src/config/explain-config.js';
import { closeExplainSession, explainImage, openExplainSession } from '../../src/explain/index.js';
import { ReportSchema, type Report } from '../../src/report/schema.js';
import { fixture, IGX_BIN, ROOT } from './paths.js';

export const NSFW_LABELS = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'igx-nsfwjs-'));

/** `igx explain PHOTOS --model fixtures/models/MODEL --json` at default settings; the reports as written. */
export function runExplainCli(options: { model: string; photos: string[] }): { status: number | null; stderr: string; reports: Report[] } {
  const out = tempDir();
  const args = [IGX_BIN, 'explain', ...options.photos.map((p) => fixture('images', p)), '--model', fixture('models', options.model), '--out', out, '--json'];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const rows = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { files?: { report: string } });
  const reports = rows.flatMap((row) => (row.files ? [ReportSchema.parse(JSON.parse(readFileSync(row.files.report, 'utf8')))] : []));
  return { status: r.status, stderr: r.stderr, reports };
}

/** One photo through the library in this process; `leakedTensors` counts what the explain left behind. */
export async function explainInProcess(options: { model: string; photo: string }): Promise<{ report: Report; leakedTensors: number }> {
  const session = await openExplainSession(parseExplainFlags({ backend: 'wasm', model: fixture('models', options.model), out: tempDir() }));
  try {
    const before = tf.memory().numTensors;
    const { report } = await explainImage(session, fixture('images', options.photo));
    return { report, leakedTensors: tf.memory().numTensors - before };
  } finally {
    closeExplainSession(session);
  }
}

/** The sidecar's preprocessing (x/255, stretched), the top class Neutral, completeness within 5%. */
export function assertNeutralWithCompleteness(report: Report, inputSize: number): void {
  const what = `${report.image.path}: ${report.target.label} ${report.target.score}, completeness ${JSON.stringify(report.completeness)}`;
  assert.deepEqual(report.model.inputShape, [inputSize, inputSize, 3], what);
  assert.deepEqual(report.preprocess, { mean: [0, 0, 0], std: [255, 255, 255], resize: 'fill' }, what);
  assert.equal(report.target.index, report.prediction.index, what);
  assert.equal(report.target.label, 'Neutral', what);
  assert.equal(NSFW_LABELS[report.target.index], 'Neutral', what);
  const rel = report.completeness.relativeError;
  assert.ok(rel !== null && rel <= 0.05, what);
  assert.equal(report.completeness.isWithinTolerance, true, what);
}
