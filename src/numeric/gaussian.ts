/**
 * The Gaussian blur as a matrix on one axis of length n: row i holds exp(−(i − j)²/2σ²) over j in
 * 0..n−1, truncated at 4σ and normalised to sum 1 (so a constant stays constant and edges are not
 * darkened). σ = 0 is the identity; σ → ∞ tends to the mean.
 */
export function buildBlurMatrix(n: number, sigma: number): Float32Array {
  const m = new Float32Array(n * n);
  if (sigma <= 0) {
    for (let i = 0; i < n; i += 1) m[i * n + i] = 1;
    return m;
  }
  const radius = Math.ceil(4 * sigma);
  for (let i = 0; i < n; i += 1) {
    let total = 0;
    const lo = Math.max(0, i - radius);
    const hi = Math.min(n - 1, i + radius);
    for (let j = lo; j <= hi; j += 1) {
      const v = Math.exp(-((i - j) ** 2) / (2 * sigma * sigma));
      m[i * n + j] = v;
      total += v;
    }
    for (let j = lo; j <= hi; j += 1) m[i * n + j] = (m[i * n + j] as number) / total;
  }
  return m;
}
