import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManifestSchema, type Manifest } from '../../src/report/manifest.js';
import { fixture, IGX_BIN, ROOT } from './paths.js';

// A small RGB model keeps batch runs fast: age_64 (64×64×3, one regression output).
export const MODEL = ['--model', fixture('models', 'age_64'), '--preprocess', '[0,1]'];
export const tempDir = (name: string): string => mkdtempSync(join(tmpdir(), `igx-batch-${name}-`));
/** The built CLI, colours off. */
export const igx = (args: string[], cwd = ROOT) => spawnSync(process.execPath, [IGX_BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
export const readManifest = (path: string): Manifest => ManifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
/** The files one image's run writes by default, next to its relative path. */
export const outputsOf = (relPath: string): string[] => {
  const stem = relPath.replace(/\.[^./]+$/, '');
  return [`${stem}.ig.json`, `${stem}.ig.png`, `${stem}.overlay.png`];
};
