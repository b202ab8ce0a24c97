import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { parseTempName } from '../../src/files/atomic-write.js';
import { MANIFEST_NAME, ManifestSchema, type Manifest } from '../../src/report/manifest.js';
import { IMAGE_SUFFIXES } from '../../src/report/run-layout.js';
import { ReportSchema } from '../../src/report/schema.js';
import { listFiles } from '../support/list-files.js';
import { fixture, IGX_BIN, ROOT } from '../support/paths.js';

// Issue 16: SIGTERM, SIGKILL and a torn manifest in the middle of a batch, then --resume, on the
// embedded default model (MobileNet v1 0.25) with few steps and one worker: about half a second an image.
const RUN = ['--steps', '8', '--workers', '1', '-q'];
const ENV = { ...process.env, NO_COLOR: '1' };
const LOCK_NAME = `.${MANIFEST_NAME}.lock`;
/** How often a watched run's manifest is read: often enough to land inside a non-atomic rewrite. */
const POLL_MS = 2;

const tempDir = (name: string): string => mkdtempSync(join(tmpdir(), `igx-interrupt-${name}-`));
const igx = (args: string[]) => spawnSync(process.execPath, [IGX_BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: ENV });
const readManifest = (out: string): Manifest => ManifestSchema.parse(JSON.parse(readFileSync(join(out, MANIFEST_NAME), 'utf8')));
const outputsOf = (relPath: string): string[] => {
  const stem = relPath.replace(/\.[^./]+$/, '');
  return [IMAGE_SUFFIXES.report, IMAGE_SUFFIXES.heatmap, IMAGE_SUFFIXES.overlay].map((suffix) => `${stem}${suffix}`);
};
const relPathsOf = (m: Manifest, pick: (row: Manifest['rows'][number]) => boolean): string[] => m.rows.filter(pick).map((row) => row.relPath).sort();
const isOk = (row: Manifest['rows'][number]): boolean => row.status === 'ok';
const isResumed = (row: Manifest['rows'][number]): boolean => row.status === 'skipped' && row.reason === 'resumed';
/** Names under `out` that tempPathFor made: what a write cut short leaves. */
const tempFilesIn = (out: string): string[] => listFiles(out).filter((f) => parseTempName(basename(f)) !== undefined);

/** The fixture JPEGs, `copies` times, in folders c1/, c2/, …: relPaths sorted. */
function plantInputs(dir: string, copies: number, limit = Infinity): string[] {
  const photos = readdirSync(fixture('images')).filter((n) => n.endsWith('.jpg')).sort().slice(0, limit);
  const relPaths: string[] = [];
  for (let c = 1; c <= copies; c += 1) {
    mkdirSync(join(dir, `c${c}`));
    for (const name of photos) {
      copyFileSync(fixture('images', name), join(dir, `c${c}`, name));
      relPaths.push(`c${c}/${name}`);
    }
  }
  return relPaths.sort();
}

/** The report parses, is for the row's image, and each output it names decodes to its last byte. */
async function assertWhole(out: string, row: { relPath: string; sha256: string | null }): Promise<void> {
  const reportPath = join(out, outputsOf(row.relPath)[0] as string);
  const report = ReportSchema.parse(JSON.parse(readFileSync(reportPath, 'utf8')));
  if (row.sha256 !== null) assert.equal(report.image.sha256, row.sha256, row.relPath);
  const names = Object.values(report.outputs).filter((n): n is string => typeof n === 'string');
  assert.deepEqual(names.sort(), outputsOf(row.relPath).slice(1).map((f) => basename(f)).sort(), row.relPath);
  for (const name of names) await sharp(join(dirname(reportPath), name), { failOn: 'truncated' }).raw().toBuffer();
}

/** mtime and inode of each file: a file rewritten (temp + rename) gets another of both. */
const stamp = (out: string, files: string[]): Map<string, string> =>
  new Map(files.map((f) => {
    const s = statSync(join(out, f));
    return [f, `${s.mtimeMs}/${s.ino}`];
  }));

interface WatchedRun {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Reads of the manifest that found it, and the row counts they saw. */
  reads: number;
  rowCounts: Set<number>;
  /** Reads that were no valid manifest: what a reader would have choked on. */
  torn: string[];
}

/**
 * Runs igx, reading its manifest every POLL_MS while it goes; `stopWhen` sees each new valid manifest and
 * may name a signal to send (once).
 */
function runWatched(args: string[], out: string, stopWhen?: (m: Manifest) => NodeJS.Signals | undefined): Promise<WatchedRun> {
  const child = spawn(process.execPath, [IGX_BIN, ...args], { cwd: ROOT, env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  const run: WatchedRun = { pid: child.pid as number, code: null, signal: null, stderr: '', reads: 0, rowCounts: new Set(), torn: [] };
  child.stderr.setEncoding('utf8').on('data', (s: string) => (run.stderr += s));
  let last = '';
  let isSent = false;
  const poll = (): void => {
    let text: string;
    try {
      text = readFileSync(join(out, MANIFEST_NAME), 'utf8');
    } catch {
      return; // not written yet
    }
    run.reads += 1;
    if (text === last) return;
    last = text;
    let parsed: ReturnType<typeof ManifestSchema.safeParse>;
    try {
      parsed = ManifestSchema.safeParse(JSON.parse(text));
    } catch {
      run.torn.push(`${text.length} chars: …${text.slice(-40)}`);
      return;
    }
    if (!parsed.success) {
      run.torn.push(`${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
      return;
    }
    run.rowCounts.add(parsed.data.rows.length);
    const signal = isSent ? undefined : stopWhen?.(parsed.data);
    if (signal !== undefined) {
      isSent = true;
      child.kill(signal);
    }
  };
  const timer = setInterval(poll, POLL_MS);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      Object.assign(run, { code, signal });
      resolve(run);
    });
  });
}

const afterOkImages = (n: number, signal: NodeJS.Signals) => (m: Manifest): NodeJS.Signals | undefined => (m.counts.ok >= n ? signal : undefined);

/** `--resume` of an interrupted run: exit 0, never a torn manifest, and a finished one with a row per image. */
async function resumeToTheEnd(run: { args: string[]; out: string; all: string[] }): Promise<Manifest> {
  const resumed = await runWatched([...run.args, '--resume'], run.out);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(resumed.torn, []);
  const final = readManifest(run.out);
  assert.equal(final.status, 'finished');
  assert.deepEqual(final.rows.map((r) => r.relPath).sort(), run.all, 'one row per image');
  return final;
}

test('SIGTERM halfway: exit 143, a valid manifest of whole images, no temp files; --resume explains the rest, each image once', { timeout: 120_000 }, async (t) => {
  const inputs = tempDir('term-in');
  const all = plantInputs(inputs, 2);
  const out = tempDir('term-out');
  const args = ['explain', inputs, '--out', out, ...RUN];
  const first = await runWatched(args, out, afterOkImages(2, 'SIGTERM'));
  assert.equal(first.code, 143, `signal ${first.signal}; stderr: ${first.stderr}`);
  assert.deepEqual(first.torn, [], 'a read of the manifest found it torn');

  const manifest = readManifest(out);
  assert.equal(manifest.status, 'interrupted');
  assert.equal(manifest.counts.failed, 0, JSON.stringify(manifest.rows.filter((r) => r.status === 'failed')));
  const done = relPathsOf(manifest, isOk);
  assert.ok(done.length >= 2 && done.length < all.length, `done: ${done.join(', ')}`);
  t.diagnostic(`SIGTERM after ${done.length} of ${all.length} images`);
  for (const row of manifest.rows.filter(isOk)) await assertWhole(out, row);
  assert.deepEqual(tempFilesIn(out), [], 'temp files left in --out');
  // Exactly the finished images' outputs: no half image, no lock, nothing unlisted.
  assert.deepEqual(listFiles(out), [MANIFEST_NAME, ...done.flatMap(outputsOf)].sort());
  const before = stamp(out, done.flatMap(outputsOf));

  const final = await resumeToTheEnd({ args, out, all });
  assert.deepEqual(relPathsOf(final, isResumed), done, 'what the first run finished is resumed');
  assert.deepEqual([...done, ...relPathsOf(final, isOk)].sort(), all, 'each image explained exactly once over both runs');
  assert.deepEqual(final.counts, { ok: all.length - done.length, failed: 0, skipped: done.length });
  assert.deepEqual(stamp(out, [...before.keys()]), before, 'a finished image was rewritten');
  assert.deepEqual(listFiles(out), [MANIFEST_NAME, ...all.flatMap(outputsOf)].sort());
});

test('SIGKILL halfway: --resume takes over the stale lock, removes the temp files, redoes only images not whole on disk', { timeout: 120_000 }, async (t) => {
  const inputs = tempDir('kill-in');
  const all = plantInputs(inputs, 2);
  const out = tempDir('kill-out');
  const args = ['explain', inputs, '--out', out, ...RUN];
  const killed = await runWatched(args, out, afterOkImages(2, 'SIGKILL'));
  assert.equal(killed.signal, 'SIGKILL', `exit code ${killed.code}; stderr: ${killed.stderr}`);
  assert.deepEqual(killed.torn, []);

  // The manifest is as of its last write (at most 0.5 s old): valid, running, and right about what it lists.
  const manifest = readManifest(out);
  assert.equal(manifest.status, 'running');
  for (const row of manifest.rows.filter(isOk)) await assertWhole(out, row);
  // On disk, an image is complete when its report is there (written last): those the next run must keep.
  const complete = listFiles(out).filter((f) => f.endsWith(IMAGE_SUFFIXES.report)).map((f) => all.find((p) => outputsOf(p)[0] === f) as string).sort();
  assert.ok(complete.length < all.length, 'the run finished before the kill');
  for (const relPath of relPathsOf(manifest, isOk)) assert.ok(complete.includes(relPath), `${relPath} is listed ok but has no report`);
  for (const relPath of complete) await assertWhole(out, { relPath, sha256: null });
  const before = stamp(out, complete.flatMap(outputsOf));
  // The dead run's lock is left behind, naming it.
  assert.equal(JSON.parse(readFileSync(join(out, LOCK_NAME), 'utf8')).pid, killed.pid);
  // A write the kill cut short, beside whatever the kill really left.
  mkdirSync(join(out, 'c2'), { recursive: true });
  writeFileSync(join(out, 'c2', `.pizza.ig.png.${killed.pid}.0123456789ab.tmp`), 'half a png');
  t.diagnostic(`SIGKILL after ${complete.length} of ${all.length} images; temp files left: ${tempFilesIn(out).join(', ')}`);

  const final = await resumeToTheEnd({ args, out, all });
  assert.deepEqual(relPathsOf(final, isResumed), complete, 'exactly the images complete on disk are kept');
  assert.deepEqual(relPathsOf(final, isOk), all.filter((p) => !complete.includes(p)), 'the others are redone');
  assert.deepEqual(final.counts, { ok: all.length - complete.length, failed: 0, skipped: complete.length });
  assert.deepEqual(stamp(out, [...before.keys()]), before, 'a complete image was rewritten');
  // No temp file, no lock, no orphan heatmap of an image killed before its report.
  assert.deepEqual(listFiles(out), [MANIFEST_NAME, ...all.flatMap(outputsOf)].sort());
  for (const row of final.rows) await assertWhole(out, row);
});

test('a torn manifest: igx merge refuses it in one line with its code; --resume redoes nothing and writes a valid one', { timeout: 120_000 }, async () => {
  const inputs = tempDir('torn-in');
  const all = plantInputs(inputs, 1, 4);
  const out = tempDir('torn-out');
  const args = ['explain', inputs, '--out', out, ...RUN];
  const r = igx(args);
  assert.equal(r.status, 0, r.stderr);
  const before = stamp(out, all.flatMap(outputsOf));
  const text = readFileSync(join(out, MANIFEST_NAME), 'utf8');
  writeFileSync(join(out, MANIFEST_NAME), text.slice(0, Math.floor(text.length / 2)));
  assert.throws(() => readManifest(out), SyntaxError);

  const merge = igx(['merge', out]);
  assert.notEqual(merge.status, 0);
  const lines = merge.stderr.trim().split('\n');
  assert.equal(lines.length, 1, merge.stderr);
  assert.match(lines[0] as string, /\[E_[A-Z_]+\]$/);
  assert.ok(lines[0]?.includes(MANIFEST_NAME), lines[0]);
  assert.doesNotMatch(merge.stderr, /^\s+at /m, 'a stack trace');

  const resumed = igx([...args, '--resume']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const final = readManifest(out);
  assert.equal(final.status, 'finished');
  assert.deepEqual(final.rows.map((row) => row.relPath).sort(), all);
  assert.deepEqual(relPathsOf(final, isResumed), all, 'an image was redone');
  assert.deepEqual(final.counts, { ok: 0, failed: 0, skipped: all.length });
  assert.deepEqual(stamp(out, [...before.keys()]), before);
  assert.deepEqual(listFiles(out), [MANIFEST_NAME, ...all.flatMap(outputsOf)].sort());
  assert.equal(igx(['merge', out]).status, 0, 'the repaired manifest merges');
});

test('the manifest parses at every moment of a run, read every 2 ms', { timeout: 120_000 }, async (t) => {
  const inputs = tempDir('watch-in');
  const all = plantInputs(inputs, 1);
  const out = tempDir('watch-out');
  const run = await runWatched(['explain', inputs, '--out', out, ...RUN], out);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.torn, [], 'a read found the manifest torn');
  t.diagnostic(`${run.reads} reads, ${run.rowCounts.size} versions of the manifest`);
  // The reads spanned the run: the empty manifest, some partial ones and the final one were all seen.
  assert.ok(run.reads >= 100, `only ${run.reads} reads`);
  assert.ok(run.rowCounts.has(0) && run.rowCounts.has(all.length) && run.rowCounts.size >= 4, [...run.rowCounts].join());
  assert.equal(readManifest(out).counts.ok, all.length);
  assert.ok(!existsSync(join(out, LOCK_NAME)));
});
