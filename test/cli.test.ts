import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ReportSchema } from '../src/report/schema.js';
import { fixture, IGX_BIN, ROOT } from './support/paths.js';

// End to end: the built binary, as a user runs it (npm test builds dist/ first).
const igx = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [IGX_BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'igx-cli-'));

test('--version prints the package version', () => {
  const r = igx(['--version']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
});

test('explain --help lists the flags', () => {
  const r = igx(['explain', '--help']);
  assert.equal(r.status, 0);
  for (const flag of ['--model', '--target', '--steps', '--baseline', '--method', '--polarity', '--save-raw', '--json', '--backend']) {
    assert.ok(r.stdout.includes(flag), flag);
  }
});

test('explain with the default model writes a valid heatmap, overlay, report and raw file', () => {
  const out = tempDir();
  const r = igx(['explain', fixture('images', 'cat.jpg'), '--steps', '32', '--out', out, '--json', '--save-raw']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /default/);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2, 'one line per image, then the summary');
  const printed = JSON.parse(lines[0] as string);
  assert.deepEqual(JSON.parse(lines[1] as string).summary.ok, 1);
  const report = ReportSchema.parse(JSON.parse(readFileSync(join(out, 'cat.ig.json'), 'utf8')));
  assert.equal(printed.files.heatmap, join(out, 'cat.ig.png'));
  assert.ok([281, 282].includes(report.target.index), `tabby or tiger cat, got ${report.target.label}`);
  assert.equal(report.steps, 32);
  assert.equal(report.backend.kind, 'wasm');
  assert.ok(report.completeness.relativeError !== null && report.completeness.relativeError < 0.2);
  return Promise.all([sharp(join(out, 'cat.ig.png')).metadata(), sharp(join(out, 'cat.overlay.png')).metadata()]).then(([heat, overlay]) => {
    assert.deepEqual([heat.format, heat.width, heat.height], ['png', 224, 224]);
    assert.deepEqual([overlay.format, overlay.width, overlay.height], ['png', 224, 224]);
    const npy = readFileSync(join(out, 'cat.ig.npy'));
    assert.equal(npy.length - (npy.readUInt16LE(8) + 10), 224 * 224 * 3 * 4);
    assert.deepEqual(readdirSync(out).sort(), ['cat.ig.json', 'cat.ig.npy', 'cat.ig.png', 'cat.overlay.png', 'igx-run.json']);
  });
});

test('a corrupt image exits 1 with one clear line and leaves no file; the other image still runs', () => {
  const out = tempDir();
  const inputs = tempDir();
  const bad = join(inputs, 'broken.jpg');
  writeFileSync(bad, readFileSync(fixture('images', 'dog.jpg')).subarray(0, 2000));
  const good = join(inputs, 'dog.jpg');
  copyFileSync(fixture('images', 'dog.jpg'), good);
  const r = igx(['explain', bad, good, '--steps', '8', '--out', out, '--model', fixture('models', 'mobilenet_v1_0.25_224')]);
  assert.equal(r.status, 1);
  const errorLines = r.stderr.split('\n').filter((l) => l.includes('broken.jpg'));
  assert.equal(errorLines.length, 1);
  assert.match(errorLines[0] as string, /E_IMAGE_DECODE/);
  assert.deepEqual(readdirSync(out).sort(), ['dog.ig.json', 'dog.ig.png', 'dog.overlay.png', 'igx-run.json']);
  const manifest = JSON.parse(readFileSync(join(out, 'igx-run.json'), 'utf8'));
  assert.deepEqual(manifest.rows.map((row: { relPath: string; status: string }) => [row.relPath, row.status]), [['broken.jpg', 'failed'], ['dog.jpg', 'ok']]);
});

test('bad flags exit 2 with one line naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--steps', 'abc'], /--steps/],
    [['--tolerance', '-1'], /--tolerance/],
    [['--method', 'simpson'], /--method/],
    [['--mean', '1,2'], /--std/],
    [['--model', '/nonexistent/model'], /nonexistent/],
    [['--target', 'no-such-class'], /--target/],
    [['--no-such-flag'], /no-such-flag/],
    [['--stpes', '3'], /--stpes.*--steps/],
    // Bounded before anything is allocated: a batch no wasm heap holds, baselines by the hundred.
    [['--batch-size', '4096'], /--batch-size 4096: .*wasm heap.*at most \d+ fits/],
    [['--batch-size', '64', '--max-memory', '64MB'], /--batch-size 64: .*memory budget.*at most \d+ fits/],
    [['--baseline', 'gaussian', '--baseline-samples', '300'], /--baseline-samples: .*300 baseline images, more than 256/],
  ];
  for (const [flags, pattern] of cases) {
    const out = tempDir();
    const r = igx(['explain', fixture('images', 'dog.jpg'), '--steps', '2', '--out', out, '--quiet', ...flags]);
    assert.equal(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${flags.join(' ')} printed:\n${r.stderr}`);
    assert.match(lines[0] as string, pattern);
    assert.match(lines[0] as string, /^igx: .* \[E_[A-Z_]+\]$/, 'one line with its code');
    // Nothing was started: no outputs and no manifest saying "interrupted".
    assert.deepEqual(readdirSync(out), [], `${flags.join(' ')} left files`);
  }
});

test('a run that would explain nothing: no images exits 2 (E_NO_INPUT), only skipped inputs exit 1 (E_ALL_SKIPPED), --allow-empty exits 0', () => {
  const empty = tempDir();
  const onlyText = tempDir();
  writeFileSync(join(onlyText, 'notes.txt'), 'not an image');
  const cases: [string[], number, RegExp | undefined][] = [
    [[empty], 2, /E_NO_INPUT/],
    [[join(empty, '*.png')], 2, /E_NO_INPUT/],
    [[onlyText], 1, /E_ALL_SKIPPED/],
    [[empty, '--allow-empty'], 0, undefined],
    [[onlyText, '--allow-empty'], 0, undefined],
  ];
  for (const [args, status, code] of cases) {
    const out = tempDir();
    const r = igx(['explain', ...args, '--steps', '2', '--out', out, '--quiet']);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    if (code === undefined) {
      assert.equal(r.stderr, '', 'quiet and accepted');
      continue;
    }
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] as string, code);
    assert.ok(lines[0]?.includes(status === 2 ? (args[0] as string) : 'skipped'), 'names what was searched, or why nothing ran');
    if (status === 2) assert.deepEqual(readdirSync(out), [], 'no manifest for a run that never started');
  }
});

test('an image above the completeness tolerance is named on its line and counted in the summary', () => {
  const out = tempDir();
  const r = igx(['explain', fixture('images', 'dog.jpg'), '--steps', '1', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /ok .*dog\.jpg: .* completeness error \d+\.\d+ \(above the tolerance 0\.05\)/);
  assert.match(r.stderr, /igx: 1 ok, 1 above the completeness tolerance 0\.05, 0 failed/);
});

test('|F(x) − F(x′)| below 1e-4: the warning names the absolute test that applies, and suggests logits for probabilities', () => {
  const image = fixture('images', 'dog.jpg');
  // The image as its own baseline: F(x′) = F(x), the most negligible difference there is.
  const probs = igx(['explain', image, '--baseline', image, '--steps', '4', '--out', tempDir()]);
  assert.equal(probs.status, 0, probs.stderr);
  const warning = probs.stderr.split('\n').filter((l) => l.startsWith('warning'));
  assert.equal(warning.length, 1, probs.stderr);
  assert.match(
    warning[0] as string,
    /dog\.jpg: \|F\(x\) − F\(x′\)\| = 0\.00e\+0 is below 0\.0001, too small for a relative error: completeness is judged on \|Σ − ΔF\| = 0\.00e\+0 against tolerance × max\(\|F\(x\)\|, \|F\(x′\)\|\) = \d\.\d\de-\d; a saturated probability barely moves: --output-space logits explains the logit, which does$/,
  );
  const logits = igx(['explain', image, '--baseline', image, '--steps', '4', '--output-space', 'logits', '--out', tempDir()]);
  assert.equal(logits.status, 0, logits.stderr);
  assert.match(logits.stderr, /is below 0\.0001, too small for a relative error: completeness is judged on .* = \d\.\d\de[-+]\d+\n/);
  assert.doesNotMatch(logits.stderr, /--output-space logits/);
});

test('--fail-on-completeness exits 1 when the error is above tolerance', () => {
  const out = tempDir();
  const r = igx(['explain', fixture('images', 'dog.jpg'), '--steps', '1', '--tolerance', '0.000001', '--fail-on-completeness', '--out', out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /E_COMPLETENESS/);
});

test('text from outside reaches the terminal as one line: a 10-byte JPEG, and a model whose labels hold ANSI escapes', () => {
  const inputs = tempDir();
  writeFileSync(join(inputs, 'tiny.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46]));
  const r = igx(['explain', join(inputs, 'tiny.jpg'), '--steps', '2', '--out', tempDir()]);
  assert.equal(r.status, 1);
  const lines = r.stderr.split('\n').filter((l) => l.includes('tiny.jpg') && !l.startsWith('igx: run root'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] as string, /\[E_IMAGE_DECODE\]$/);
  // A copy of the default model whose labels try to colour the terminal and break the line.
  const model = tempDir();
  const source = fixture('models', 'mobilenet_v1_0.25_224');
  for (const name of readdirSync(source)) copyFileSync(join(source, name), join(model, name));
  const labels = JSON.parse(readFileSync(join(model, 'labels.json'), 'utf8')) as string[];
  for (let i = 0; i < labels.length; i += 1) labels[i] = `\u001b[31mred\nline ${i}`;
  writeFileSync(join(model, 'labels.json'), JSON.stringify(labels));
  const hostile = igx(['explain', fixture('images', 'cat.jpg'), '--steps', '2', '--model', model, '--out', tempDir()]);
  assert.equal(hostile.status, 0, hostile.stderr);
  assert.ok(!hostile.stderr.includes('\u001b'), 'no escape reaches the terminal');
  assert.match(hostile.stderr, /ok .*cat\.jpg: \\x1b\[31mred; line \d+ /);
});

test('FIFOs and devices are never read: as an image (E_IMAGE_READ), inside a folder (a skipped row), as a model (E_MODEL_INVALID) or its labels (E_CONFIG)', () => {
  const inputs = tempDir();
  const fifo = join(inputs, 'pipe.jpg');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  copyFileSync(fixture('images', 'cat.jpg'), join(inputs, 'cat.jpg'));
  const run = (args: string[]) => spawnSync(process.execPath, [IGX_BIN, 'explain', ...args, '--steps', '2', '--out', tempDir()], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  for (const [input, kind] of [[fifo, 'a FIFO'], ['/dev/zero', 'a device']] as const) {
    const r = run([input]);
    assert.equal(r.status, 1, `${input}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${kind}, not a regular file \\[E_IMAGE_READ\\]`));
  }
  const folder = run([inputs, '--json']);
  assert.equal(folder.status, 0, folder.stderr);
  const rows = folder.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(rows.at(-1).summary.skipped, 1);
  assert.ok(rows.some((r) => r.path === fifo && r.status === 'skipped' && r.reason === 'not a regular file'), folder.stdout);
  const model = run([join(inputs, 'cat.jpg'), '--model', '/dev/zero']);
  assert.equal(model.status, 2);
  assert.match(model.stderr, /\[E_MODEL_INVALID\]/);
  const copy = tempDir();
  const source = fixture('models', 'mobilenet_v1_0.25_224');
  for (const name of readdirSync(source)) if (name !== 'labels.json') copyFileSync(join(source, name), join(copy, name));
  assert.equal(spawnSync('mkfifo', [join(copy, 'labels.json')]).status, 0);
  const labels = run([join(inputs, 'cat.jpg'), '--model', copy]);
  assert.equal(labels.status, 2, labels.stderr);
  assert.match(labels.stderr, /labels file .*a FIFO, not a regular file \[E_CONFIG\]/);
});

test('an --out that cannot be made fails at once with one line (it used to spin for ever under /proc)', () => {
  const r = spawnSync(process.execPath, [IGX_BIN, 'explain', fixture('images', 'cat.jpg'), '--steps', '2', '--out', '/proc/igx-out/run'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  });
  assert.equal(r.signal, null, 'finished by itself');
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.includes('default'));
  assert.match(lines.at(-1) as string, /--out \/proc\/igx-out\/run: cannot create the folder \(ENOENT\) \[E_WRITE\]/);
});

test('--config naming a FIFO or a device is refused in one line, not waited on or read for ever', () => {
  const dir = tempDir();
  const fifo = join(dir, 'settings.json');
  spawnSync('mkfifo', [fifo]);
  for (const config of [fifo, '/dev/urandom']) {
    const r = igx(['explain', fixture('images', 'dog.jpg'), '--config', config, '--out', join(dir, 'out'), '--quiet']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr.trim(), /^igx: [^\n]* \[E_CONFIG\]$/);
  }
});

test('a config file asking for 4000 baselines is refused in one line, at once', () => {
  const dir = tempDir();
  const config = join(dir, 'igx.config.json');
  writeFileSync(config, JSON.stringify({ baseline: new Array<string>(4000).fill('black') }));
  const r = igx(['explain', fixture('images', 'dog.jpg'), '--config', config, '--out', join(dir, 'out'), '--quiet']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr.trim(), /^igx: .*baseline.*at most 256 baselines.* \[E_(CONFIG|FLAG)\]$/);
});
