import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { computeGaussLegendre, computeQuadrature, computeRefinement, computeRiemann } from '../src/attribution/quadrature.js';
import { METHODS } from '../src/attribution/types.js';

const reference = JSON.parse(readFileSync(new URL('../fixtures/reference/analytic_ig_cases.json', import.meta.url), 'utf8'));
const captum = reference['riemann_alphas_n4_from_captum_tests/attr/test_approximation_methods.py'];

const close = (actual: number[], expected: number[], tol = 1e-12): void => {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - (expected[i] as number)) <= tol, `index ${i}: ${a} vs ${expected[i]}`));
};

test('Riemann alphas and step sizes match Captum for n = 4', () => {
  close(computeRiemann('riemann-left', 4).alphas, captum.left);
  close(computeRiemann('riemann-right', 4).alphas, captum.right);
  close(computeRiemann('riemann-middle', 4).alphas, captum.middle);
  close(computeRiemann('riemann-trapezoid', 4).alphas, captum.trapezoid_alphas, 1e-7);
  for (const m of ['riemann-left', 'riemann-right', 'riemann-middle'] as const) close(computeRiemann(m, 4).weights, captum.step_sizes_lrm);
  // Captum's trapezoid weights sum to (n-1)/n; igx's are the true trapezoid rule (sum 1), 4/3 of Captum's.
  close(computeRiemann('riemann-trapezoid', 4).weights, captum.step_sizes_trapezoid.map((s: number) => (s * 4) / 3));
});

test('exact tables for n = 2 and 3', () => {
  close(computeRiemann('riemann-left', 2).alphas, [0, 0.5]);
  close(computeRiemann('riemann-right', 3).alphas, [1 / 3, 2 / 3, 1]);
  close(computeRiemann('riemann-middle', 3).alphas, [1 / 6, 0.5, 5 / 6]);
  close(computeRiemann('riemann-trapezoid', 2).weights, [0.5, 0.5]);
  close(computeRiemann('riemann-trapezoid', 3).weights, [0.25, 0.5, 0.25]);
  // Gauss–Legendre on [0, 1]: nodes (1 ∓ 1/√3)/2 with weights 1/2; n = 3: (1 ∓ √(3/5))/2, 5/18, 8/18.
  close(computeGaussLegendre(2).alphas, [(1 - 1 / Math.sqrt(3)) / 2, (1 + 1 / Math.sqrt(3)) / 2], 1e-14);
  close(computeGaussLegendre(2).weights, [0.5, 0.5], 1e-14);
  close(computeGaussLegendre(3).alphas, [(1 - Math.sqrt(0.6)) / 2, 0.5, (1 + Math.sqrt(0.6)) / 2], 1e-14);
  close(computeGaussLegendre(3).weights, [5 / 18, 8 / 18, 5 / 18], 1e-14);
  close(computeGaussLegendre(4).alphas, [
    (1 - Math.sqrt(3 / 7 + (2 / 7) * Math.sqrt(6 / 5))) / 2,
    (1 - Math.sqrt(3 / 7 - (2 / 7) * Math.sqrt(6 / 5))) / 2,
    (1 + Math.sqrt(3 / 7 - (2 / 7) * Math.sqrt(6 / 5))) / 2,
    (1 + Math.sqrt(3 / 7 + (2 / 7) * Math.sqrt(6 / 5))) / 2,
  ], 1e-14);
});

test('Gauss–Legendre with n points integrates polynomials of degree 2n − 1 exactly', () => {
  for (const n of [1, 2, 3, 4, 5, 8, 16, 50, 200]) {
    const { alphas, weights } = computeGaussLegendre(n);
    for (const degree of [0, 1, 2 * n - 2, 2 * n - 1]) {
      if (degree < 0) continue;
      const integral = alphas.reduce((s, a, i) => s + (weights[i] as number) * a ** degree, 0);
      assert.ok(Math.abs(integral - 1 / (degree + 1)) < 1e-12, `n=${n} degree=${degree}: ${integral}`);
    }
    // and not of degree 2n: the bound is tight (for large n that error falls below double precision)
    if (n > 5) continue;
    const over = alphas.reduce((s, a, i) => s + (weights[i] as number) * a ** (2 * n), 0);
    assert.ok(Math.abs(over - 1 / (2 * n + 1)) > 1e-9, `n=${n} should not be exact at degree ${2 * n}`);
  }
});

test('every rule has weights summing to 1 and points in [0, 1]', () => {
  for (const method of METHODS) {
    for (const n of [2, 7, 50]) {
      const q = computeQuadrature(method, n);
      assert.equal(q.alphas.length, n);
      assert.ok(Math.abs(q.weights.reduce((s, w) => s + w, 0) - 1) < 1e-12, `${method} n=${n}`);
      assert.ok(q.alphas.every((a) => a >= 0 && a <= 1));
    }
  }
});

test('a refinement plus the kept old estimate equals the finer rule', () => {
  const f = (a: number): number => Math.exp(2 * a) * Math.sin(5 * a);
  const apply = (alphas: number[], weights: number[]): number => alphas.reduce((s, a, i) => s + (weights[i] as number) * f(a), 0);
  for (const method of METHODS) {
    const n = 6;
    const coarse = computeQuadrature(method, n);
    const refinement = computeRefinement(method, n);
    const reused = refinement.keep * apply(coarse.alphas, coarse.weights) + apply(refinement.alphas, refinement.weights);
    const fine = computeQuadrature(method, refinement.steps);
    assert.ok(Math.abs(reused - apply(fine.alphas, fine.weights)) < 1e-12, method);
    if (method !== 'gausslegendre') assert.ok(refinement.alphas.length < refinement.steps, `${method} reuses points`);
  }
});

test('bad step counts are refused', () => {
  assert.throws(() => computeQuadrature('gausslegendre', 0), RangeError);
  assert.throws(() => computeQuadrature('riemann-left', 2.5), RangeError);
  assert.throws(() => computeQuadrature('riemann-trapezoid', 1), RangeError);
});
