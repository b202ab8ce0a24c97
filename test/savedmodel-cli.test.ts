import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, IGX_BIN, ROOT } from './support/paths.js';
import { writeKerasCondModel, writeUint8ImageModel } from './support/savedmodel-tf1.js';

const igx = (args: string[]) => spawnSync(process.execPath, [IGX_BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'igx-sm-cli-'));
const LENET = fixture('savedmodels', 'lenet_tf1');

test('igx explain on a SavedModel and on its igx convert output give the same report', () => {
  const converted = join(tempDir(), 'lenet');
  const conv = igx(['convert', LENET, converted, '--json']);
  assert.equal(conv.status, 0, conv.stderr);
  assert.equal(JSON.parse(conv.stdout).signature.outputs[0].key, 'output');
  const reports = [LENET, converted].map((model) => {
    const out = tempDir();
    const r = igx(['explain', fixture('images', 'dog.jpg'), '--model', model, '--preprocess', '[0,1]', '--out', out, '-q']);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(readFileSync(join(out, 'dog.ig.json'), 'utf8'));
  });
  const [a, b] = reports;
  assert.equal(a.model.format, 'savedmodel');
  assert.equal(b.model.format, 'graph');
  assert.equal(a.target.index, b.target.index);
  assert.ok(Math.abs(a.target.score - b.target.score) < 1e-6);
  assert.ok(a.completeness.relativeError <= 0.05, `completeness ${a.completeness.relativeError}`);
  assert.deepEqual(a.attribution.grid.values.map((v: number) => v.toFixed(5)), b.attribution.grid.values.map((v: number) => v.toFixed(5)));
});

test('explain takes --signature, --tags and --input for SavedModels', () => {
  const out = tempDir();
  const ok = igx(['explain', fixture('images', 'cat.jpg'), '--model', LENET, '--signature', 'serving_default', '--tags', 'serve', '--input', 'input', '--preprocess', '[0,1]', '--steps', '8', '--out', out, '-q']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(JSON.parse(readFileSync(join(out, 'cat.ig.json'), 'utf8')).steps, 8);
  for (const [flag, value] of [['--signature', 'nope'], ['--tags', 'train'], ['--input', 'nope']]) {
    const r = igx(['explain', fixture('images', 'cat.jpg'), '--model', LENET, flag as string, value as string, '--steps', '2', '--out', tempDir(), '-q']);
    assert.equal(r.status, 2, `${flag}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes('[E_MODEL_SIGNATURE]'), r.stderr);
  }
});

test('igx inspect lists a SavedModel\'s signatures', () => {
  const r = igx(['inspect', fixture('savedmodels', 'half_plus_two_tf2'), '--json']);
  // half_plus_two takes a [1] vector, not an image: inspect reports what it can and fails the image checks
  const info = JSON.parse(igx(['inspect', LENET, '--json']).stdout);
  assert.equal(info.format, 'savedmodel');
  assert.deepEqual(info.savedModel.signatures.map((s: { name: string }) => s.name), ['serving_default']);
  assert.deepEqual(info.input.shape, [32, 32, 1]);
  assert.equal(info.gradient.isDifferentiable, true);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /E_MODEL_INVALID/);
});

test('bad SavedModels: one line, exit 2', () => {
  const notModel = tempDir();
  writeFileSync(join(notModel, 'readme.txt'), 'hi');
  const truncated = tempDir();
  writeFileSync(join(truncated, 'saved_model.pb'), readFileSync(join(LENET, 'saved_model.pb')).subarray(0, 500));
  const cases: [string[], string][] = [
    [['convert', notModel, join(tempDir(), 'x')], 'E_MODEL_NOT_FOUND'],
    [['convert', truncated, join(tempDir(), 'x')], 'E_MODEL_INVALID'],
    [['convert', LENET, join(tempDir(), 'x'), '--signature', 'nope'], 'E_MODEL_SIGNATURE'],
  ];
  for (const [args, code] of cases) {
    const r = igx(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.stderr.includes(`[${code}]`), r.stderr);
  }
});

test('convert reads TensorFlow\'s half_plus_two saved_model.pbtxt; a uint8 input stays uint8', async () => {
  const pbtxt = igx(['convert', fixture('savedmodels', 'half_plus_two_pbtxt'), join(tempDir(), 'hp2'), '--json']);
  assert.equal(pbtxt.status, 0, pbtxt.stderr);
  assert.deepEqual(JSON.parse(pbtxt.stdout).signature.inputs, [{ name: 'x:0', key: 'x', dtype: 'DT_FLOAT', shape: [-1, 1] }]);
  const dir = join(tempDir(), 'uint8');
  await writeUint8ImageModel(dir);
  const converted = join(tempDir(), 'uint8-converted');
  const uint8 = igx(['convert', dir, converted, '--json']);
  assert.equal(uint8.status, 0, uint8.stderr);
  assert.equal(JSON.parse(uint8.stdout).signature.inputs[0].dtype, 'DT_UINT8');
  assert.equal(JSON.parse(readFileSync(join(converted, 'model.json'), 'utf8')).signature.inputs.images.dtype, 'DT_UINT8');
});

test('explain on a uint8-input SavedModel (raw pixels) and on a TF1 Keras model with learning-phase conds', async () => {
  const uint8 = join(tempDir(), 'uint8');
  await writeUint8ImageModel(uint8);
  const cond = join(tempDir(), 'cond');
  await writeKerasCondModel(cond, false);
  for (const [model, extra] of [
    [uint8, ['--preprocess', 'raw']],
    [cond, []],
  ] as const) {
    const out = tempDir();
    const r = igx(['explain', fixture('images', 'dog.jpg'), '--model', model, ...extra, '--steps', '16', '--out', out, '-q']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'dog.ig.json'), 'utf8'));
    assert.equal(report.model.format, 'savedmodel');
    assert.ok(report.completeness.relativeError <= 0.05, `completeness ${report.completeness.relativeError}`);
  }
  const int = igx(['explain', fixture('images', 'dog.jpg'), '--model', fixture('savedmodels', 'uint8_multiply'), '--out', tempDir(), '-q']);
  assert.equal(int.status, 2, int.stderr);
  assert.equal(int.stderr.trim().split('\n').length, 1, int.stderr);
  assert.ok(int.stderr.includes('[E_UNSUPPORTED_OP]'), int.stderr);
});

test('a uint8-input SavedModel defaults to raw 0..255 preprocessing (explain and inspect); a flag still wins', async () => {
  const uint8 = join(tempDir(), 'uint8');
  await writeUint8ImageModel(uint8);
  const out = tempDir();
  const r = igx(['explain', fixture('images', 'dog.jpg'), '--model', uint8, '--steps', '8', '--out', out, '-q']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'dog.ig.json'), 'utf8'));
  assert.deepEqual([report.preprocess.mean, report.preprocess.std], [[0, 0, 0], [1, 1, 1]]);
  const info = JSON.parse(igx(['inspect', uint8, '--json']).stdout);
  assert.equal(info.input.dtype, 'float32');
  assert.deepEqual([info.preprocess.preset, info.preprocess.source], ['raw', 'model']);
  const flagged = JSON.parse(igx(['inspect', uint8, '--preprocess', '[0,1]', '--json']).stdout);
  assert.deepEqual([flagged.preprocess.preset, flagged.preprocess.source], ['[0,1]', 'flag']);
  const converted = join(tempDir(), 'float');
  const conv = igx(['convert', uint8, converted, '--float-input', '--json']);
  assert.equal(conv.status, 0, conv.stderr);
  assert.deepEqual([JSON.parse(conv.stdout).signature.inputs[0].dtype, JSON.parse(conv.stdout).signature.inputs[0].castFrom], ['DT_FLOAT', 'DT_UINT8']);
});
