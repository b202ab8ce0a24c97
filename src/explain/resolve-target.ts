import type { Target } from '../attribution/types.js';
import { IgxError } from '../errors.js';

/**
 * The class a label names: the whole label ("tabby, tabby cat"), else one of its comma-separated
 * synonyms ("tabby", "carpenter's kit"), case-insensitively. A name two classes share ("crane" is both
 * 134 and 517) is refused with both indices, not guessed.
 */
function findLabel(labels: string[], text: string): number | undefined {
  const wanted = text.trim().toLowerCase();
  const whole = labels.flatMap((l, i) => (l.toLowerCase() === wanted ? [i] : []));
  const matches = whole.length > 0 ? whole : labels.flatMap((l, i) => (l.toLowerCase().split(/,\s*/).includes(wanted) ? [i] : []));
  if (matches.length > 1) {
    throw new IgxError('E_TARGET', `--target: ${JSON.stringify(text.trim())} names ${matches.length} classes (${matches.map((i) => `${i} "${labels[i]}"`).join(', ')}); give the index`);
  }
  return matches[0];
}

/** --target text → the index (or pair) F reads: top, a class index, a label, or A-B. */
export function resolveTarget(text: string, scores: number[], labels: string[] | undefined): { target: Target; rule: string } {
  const n = scores.length;
  const one = (s: string): number | undefined => {
    if (/^\d+$/.test(s)) return Number(s) < n ? Number(s) : undefined;
    return labels ? findLabel(labels, s) : undefined;
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
