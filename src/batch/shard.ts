import { createHash } from 'node:crypto';
import { IgxError } from '../errors.js';

export interface Shard {
  /** 1-based, as users write it: --shard 2/4 */
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    throw new IgxError('E_FLAG', `--shard: expected I/N with 1 ≤ I ≤ N, e.g. 2/4, received ${JSON.stringify(text)}`);
  }
  return { index, count };
}

/**
 * Which shard owns an input: a hash of its path relative to the run root, so every machine that is given
 * the same inputs agrees without talking to the others, and adding files moves no other file.
 */
export function computeShardIndex(relPath: string, count: number): number {
  const digest = createHash('sha256').update(relPath).digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

export const isInShard = (relPath: string, shard: Shard | undefined): boolean =>
  shard === undefined || computeShardIndex(relPath, shard.count) === shard.index;
