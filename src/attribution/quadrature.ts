import type { Method } from './types.js';

/** Points on the straight path x' + α(x − x′) and the weights that turn gradients there into ∫₀¹ dα. */
export interface Quadrature {
  alphas: number[];
  weights: number[];
}

/**
 * Gauss–Legendre nodes and weights mapped from [−1, 1] to [0, 1]. Newton's method on Pₙ from the
 * Tricomi initial guess; exact for polynomials in α of degree ≤ 2n − 1.
 */
export function computeGaussLegendre(n: number): Quadrature {
  const alphas = new Array<number>(n);
  const weights = new Array<number>(n);
  for (let i = 0; i < Math.ceil(n / 2); i += 1) {
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter += 1) {
      // Three-term recurrence for Pₙ(z) and Pₙ₋₁(z).
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k += 1) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      const pn = n === 1 ? z : p1;
      const pn1 = n === 1 ? 1 : p0;
      dp = (n * (z * pn - pn1)) / (z * z - 1);
      const dz = pn / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-15) break;
    }
    if (n === 1) dp = 1;
    const w = n === 1 ? 2 : 2 / ((1 - z * z) * dp * dp);
    // Map t ∈ [−1, 1] to α = (t + 1) / 2; weights halve. Ascending α order.
    alphas[i] = (1 - z) / 2;
    alphas[n - 1 - i] = (1 + z) / 2;
    weights[i] = w / 2;
    weights[n - 1 - i] = w / 2;
  }
  return { alphas, weights };
}

/**
 * Riemann sums as Captum defines their points. Trapezoid differs from Captum on purpose: Captum gives the
 * n points linspace(0, 1, n) the weights 1/n (ends halved), which sum to (n − 1)/n; igx uses the true
 * trapezoid rule on those points, weights 1/(n − 1) with halved ends, which sum to 1.
 */
export function computeRiemann(method: Exclude<Method, 'gausslegendre'>, n: number): Quadrature {
  if (method === 'riemann-trapezoid') {
    if (n < 2) throw new RangeError('riemann-trapezoid needs at least 2 steps');
    const h = 1 / (n - 1);
    const alphas = Array.from({ length: n }, (_, i) => i * h);
    const weights = alphas.map((_, i) => (i === 0 || i === n - 1 ? h / 2 : h));
    return { alphas, weights };
  }
  const offset = method === 'riemann-left' ? 0 : method === 'riemann-right' ? 1 : 0.5;
  return {
    alphas: Array.from({ length: n }, (_, i) => (i + offset) / n),
    weights: new Array<number>(n).fill(1 / n),
  };
}

export function computeQuadrature(method: Method, steps: number): Quadrature {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a whole number ≥ 1, got ${steps}`);
  return method === 'gausslegendre' ? computeGaussLegendre(steps) : computeRiemann(method, steps);
}

/**
 * One refinement of a rule that reuses the gradients already summed: the new estimate is
 * `keep × old + Σ weights·g(alphas)` over the new points only. Nested rules (left, right, trapezoid by
 * halving h; middle by thirds) reuse; Gauss–Legendre nodes do not nest, so it starts afresh (keep = 0).
 */
export interface Refinement extends Quadrature {
  steps: number;
  keep: number;
}

export function computeRefinement(method: Method, steps: number): Refinement {
  switch (method) {
    case 'gausslegendre': {
      const next = steps * 2;
      return { steps: next, keep: 0, ...computeGaussLegendre(next) };
    }
    case 'riemann-left':
    case 'riemann-right': {
      // Points j/(2n) for left (j even already there) — the new ones are the odd j in both rules.
      const alphas = Array.from({ length: steps }, (_, i) => (2 * i + 1) / (2 * steps));
      return { steps: steps * 2, keep: 0.5, alphas, weights: alphas.map(() => 1 / (2 * steps)) };
    }
    case 'riemann-trapezoid': {
      const intervals = steps - 1;
      const alphas = Array.from({ length: intervals }, (_, i) => (2 * i + 1) / (2 * intervals));
      return { steps: 2 * steps - 1, keep: 0.5, alphas, weights: alphas.map(() => 1 / (2 * intervals)) };
    }
    case 'riemann-middle': {
      // Midpoints of n cells are midpoints of 3n cells too; add the two new ones in each cell.
      const alphas: number[] = [];
      for (let i = 0; i < steps; i += 1) alphas.push((3 * i + 0.5) / (3 * steps), (3 * i + 2.5) / (3 * steps));
      return { steps: steps * 3, keep: 1 / 3, alphas, weights: alphas.map(() => 1 / (3 * steps)) };
    }
  }
}

/**
 * The steps of the nested rule that one refinement (computeRefinement) takes to exactly `steps`: a fixed
 * rule computed as that rule refined once costs nothing more and gives its map an error estimate.
 * Undefined where there is none: Gauss–Legendre, or sizes the rule does not nest at.
 */
export function computeCoarsening(method: Method, steps: number): number | undefined {
  const coarse = method === 'riemann-trapezoid' ? (steps + 1) / 2 : method === 'riemann-middle' ? steps / 3 : method === 'gausslegendre' ? NaN : steps / 2;
  const isNested = Number.isInteger(coarse) && coarse >= (method === 'riemann-trapezoid' ? 2 : 1);
  return isNested && computeRefinement(method, coarse).steps === steps ? coarse : undefined;
}
