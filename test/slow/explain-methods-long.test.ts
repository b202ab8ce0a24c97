import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRAY, runOnDoberman as run } from '../support/explain-doberman.js';

// igx explain with the other paths and visuals, end to end through the built binary.

test('--smooth: SmoothGrad over IG keeps completeness; vargrad says it does not apply', () => {
  // Each noisy copy's IG refines adaptively, as plain IG does.
  const r = run([...GRAY, '--smooth', '4', '--noise', '0.1']);
  assert.equal(r.status, 0, r.stderr);
  const report = r.read();
  assert.deepEqual(report.smoothing, { kind: 'smoothgrad', samples: 4, sigma: 0.1 });
  assert.equal(report.completeness.isApplicable, true);
  assert.ok((report.completeness.relativeError ?? 1) <= 0.05, `completeness ${report.completeness.relativeError}`);
  const v = run([...GRAY, '--smooth', '3', '--smooth-kind', 'vargrad', '--steps', '16']);
  assert.equal(v.status, 0, v.stderr);
  const vr = v.read();
  assert.equal(vr.completeness.isApplicable, false);
  assert.ok(vr.attribution.stats.min >= 0, 'a variance is never negative');
  assert.ok(vr.warnings.some((w) => w.includes('vargrad')));
});

test('--path guided: adaptive by default (worst steps halved until completeness holds); --steps N walks exactly N steps', () => {
  const r = run([...GRAY, '--path', 'guided']);
  assert.equal(r.status, 0, r.stderr);
  const report = r.read();
  assert.equal(report.path.kind, 'guided');
  assert.deepEqual(report.adaptive, { tolerance: 0.05, mapTolerance: null, maxSteps: 2000, isConverged: true });
  assert.ok((report.completeness.relativeError ?? 1) <= 0.05, `completeness ${report.completeness.relativeError}`);
  const fixed = run([...GRAY, '--path', 'guided', '--steps', '32']);
  assert.equal(fixed.status, 0, fixed.stderr);
  const f = fixed.read();
  assert.equal(f.adaptive, null);
  assert.equal(f.steps, 32);
  const c = f.completeness;
  assert.ok(Math.abs(c.absoluteError - Math.abs(c.sum - (c.fx - c.fBaseline))) < 1e-6);
  assert.equal(c.isWithinTolerance, (c.relativeError ?? Infinity) <= c.tolerance);
});
