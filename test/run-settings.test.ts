/**
 * One definition of what defines a run (config/run-settings.ts): the config hash and the drift guard
 * derive from it, and drift refuses runs that differ in any setting that changes attributions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { main } from '../src/cli/main.js';
import { computeConfigHash } from '../src/config/config-hash.js';
import { parseExplainFlags } from '../src/config/explain-config.js';
import { HASHED_SETTINGS, RUN_SETTINGS, settingsWithRole, type RunSetting } from '../src/config/run-settings.js';
import { GUARD, GUARDED_FIELDS } from '../src/drift/config-guard.js';
import { closeExplainSession, explainImage, openExplainSession } from '../src/explain/index.js';
import { fixture } from './support/paths.js';

const made: string[] = [];
const tmp = (tag: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `igx-settings-${tag}-`));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('the run settings table', () => {
  it('every setting that changes attributions is guarded by drift, by exactly one field', () => {
    const guarded = GUARDED_FIELDS.flatMap((f) => [...GUARD[f].settings] as RunSetting[]);
    assert.equal(new Set(guarded).size, guarded.length, `a setting is guarded twice: ${guarded.join(', ')}`);
    assert.deepEqual([...guarded].sort(), [...settingsWithRole('attribution')].sort());
  });

  it('the hash covers every setting but execution ones, which are exactly those that cannot change results', () => {
    assert.deepEqual(
      [...settingsWithRole('execution')].sort(),
      ['allowEmpty', 'backend', 'batchSize', 'failOnCompleteness', 'html', 'maxMemoryBytes', 'out', 'workers'],
    );
    const notHashed = (Object.keys(RUN_SETTINGS) as RunSetting[]).filter((k) => !HASHED_SETTINGS.includes(k));
    assert.deepEqual(notHashed.sort(), [...settingsWithRole('execution')].sort());
  });

  it('execution settings leave the config hash alone; attribution, sampling and rendering ones change it', () => {
    const sha = 'ab'.repeat(32);
    const base = computeConfigHash(parseExplainFlags({}), sha);
    // (--html is left out: it turns --panel on, which the gallery shows.)
    const same = { workers: '1', backend: 'cpu', out: '/elsewhere', batchSize: '3', maxMemory: '1GB', failOnCompleteness: true };
    assert.equal(computeConfigHash(parseExplainFlags(same), sha), base);
    const changes = { path: 'guided', smooth: '2', layer: 'conv_pw_13', steps: '8', baseline: ['white'], outputSpace: 'logits', seed: '5', polarity: 'all', panel: true, maxPixels: '99' };
    for (const [flag, value] of Object.entries(changes)) {
      assert.notEqual(computeConfigHash(parseExplainFlags({ [flag]: value }), sha), base, flag);
    }
  });
});

const silent = (): { stdout: Writable; stderr: Writable; env: NodeJS.ProcessEnv } => ({
  stdout: new Writable({ write: (_c, _e, done) => done() }),
  stderr: new Writable({ write: (_c, _e, done) => done() }),
  env: { NO_COLOR: '1' },
});

const IMAGE = fixture('images', 'cat.jpg');

/** A run through the CLI: it writes igx-run.json, so the guard reads the settings as given. */
async function cliRun(flags: string[]): Promise<string> {
  const out = tmp('run');
  const code = await main(['node', 'igx', 'explain', IMAGE, '--steps', '4', '--backend', 'wasm', '--workers', '1', '--quiet', '--out', out, ...flags], silent());
  assert.equal(code, 0, flags.join(' '));
  return out;
}

/** A run through the library: reports only, no igx-run.json, so the guard reads the reports. */
async function reportsOnlyRun(flags: Record<string, string | string[]>): Promise<string> {
  const out = tmp('run');
  const session = await openExplainSession(parseExplainFlags({ backend: 'wasm', out, steps: '4', ...flags }));
  try {
    await explainImage(session, IMAGE);
  } finally {
    closeExplainSession(session);
  }
  return out;
}

async function drift(baseline: string, current: string): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const io = { ...silent(), stderr: new Writable({ write: (chunk, _e, done) => ((stderr += String(chunk)), done()) }) };
  const code = await main(['node', 'igx', 'drift', baseline, current, '--out', tmp('drift')], io);
  return { code, stderr };
}

describe('igx drift refuses runs explained differently (E_DRIFT_CONFIG, exit 2, naming the setting)', () => {
  const runs: Record<string, string> = {};
  before(async () => {
    runs.cli = await cliRun([]);
    runs.reports = await reportsOnlyRun({});
    runs.blur = await cliRun(['--path', 'blur']);
  });

  const cases: { name: string; field: string; run: () => Promise<string>; against: 'cli' | 'reports' | 'blur' }[] = [
    { name: '--path guided', field: 'path', run: () => cliRun(['--path', 'guided']), against: 'cli' },
    { name: '--path guided (reports only)', field: 'path', run: () => reportsOnlyRun({ path: 'guided' }), against: 'reports' },
    { name: '--smooth 2', field: 'smoothing', run: () => cliRun(['--smooth', '2']), against: 'cli' },
    { name: '--smooth 2 (reports only)', field: 'smoothing', run: () => reportsOnlyRun({ smooth: '2' }), against: 'reports' },
    { name: '--layer conv_pw_13', field: 'layer', run: () => cliRun(['--layer', 'conv_pw_13']), against: 'cli' },
    { name: '--path blur --max-sigma 20', field: 'max sigma', run: () => cliRun(['--path', 'blur', '--max-sigma', '20']), against: 'blur' },
    { name: '--baseline white', field: 'baselines', run: () => cliRun(['--baseline', 'white']), against: 'cli' },
    { name: '--output-space logits', field: 'output space', run: () => reportsOnlyRun({ outputSpace: 'logits' }), against: 'reports' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await drift(runs[c.against] as string, await c.run());
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /\[E_DRIFT_CONFIG\]/);
      assert.match(r.stderr, new RegExp(`(\\): |; )${c.field}: `), r.stderr);
    });
  }

  it('the same settings with other workers pass the guard', async () => {
    const r = await drift(runs.cli as string, await cliRun(['--workers', '2']));
    assert.equal(r.code, 0, r.stderr);
  });
});
