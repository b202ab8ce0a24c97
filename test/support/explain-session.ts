import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExplainFlags, type RawExplainFlags } from '../../src/config/explain-config.js';
import { closeExplainSession, openExplainSession } from '../../src/explain/index.js';

export const outDir = (): string => mkdtempSync(join(tmpdir(), 'igx-explain-'));

/** An explain session on the wasm backend with these flags, closed after `fn`. */
export async function withSession<T>(flags: RawExplainFlags, fn: (s: Awaited<ReturnType<typeof openExplainSession>>) => Promise<T>): Promise<T> {
  const session = await openExplainSession(parseExplainFlags({ backend: 'wasm', out: outDir(), ...flags }));
  try {
    return await fn(session);
  } finally {
    closeExplainSession(session);
  }
}
