/** What F may be asked to read (--output-space). */
export const OUTPUT_SPACES = ['probabilities', 'logits'] as const;
export type OutputSpace = (typeof OUTPUT_SPACES)[number];
/** What F reads: an output space, or 'raw' for an output that is no softmax. */
export const READ_SPACES = [...OUTPUT_SPACES, 'raw'] as const;
export type ReadSpace = (typeof READ_SPACES)[number];
