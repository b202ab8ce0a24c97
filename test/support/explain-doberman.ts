import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReportSchema } from '../../src/report/schema.js';
import { fixture, IGX_BIN, ROOT } from './paths.js';

/** The grayscale emotion model: small and quick, for CLI runs of the other paths and visuals. */
export const GRAY = ['--model', fixture('models', 'emotion_64_gray'), '--preprocess', '[0,1]'];

/** `igx explain doberman.png` through the built binary into a fresh folder; `read()` parses its report. */
export const runOnDoberman = (args: string[]) => {
  const out = mkdtempSync(join(tmpdir(), 'igx-methods-'));
  const r = spawnSync(process.execPath, [IGX_BIN, 'explain', fixture('images', 'doberman.png'), '--out', out, '-q', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const read = () => ReportSchema.parse(JSON.parse(readFileSync(join(out, 'doberman.ig.json'), 'utf8')));
  return { ...r, out, read };
};
