import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ReportSchema } from '../src/report/schema.js';
import { fixture, IGX_BIN, ROOT } from './support/paths.js';
import { GRAY, runOnDoberman as run } from './support/explain-doberman.js';

// igx explain with the other paths and visuals, end to end through the built binary.

test('--path blur: Blur IG from the blurred image, completeness against F(blurred)', () => {
  const r = run([...GRAY, '--path', 'blur', '--steps', '200']);
  assert.equal(r.status, 0, r.stderr);
  const report = r.read();
  assert.deepEqual(report.path, { kind: 'blur', maxSigma: 50 });
  assert.equal(report.baselines.length, 1);
  assert.equal(report.baselines[0]?.kind, 'blur-path');
  assert.ok((report.completeness.relativeError ?? 1) <= 0.05, `completeness ${report.completeness.relativeError}`);
  assert.equal(report.adaptive, null);
});

test('--baseline-dir draws the same baseline images for the same seed', () => {
  const a = run([...GRAY, '--baseline-dir', fixture('images'), '--baseline-samples', '2', '--steps', '8', '--seed', '3']).read();
  const b = run([...GRAY, '--baseline-dir', fixture('images'), '--baseline-samples', '2', '--steps', '8', '--seed', '3']).read();
  assert.equal(a.baselines.length, 2);
  assert.ok(a.baselines.every((x) => x.kind === 'image'));
  assert.deepEqual(a.baselines.map((x) => x.spec), b.baselines.map((x) => x.spec));
});

test('--mask, --panel and --html write their files', async () => {
  const r = run(['--mask', '--html', '--steps', '8']);
  assert.equal(r.status, 0, r.stderr);
  const report = r.read();
  assert.equal(report.outputs.mask, 'doberman.mask.png');
  assert.equal(report.outputs.panel, 'doberman.panel.png');
  const mask = await sharp(join(r.out, 'doberman.mask.png')).metadata();
  assert.deepEqual([mask.format, mask.width, mask.height], ['png', 224, 224]);
  const panel = await sharp(join(r.out, 'doberman.panel.png')).metadata();
  assert.ok((panel.width ?? 0) > 4 * 224);
  const html = readFileSync(join(r.out, 'index.html'), 'utf8');
  assert.ok(html.includes('doberman.panel.png'));
  assert.ok(!/https?:\/\//.test(html), 'no network assets');
});

test('conflicting method flags exit 2 naming the flag', () => {
  for (const [flags, pattern] of [
    [['--noise', '0.1'], /--noise/],
    [['--smooth', '2', '--path', 'blur'], /--smooth/],
    [['--threshold', '1.5'], /--threshold/],
  ] as [string[], RegExp][]) {
    const r = run([...GRAY, ...flags]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, pattern);
  }
});

test('--layer: layer IG on the default model, completeness in the layer space, raw file of the layer shape', () => {
  const out = mkdtempSync(join(tmpdir(), 'igx-layer-'));
  const r = spawnSync(process.execPath, [IGX_BIN, 'explain', fixture('images', 'cat.jpg'), '--layer', 'conv_pw_6_relu', '--output-space', 'logits', '--save-raw', '--out', out, '-q'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const report = ReportSchema.parse(JSON.parse(readFileSync(join(out, 'cat.ig.json'), 'utf8')));
  assert.deepEqual(report.layer?.shape, [14, 14, 128]);
  assert.deepEqual(report.attribution.shape, [14, 14, 128]);
  assert.ok((report.completeness.relativeError ?? 1) <= 0.05, `completeness ${report.completeness.relativeError}`);
  const top = report.layer?.topChannels ?? [];
  assert.equal(top.length, 10);
  assert.ok(Math.abs(top[0]!.total) >= Math.abs(top[9]!.total));
  const npy = readFileSync(join(out, 'cat.ig.npy'));
  assert.equal(npy.length - (npy.readUInt16LE(8) + 10), 14 * 14 * 128 * 4);
  // A graph model is cut at a node; a name no node has is one line, exit 2.
  const g = run([...GRAY, '--layer', 'add_2/add', '--steps', '64']);
  assert.equal(g.status, 0, g.stderr);
  const gr = g.read();
  assert.equal(gr.layer?.name, 'StatefulPartitionedCall/model_1/add_2/add');
  assert.deepEqual(gr.layer?.shape, [8, 8, 256]);
  assert.ok((gr.completeness.relativeError ?? 1) <= 0.05, JSON.stringify(gr.completeness));
  const bad = run([...GRAY, '--layer', 'anything']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--layer anything: no node of .* has that name/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
});
