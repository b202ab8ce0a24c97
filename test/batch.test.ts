import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PassThrough } from 'node:stream';
import { computeRunRoot, countInputs, discoverInputs } from '../src/batch/discover-inputs.js';
import { createColours } from '../src/cli/io.js';
import { lockFolder } from '../src/files/folder-lock.js';
import { ReportSchema } from '../src/report/schema.js';
import { plantMixedInputs } from './support/make-inputs.js';
import { fixture,} from './support/paths.js';
import { listFiles } from './support/list-files.js';
import { igx, MODEL, outputsOf, readManifest, tempDir } from './support/batch-cli.js';

test('a folder of mixed good and bad inputs: mirrored outputs, a row per input, exit 1, no half files', async () => {
  const planted = await plantMixedInputs(tempDir('mixed'));
  const out = tempDir('out');
  const r = igx(['explain', planted.root, '--out', out, '--steps', '4', '--json', ...MODEL]);
  assert.equal(r.status, 1, r.stderr);
  // Once (CI, 2026-12-03) this run exited 1 without a manifest; say why if it happens again.
  assert.ok(existsSync(join(out, 'igx-run.json')), `no manifest; stderr: ${r.stderr}`);
  const manifest = readManifest(join(out, 'igx-run.json'));
  assert.equal(manifest.status, 'finished');
  const byPath = new Map(manifest.rows.map((row) => [row.relPath, row]));
  for (const good of planted.good) assert.equal(byPath.get(good)?.status, 'ok', `${good}: ${JSON.stringify(byPath.get(good))}`);
  for (const bad of planted.bad) {
    assert.equal(byPath.get(bad.relPath)?.status, 'failed', bad.relPath);
    assert.equal(byPath.get(bad.relPath)?.error?.code, bad.code, bad.relPath);
  }
  for (const s of planted.skipped) assert.equal(byPath.get(s)?.reason, 'not an image');
  assert.deepEqual(manifest.counts, { ok: planted.good.length, failed: planted.bad.length, skipped: planted.skipped.length });
  // a/cat.jpg and b/cat.jpg do not collide; bad inputs leave nothing; no temp files anywhere
  const expected = ['igx-run.json', ...planted.good.flatMap(outputsOf)].sort();
  assert.deepEqual(listFiles(out), expected);
  // One clear stderr line per bad input, naming it and its code
  for (const bad of planted.bad) {
    const lines = r.stderr.split('\n').filter((l) => l.includes(bad.relPath) && l.startsWith('error'));
    assert.equal(lines.length, 1, `${bad.relPath}:\n${r.stderr}`);
    assert.ok(lines[0]?.includes(bad.code));
  }
  // NDJSON: one line per input as it finished, then the summary
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, manifest.rows.length + 1);
  assert.deepEqual(lines.at(-1).summary.ok, planted.good.length);
  const cat = ReportSchema.parse(JSON.parse(readFileSync(join(out, 'b', 'cat.ig.json'), 'utf8')));
  assert.equal(cat.image.sha256, byPath.get('b/cat.jpg')?.sha256);
});

test('--resume skips finished images and redoes only what is missing or changed', () => {
  const inputs = tempDir('resume-in');
  for (const name of ['cat.jpg', 'dog.jpg', 'pizza.jpg']) copyFileSync(fixture('images', name), join(inputs, name));
  const out = tempDir('resume-out');
  assert.equal(igx(['explain', inputs, '--out', out, '--steps', '4', '-q', ...MODEL]).status, 0);
  const mtime = statSync(join(out, 'cat.ig.json')).mtimeMs;
  // dog.jpg changes; pizza's report is lost
  copyFileSync(fixture('images', 'elephant.jpg'), join(inputs, 'dog.jpg'));
  rmSync(join(out, 'pizza.ig.json'));
  const r = igx(['explain', inputs, '--out', out, '--steps', '4', '--resume', '-q', ...MODEL]);
  assert.equal(r.status, 0, r.stderr);
  const rows = new Map(readManifest(join(out, 'igx-run.json')).rows.map((row) => [row.relPath, row]));
  assert.equal(rows.get('cat.jpg')?.reason, 'resumed');
  assert.equal(rows.get('dog.jpg')?.status, 'ok');
  assert.equal(rows.get('pizza.jpg')?.status, 'ok');
  assert.equal(statSync(join(out, 'cat.ig.json')).mtimeMs, mtime);
  // Another config: nothing is reused
  const again = igx(['explain', inputs, '--out', out, '--steps', '5', '--resume', '-q', ...MODEL]);
  assert.equal(again.status, 0);
  assert.ok(readManifest(join(out, 'igx-run.json')).rows.every((row) => row.status === 'ok'));
});

test('igx.config.json and --config: merged under the flags, unknown keys and bad values name the file and key', () => {
  const cwd = tempDir('config');
  copyFileSync(fixture('images', 'dog.jpg'), join(cwd, 'dog.jpg'));
  writeFileSync(join(cwd, 'igx.config.json'), JSON.stringify({ steps: 3, model: fixture('models', 'age_64'), preprocess: '[0,1]', out: 'o' }));
  assert.equal(igx(['explain', 'dog.jpg', '-q'], cwd).status, 0);
  assert.equal(JSON.parse(readFileSync(join(cwd, 'o', 'dog.ig.json'), 'utf8')).steps, 3);
  assert.equal(igx(['explain', 'dog.jpg', '-q', '--steps', '5'], cwd).status, 0);
  assert.equal(JSON.parse(readFileSync(join(cwd, 'o', 'dog.ig.json'), 'utf8')).steps, 5, 'the flag wins');
  const cases: [object, RegExp][] = [
    [{ stepz: 3 }, /igx\.config\.json: unknown key "stepz"/],
    [{ steps: 'many' }, /igx\.config\.json: steps: expected a whole number/],
    [{ baseline: 7 }, /igx\.config\.json: baseline/],
  ];
  for (const [content, pattern] of cases) {
    writeFileSync(join(cwd, 'igx.config.json'), JSON.stringify(content));
    const r = igx(['explain', 'dog.jpg', '-q'], cwd);
    assert.equal(r.status, 2, JSON.stringify(content));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, pattern);
  }
  const other = join(cwd, 'other.json');
  writeFileSync(other, '{ not json');
  const r = igx(['explain', 'dog.jpg', '-q', '--config', other], cwd);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /other\.json: not valid JSON/);
});

test('unwritable outputs: an --out that cannot be created fails in one line; a blocked image output fails that image only', () => {
  const file = join(tempDir('blocked'), 'a-file');
  writeFileSync(file, 'x');
  const r = igx(['explain', fixture('images', 'dog.jpg'), '--out', join(file, 'sub'), '--steps', '2', '-q', ...MODEL]);
  assert.notEqual(r.status, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /E_WRITE/);
  // sysfs refuses new entries even to root: a read-only location on every Linux machine.
  const ro = igx(['explain', fixture('images', 'dog.jpg'), '--out', '/sys/igx-test-out', '--steps', '2', '-q', ...MODEL]);
  assert.notEqual(ro.status, 0);
  assert.match(ro.stderr, /E_WRITE/);
  // out/a is a file, so out/a/cat.* cannot be written: that image fails, the other succeeds.
  const inputs = tempDir('blocked-in');
  mkdirSync(join(inputs, 'a'));
  mkdirSync(join(inputs, 'b'));
  copyFileSync(fixture('images', 'cat.jpg'), join(inputs, 'a', 'cat.jpg'));
  copyFileSync(fixture('images', 'dog.jpg'), join(inputs, 'b', 'dog.jpg'));
  const out = tempDir('blocked-out');
  writeFileSync(join(out, 'a'), 'in the way');
  const partly = igx(['explain', inputs, '--out', out, '--steps', '2', '-q', ...MODEL]);
  assert.equal(partly.status, 1);
  const rows = new Map(readManifest(join(out, 'igx-run.json')).rows.map((row) => [row.relPath, row]));
  assert.equal(rows.get('a/cat.jpg')?.error?.code, 'E_WRITE');
  assert.equal(rows.get('b/dog.jpg')?.status, 'ok');
  assert.deepEqual(listFiles(out), ['a', 'b/dog.ig.json', 'b/dog.ig.png', 'b/dog.overlay.png', 'igx-run.json']);
});

test('broken models fail at load: exit 2, one line naming the file', () => {
  const base = fixture('models', 'lenet_graph');
  const make = (name: string, edit: (dir: string) => void): string => {
    const dir = join(tempDir(`model-${name}`), 'm');
    mkdirSync(dir);
    for (const f of readdirSync(base)) copyFileSync(join(base, f), join(dir, f));
    edit(dir);
    return dir;
  };
  const json = (dir: string): { weightsManifest: { paths: string[] }[] } => JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const cases: [string, string, RegExp][] = [
    [make('malformed', (d) => writeFileSync(join(d, 'model.json'), '{"modelTopology": ')), 'E_MODEL_INVALID', /model\.json/],
    [make('missing', (d) => rmSync(join(d, 'group1-shard1of1'))), 'E_MODEL_INVALID', /group1-shard1of1/],
    [make('short', (d) => writeFileSync(join(d, 'group1-shard1of1'), readFileSync(join(base, 'group1-shard1of1')).subarray(0, 1000))), 'E_MODEL_INVALID', /group1-shard1of1/],
    [
      make('escape', (d) => {
        const j = json(d);
        j.weightsManifest[0]!.paths = ['../../escape.bin'];
        writeFileSync(join(d, 'model.json'), JSON.stringify(j));
      }),
      'E_MODEL_PATH',
      /escape\.bin/,
    ],
  ];
  for (const [dir, code, pattern] of cases) {
    const r = igx(['explain', fixture('images', 'dog.jpg'), '--model', dir, '--out', tempDir('x'), '-q']);
    assert.equal(r.status, 2, `${dir}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0]?.includes(`[${code}]`), lines[0]);
    assert.match(lines[0] as string, pattern);
  }
});

test('igx inspect shows input, outputs, ops and a working gradient', () => {
  const r = igx(['inspect', fixture('models', 'lenet_graph'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.deepEqual(info.input.shape, [28, 28, 1]);
  assert.equal(info.outputs.length, 1);
  assert.equal(info.outputs[0].classes, 10);
  assert.equal(info.outputs[0].logitsAvailable, true);
  assert.ok(info.opCounts.Conv2D >= 1 || info.opCounts._FusedConv2D >= 1, JSON.stringify(info.opCounts));
  assert.deepEqual(info.unsupportedOps, {});
  assert.equal(info.gradient.isDifferentiable, true);
  assert.equal(info.backend.kind, 'wasm');
  const layers = JSON.parse(igx(['inspect', '--json']).stdout);
  assert.equal(layers.opCounts.DepthwiseConv2D, 13);
  assert.equal(layers.labels, 1000);
  assert.deepEqual(layers.preprocess.mean, [127.5, 127.5, 127.5]);
});

test('progress lines show done of the total from the counting walk, with an ETA; "of ≥N" before the total is known', async () => {
  const { ExplainProgress } = await import('../src/cli/explain-progress.js');
  const lines: string[] = [];
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), env: {} };
  const ctx = { io, c: createColours(io.stderr, {}), say: (l: string) => lines.push(l), run: { code: 0 } };
  const progress = new ExplainProgress(ctx, { json: false, quiet: false, tolerance: 0.05, plainLineIntervalMs: -1 });
  const row = (i: number) => ({ type: 'row' as const, row: { path: `p${i}.txt`, relPath: `p${i}.txt`, sha256: null, status: 'skipped' as const, report: null, reason: 'not an image', error: null } });
  progress.onEvent({ type: 'discovered', count: 2 });
  progress.onEvent(row(0));
  assert.match(lines.at(-1) as string, /^igx: 1 of ≥2 inputs done, [\d.]+ img\/s$/);
  progress.onEvent({ type: 'total', count: 40 });
  progress.onEvent({ type: 'discovered', count: 3 });
  progress.onEvent(row(1));
  assert.match(lines.at(-1) as string, /^igx: 2\/40 inputs done, [\d.]+ img\/s, ETA \d+ s$/);
});

test('the counting walk yields as many inputs as discovery (images, skips, loops), opening no file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'igx-count-'));
  await plantMixedInputs(dir);
  const root = await computeRunRoot([dir]);
  const found: { kind: string; relPath: string }[] = [];
  for await (const input of discoverInputs([dir], root)) found.push(input);
  const kinds = found.map((f) => f.kind);
  assert.ok(kinds.includes('image') && kinds.includes('skipped') && kinds.includes('error'), kinds.join());
  assert.equal(await countInputs([dir], root, () => true), found.length);
  const underA = found.filter((f) => f.relPath.startsWith('a/')).length;
  assert.ok(underA >= 6);
  assert.equal(await countInputs([dir], root, (rel) => rel.startsWith('a/')), underA);
});

test('two runs into one --out: the second is refused in one line (E_OUT_LOCKED, exit 2) and writes nothing; a dead run\'s lock is taken over', async () => {
  const out = tempDir('lock');
  const image = fixture('images', 'cat.jpg');
  const lockFile = join(out, '.igx-run.json.lock');
  const held = await lockFolder({ dir: out, name: 'igx-run.json' });
  try {
    const r = igx(['explain', image, '--out', out, '--steps', '4', ...MODEL]);
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n').filter((l) => l.includes('E_OUT_LOCKED'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] as string, new RegExp(`another igx run \\(pid ${process.pid}, started .*\\) is writing there`));
    assert.deepEqual(listFiles(out), ['.igx-run.json.lock'], 'the refused run wrote something');
  } finally {
    await held.release();
  }
  // Another host's lock cannot be judged from here: refused too, naming the host.
  writeFileSync(lockFile, JSON.stringify({ pid: 1, host: 'build-agent-7', startedAt: '2026-12-01T00:00:00.000Z' }));
  const other = igx(['explain', image, '--out', out, '--steps', '4', ...MODEL]);
  assert.equal(other.status, 2, other.stderr);
  assert.match(other.stderr, /pid 1 on build-agent-7, started 2026-12-01T00:00:00\.000Z.*\[E_OUT_LOCKED\]/);
  // A run of this host that is gone (SIGKILL) left its lock: the next run takes it over and removes it.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  writeFileSync(lockFile, JSON.stringify({ pid: dead, host: hostname(), startedAt: '2026-12-01T00:00:00.000Z' }));
  const r = igx(['explain', image, '--out', out, '--steps', '4', ...MODEL]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readManifest(join(out, 'igx-run.json')).status, 'finished');
  assert.deepEqual(listFiles(out), ['cat.ig.json', 'cat.ig.png', 'cat.overlay.png', 'igx-run.json']);
});

test('--resume redoes an image whose heatmap or raw .npy is cut short or whose overlay is gone, and removes what killed runs left half-written', () => {
  const inputs = tempDir('resume-damaged-in');
  const names = ['cat.jpg', 'dog.jpg', 'elephant.jpg', 'pizza.jpg'];
  for (const name of names) copyFileSync(fixture('images', name), join(inputs, name));
  const out = tempDir('resume-damaged-out');
  const run = ['explain', inputs, '--out', out, '--steps', '4', '--save-raw', '-q', ...MODEL];
  assert.equal(igx(run).status, 0);
  truncateSync(join(out, 'cat.ig.png'), statSync(join(out, 'cat.ig.png')).size - 20);
  rmSync(join(out, 'dog.overlay.png'));
  truncateSync(join(out, 'elephant.ig.npy'), statSync(join(out, 'elephant.ig.npy')).size - 4);
  // A temp file of a process that is gone (SIGKILL mid-write) and one of a live process (a shard).
  const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
  const stray = `.pizza.ig.png.${dead}.0123456789ab.tmp`;
  const live = `.pizza.ig.png.${process.pid}.0123456789ab.tmp`;
  for (const name of [stray, live]) writeFileSync(join(out, name), 'half');
  const r = igx([...run, '--resume']);
  assert.equal(r.status, 0, r.stderr);
  const rows = new Map(readManifest(join(out, 'igx-run.json')).rows.map((row) => [row.relPath, row]));
  assert.deepEqual(names.map((p) => rows.get(p)?.reason ?? rows.get(p)?.status), ['ok', 'ok', 'ok', 'resumed']);
  const withRaw = (p: string): string[] => [...outputsOf(p), p.replace(/\.jpg$/, '.ig.npy')];
  assert.deepEqual(listFiles(out), [live, ...names.flatMap(withRaw), 'igx-run.json'].sort());
});
