import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { computeIntegratedGradients } from '../src/attribution/integrated-gradients.js';
import { computeCoarsening } from '../src/attribution/quadrature.js';
import type { Method } from '../src/attribution/types.js';
import { parseExplainFlags } from '../src/config/explain-config.js';
import { closeExplainSession, openExplainSession } from '../src/explain/index.js';
import { prepareImage } from '../src/explain/prepare-image.js';
import { ReportSchema } from '../src/report/schema.js';
import { fixture, IGX_BIN, ROOT } from './support/paths.js';

// The map's own error estimate (issue 18): ‖A_n − A_coarser‖₁ / ‖A_n‖₁ against the true per-pixel error.
const outDir = (): string => mkdtempSync(join(tmpdir(), 'igx-convergence-'));
const l1 = (a: Float32Array): number => a.reduce((s, v) => s + Math.abs(v), 0);
const l1Diff = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + Math.abs(v - (b[i] ?? 0)), 0);

test('nested rules nest: the coarser rule refined once is the rule asked for; Gauss–Legendre has none', () => {
  assert.equal(computeCoarsening('riemann-trapezoid', 65), 33);
  assert.equal(computeCoarsening('riemann-trapezoid', 64), undefined);
  assert.equal(computeCoarsening('riemann-middle', 48), 16);
  assert.equal(computeCoarsening('riemann-left', 32), 16);
  assert.equal(computeCoarsening('riemann-right', 7), undefined);
  assert.equal(computeCoarsening('gausslegendre', 64), undefined);
});

test('the estimate on the default model (mountain.jpg): never under the true per-pixel error by 2×, never over it by 4×, shrinking with n', async () => {
  const session = await openExplainSession(parseExplainFlags({ backend: 'wasm', out: outDir() }));
  const prepared = await prepareImage(session, fixture('images', 'mountain.jpg'));
  const input = tf.tensor4d(prepared.input, prepared.shape);
  const baseline = tf.tensor4d(prepared.baselineInputs[0] as Float32Array, prepared.shape);
  try {
    const forward = session.forward.forward;
    const scores = tf.tidy(() => Array.from(forward(input).dataSync()));
    const problem = { forward, input, baselines: [baseline], target: { kind: 'index', index: scores.indexOf(Math.max(...scores)) } as const };
    const before = tf.memory().numTensors;
    const map = async (method: Method, steps: number): Promise<{ a: Float32Array; estimate: number | null; perBaseline: number | null }> => {
      const r = await computeIntegratedGradients(problem, { method, steps, batchSize: session.batchSize });
      const a = (await r.attributions.data()) as Float32Array;
      r.attributions.dispose();
      return { a, estimate: r.estimatedError, perBaseline: r.perBaseline[0]?.estimatedError ?? null };
    };
    const reference = await map('riemann-trapezoid', 513);
    const estimates: number[] = [];
    for (const n of [17, 33, 65]) {
      const m = await map('riemann-trapezoid', n);
      const trueError = l1Diff(m.a, reference.a) / l1(reference.a);
      assert.ok(m.estimate !== null, `n ${n}: an estimate`);
      assert.equal(m.estimate, m.perBaseline, 'one baseline: the mean map is its map');
      assert.ok(m.estimate >= trueError / 2 && m.estimate <= 4 * trueError, `n ${n}: estimate ${m.estimate} against true ${trueError}`);
      estimates.push(m.estimate);
    }
    assert.ok(estimates[0]! > estimates[1]! && estimates[1]! > estimates[2]!, `shrinking: ${estimates.join(', ')}`);
    assert.equal((await map('gausslegendre', 32)).estimate, null, 'a single Gauss–Legendre rule has no coarser level');
    assert.equal(tf.memory().numTensors, before);
  } finally {
    tf.dispose([input, baseline]);
    closeExplainSession(session);
  }
});

test('--map-tolerance: adaptive refines until the estimate holds; a fixed rule above it warns, and --fail-on-completeness exits 1', () => {
  const run = (args: string[]) => {
    const out = outDir();
    const r = spawnSync(process.execPath, [IGX_BIN, 'explain', fixture('images', 'mountain.jpg'), '--out', out, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    return { ...r, report: () => ReportSchema.parse(JSON.parse(readFileSync(join(out, 'mountain.ig.json'), 'utf8'))) };
  };
  const adaptive = run(['--method', 'riemann-trapezoid', '--map-tolerance', '0.03']);
  assert.equal(adaptive.status, 0, adaptive.stderr);
  const a = adaptive.report();
  assert.deepEqual(a.adaptive && { mapTolerance: a.adaptive.mapTolerance, isConverged: a.adaptive.isConverged }, { mapTolerance: 0.03, isConverged: true });
  assert.ok(a.convergence.estimatedError !== null && a.convergence.estimatedError <= 0.03, JSON.stringify(a.convergence));
  assert.equal(a.convergence.isWithinTolerance, true);
  // 50 points, then 99 and 197 (the trapezoid nests): the first estimate is at 99.
  assert.ok(a.steps >= 99, `steps ${a.steps}`);

  const fixed = run(['--method', 'riemann-trapezoid', '--steps', '17', '--fail-on-completeness']);
  assert.equal(fixed.status, 1, fixed.stderr);
  const f = fixed.report();
  assert.ok(f.convergence.estimatedError !== null && f.convergence.estimatedError > 0.05);
  assert.equal(f.convergence.isWithinTolerance, false);
  assert.match(fixed.stderr, /warning .*mountain\.jpg: the map is not converged: its estimated per-pixel error 0\.\d{4} is above 0\.05/);
  assert.match(fixed.stderr, /1 image\(s\) whose map's estimated error is above the map tolerance 0\.05 \[E_COMPLETENESS\]/);
});
