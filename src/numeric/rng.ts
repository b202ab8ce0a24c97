/**
 * A small seeded PRNG for the random baselines, so that `--seed N` gives byte-identical baselines on
 * every machine and backend. mulberry32: 32-bit state, period 2³², fast, and good enough for noise
 * images (not for cryptography).
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal N(0, 1), by the Box–Muller transform. */
  normal(): number;
}

/**
 * `seed` is any safe integer (negative allowed). Its high 32 bits are folded into the low ones, so
 * seeds that differ only above bit 31 still give different streams.
 */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`RNG seed must be a safe integer, got ${seed}`);
  }
  const high = Math.floor(seed / 0x1_0000_0000) | 0;
  let state = ((seed >>> 0) ^ Math.imul(high, 0x9e3779b9)) >>> 0;
  let spare: number | undefined;

  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };

  const normal = (): number => {
    if (spare !== undefined) {
      const z = spare;
      spare = undefined;
      return z;
    }
    // 1 - next() is in (0, 1], so the log is finite.
    const u1 = 1 - next();
    const u2 = next();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };

  return { next, normal };
}
