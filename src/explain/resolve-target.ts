import type { Target } from '../attribution/types.js';
import { IgxError } from '../errors.js';

/** --target text → the index (or pair) F reads: top, a class index, a label, or A-B. */
export function resolveTarget(text: string, scores: number[], labels: string[] | undefined): { target: Target; rule: string } {
  const n = scores.length;
  const one = (s: string): number | undefined => {
    if (/^\d+$/.test(s)) return Number(s) < n ? Number(s) : undefined;
    const i = labels?.findIndex((l) => l.toLowerCase() === s.trim().toLowerCase()) ?? -1;
    return i >= 0 ? i : undefined;
  };
  if (text === 'top') {
    let best = 0;
    scores.forEach((v, i) => {
      if (v > (scores[best] ?? -Infinity)) best = i;
    });
    return { target: { kind: 'index', index: best }, rule: 'top' };
  }
  const single = one(text);
  if (single !== undefined) return { target: { kind: 'index', index: single }, rule: /^\d+$/.test(text) ? 'index' : 'label' };
  // A-B: labels may hold hyphens themselves, so try every split.
  for (let i = text.indexOf('-'); i > 0; i = text.indexOf('-', i + 1)) {
    const a = one(text.slice(0, i));
    const b = one(text.slice(i + 1));
    if (a !== undefined && b !== undefined) return { target: { kind: 'difference', a, b }, rule: 'difference' };
  }
  throw new IgxError(
    'E_TARGET',
    `--target: expected top, a class index 0..${n - 1}${labels ? ', a label' : ''} or A-B, received ${JSON.stringify(text)}`,
  );
}
