import assert from 'node:assert/strict';
import { spawn,} from 'node:child_process';
import { copyFileSync, existsSync, readdirSync,} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixture, IGX_BIN, ROOT } from '../support/paths.js';
import { listFiles } from '../support/list-files.js';
import { igx, MODEL, outputsOf, readManifest, tempDir } from '../support/batch-cli.js';

test('SIGINT halfway: exit 130, an accurate manifest, no half files; --resume finishes the rest exactly once', async () => {
  const inputs = tempDir('kill-in');
  const photos = ['black_swan.jpg', 'cat.jpg', 'coffee_mug.jpg', 'dog.jpg', 'elephant.jpg', 'mountain.jpg', 'pizza.jpg', 'tabby_cat_224.jpg'];
  for (const name of photos) copyFileSync(fixture('images', name), join(inputs, name));
  const out = tempDir('kill-out');
  const args = ['explain', inputs, '--out', out, '--steps', '300', '--batch-size', '4', '-q', ...MODEL];
  const child = spawn(process.execPath, [IGX_BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  const code = await new Promise<number | null>((resolve) => {
    const timer = setInterval(() => {
      // Interrupt once the first image has finished.
      if (existsSync(join(out, 'black_swan.ig.json'))) {
        clearInterval(timer);
        child.kill('SIGINT');
      }
    }, 50);
    child.on('exit', (c) => {
      clearInterval(timer);
      resolve(c);
    });
  });
  assert.equal(code, 130);
  const manifest = readManifest(join(out, 'igx-run.json'));
  assert.equal(manifest.status, 'interrupted');
  const done = manifest.rows.filter((row) => row.status === 'ok').map((row) => row.relPath);
  assert.ok(done.length >= 1 && done.length < photos.length, `done: ${done.join(', ')}`);
  assert.deepEqual(listFiles(out), ['igx-run.json', ...done.flatMap(outputsOf)].sort());
  const r = igx([...args.slice(0, -1 - MODEL.length), '--resume', ...MODEL].filter((a) => a !== '-q'));
  assert.equal(r.status, 0, r.stderr);
  const finished = readManifest(join(out, 'igx-run.json'));
  assert.equal(finished.status, 'finished');
  assert.deepEqual(finished.rows.filter((row) => row.reason === 'resumed').map((row) => row.relPath).sort(), done.sort());
  assert.deepEqual(listFiles(out), ['igx-run.json', ...photos.flatMap(outputsOf)].sort());
});

test('--shard I/N splits the inputs deterministically; igx merge joins the manifests', () => {
  const inputs = tempDir('shard-in');
  const photos = readdirSync(fixture('images'));
  for (const name of photos) copyFileSync(fixture('images', name), join(inputs, name));
  const out = tempDir('shard-out');
  for (const shard of ['1/3', '2/3', '3/3']) {
    assert.equal(igx(['explain', inputs, '--out', out, '--steps', '2', '--shard', shard, '-q', ...MODEL]).status, 0);
  }
  const parts = [1, 2, 3].map((i) => readManifest(join(out, `igx-run.shard-${i}-of-3.json`)));
  const all = parts.flatMap((p) => p.rows.map((row) => row.relPath)).sort();
  assert.deepEqual(all, [...photos].sort(), 'each input in exactly one shard');
  assert.ok(parts.filter((p) => p.rows.length > 0).length >= 2, 'the split spreads inputs');
  const again = igx(['explain', inputs, '--out', tempDir('shard-again'), '--steps', '2', '--shard', '2/3', '--json', ...MODEL]);
  assert.deepEqual(
    again.stdout.trim().split('\n').slice(0, -1).map((l) => JSON.parse(l).image.path.split('/').pop()).sort(),
    parts[1]!.rows.map((row) => row.relPath).sort(),
    'the same shard gets the same inputs',
  );
  const merge = igx(['merge', out]);
  assert.equal(merge.status, 0, merge.stderr);
  const merged = readManifest(join(out, 'igx-run.json'));
  assert.equal(merged.rows.length, photos.length);
  assert.equal(merged.shard, null);
  assert.equal(merged.status, 'finished');
  // A missing shard is refused
  const partial = tempDir('shard-partial');
  copyFileSync(join(out, 'igx-run.shard-1-of-3.json'), join(partial, 'igx-run.shard-1-of-3.json'));
  const refused = igx(['merge', partial]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /2\/3, 3\/3 missing/);
});
