/**
 * An error igx did not expect never ends the process with a raw stack: it is one line with
 * [E_INTERNAL] and exit 2 (the stack only with --verbose), and in a batch the image's manifest row
 * says so before the run ends.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { runBatch } from '../src/batch/run-batch.js';
import { reportError } from '../src/cli/main.js';
import { createColours, type CliIo } from '../src/cli/io.js';
import { parseExplainFlags } from '../src/config/explain-config.js';
import { isIgxError } from '../src/errors.js';
import { openExplainPool } from '../src/explain/pool/explain-pool.js';
import { ManifestSchema } from '../src/report/manifest.js';
import { fixture } from './support/paths.js';

function captureIo(): { io: CliIo; text: () => string } {
  const stderr = new PassThrough();
  const chunks: Buffer[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c));
  return { io: { stdout: new PassThrough(), stderr, env: {} }, text: () => Buffer.concat(chunks).toString('utf8') };
}

test('an unexpected error is one line with [E_INTERNAL] and exit 2; its stack only with --verbose', () => {
  const err = new TypeError("Cannot read properties of undefined (reading 'map')\n    at somewhere");
  for (const isVerbose of [false, true]) {
    const { io, text } = captureIo();
    const code = reportError(err, { io, c: createColours(io.stderr, io.env), isVerbose });
    assert.equal(code, 2);
    const lines = text().trimEnd().split('\n');
    assert.match(lines[0] as string, /^igx: unexpected error: TypeError: .*\[E_INTERNAL\]/);
    if (isVerbose) assert.ok(lines.length > 2 && lines.slice(1).some((l) => /^\s+at /.test(l)), text());
    else assert.equal(lines.length, 1, text());
  }
});

test('a batch records an unexpected error as the image row E_INTERNAL, then ends with that error', async () => {
  const out = mkdtempSync(join(tmpdir(), 'igx-internal-'));
  const config = parseExplainFlags({ model: fixture('models', 'lenet_graph'), preprocess: '[0,1]', steps: '2', out, backend: 'wasm', workers: '1' });
  const pool = await openExplainPool(config);
  try {
    const broken = {
      // The real explainer, except that one image meets an error no igx code expects.
      explainImage: (p: string, o?: Parameters<typeof pool.explainImage>[1]) => (p.endsWith('dog.jpg') ? Promise.reject(new RangeError('offset is out of bounds')) : pool.explainImage(p, o)),
      configHash: pool.configHash,
      model: { path: config.model as string, format: pool.model.format, sha256: pool.model.sha256 },
      concurrency: 1,
    };
    await assert.rejects(runBatch(broken, { inputs: [fixture('images', 'cat.jpg'), fixture('images', 'dog.jpg')], config, resume: false }), (err: unknown) => {
      assert.ok(isIgxError(err));
      assert.equal(err.code, 'E_INTERNAL');
      assert.equal(err.exitCode, 2);
      return true;
    });
  } finally {
    await pool.close();
  }
  const manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(out, 'igx-run.json'), 'utf8')));
  const rows = new Map(manifest.rows.map((r) => [r.relPath, r]));
  assert.equal(rows.get('cat.jpg')?.status, 'ok');
  assert.equal(rows.get('dog.jpg')?.status, 'failed');
  assert.equal(rows.get('dog.jpg')?.error?.code, 'E_INTERNAL');
});
