/**
 * Hostile inputs (issue 16): bombs, truncated and random files, devices and FIFOs, mutated models,
 * broken configs and absurd flags, each run through the built CLI. For every case: the exit code is
 * 1 or 2 (0 where the input is legitimately fine), stderr is exactly one line per failure with an
 * `[E_…]` code and no stack, the run ends within its time bound, its peak RSS stays ≤ 1.5 GiB, and
 * --out holds no temp file and no half output. Run after `npm run build`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { GROUPS, makeConfigCases, makeFlagCases, makeGraphModelCases, makeImageCases, makeOnnxCases, makeSavedModelCases, type Group, type HostileCase } from '../support/hostile-cases.js';
import { listFiles } from '../support/list-files.js';
import { IGX_BIN, ROOT } from '../support/paths.js';

const MAX_RSS_BYTES = 1.5 * 1024 ** 3;
/** Past this a child is killed at once, to keep a runaway case from taking the machine down. */
const KILL_RSS_BYTES = 3 * 1024 ** 3;
const DEFAULT_TIMEOUT_MS = 60_000;
const CONCURRENCY = 2;

const WORK = mkdtempSync(join(tmpdir(), 'igx-hostile-'));
const PRELOAD = join(WORK, 'max-rss-preload.mjs');
/** Loaded into igx through NODE_OPTIONS: writes the process's peak RSS (KiB) on exit. */
const PRELOAD_SOURCE = `import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
const file = process.env.IGX_HOSTILE_RSS_FILE;
if (isMainThread && file) process.on('exit', () => { try { writeFileSync(file, String(process.resourceUsage().maxRSS)); } catch {} });
`;

interface Run {
  exit: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  durationMs: number;
  maxRssBytes: number;
  killedFor?: 'time' | 'memory';
}

/** VmHWM and VmRSS of a live process, bytes (0 once it is gone). */
function readProcMemory(pid: number): { hwm: number; rss: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return { hwm: 0, rss: 0 };
  }
}

let runCount = 0;
function runMeasured(c: HostileCase): Promise<Run> {
  runCount += 1;
  const rssFile = join(WORK, `rss-${runCount}.txt`);
  const started = performance.now();
  const child = spawn(process.execPath, [IGX_BIN, ...c.args], {
    cwd: c.cwd ?? ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      NO_COLOR: '1',
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(PRELOAD).href}`.trim(),
      IGX_HOSTILE_RSS_FILE: rssFile,
    },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 1 << 20) stderr += s;
  });
  let polledHwm = 0;
  let killedFor: Run['killedFor'];
  const poll = setInterval(() => {
    if (child.pid === undefined) return;
    const m = readProcMemory(child.pid);
    polledHwm = Math.max(polledHwm, m.hwm);
    if (m.rss > KILL_RSS_BYTES && killedFor === undefined) {
      killedFor = 'memory';
      child.kill('SIGKILL');
    }
  }, 100);
  const timer = setTimeout(() => {
    killedFor ??= 'time';
    child.kill('SIGKILL');
  }, c.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on('close', (exit, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      const reported = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) * 1024 : 0;
      resolve({ exit, signal, stderr, durationMs: performance.now() - started, maxRssBytes: Math.max(reported, polledHwm), killedFor });
    });
  });
}


interface ManifestRow {
  relPath: string;
  status: 'ok' | 'failed' | 'skipped';
  error?: { code: string };
}

/** What one case (or one file of a batch case) came to. */
type Verdict = 'refused' | 'fine' | 'failure';

interface Checked {
  problems: string[];
  /** One verdict per counted case: the run's, or each batch file's. */
  verdicts: Verdict[];
}

/** Lines that betray an unhandled error: a stack frame, or an error printed raw. */
const isDumpLine = (line: string): boolean => /^\s+at\s/.test(line) || /^\s*(\w*Error|Uncaught|node:internal)\b/.test(line) || line.includes('node:internal/');

function checkRun(c: HostileCase, run: Run): Checked {
  const problems: string[] = [];
  if (run.killedFor === 'time') problems.push(`killed after ${c.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`);
  if (run.killedFor === 'memory') problems.push(`killed at RSS over ${KILL_RSS_BYTES} bytes`);
  if (run.maxRssBytes > MAX_RSS_BYTES) problems.push(`peak RSS ${(run.maxRssBytes / 1024 ** 3).toFixed(2)} GiB, over 1.5 GiB`);
  if (run.signal !== null && run.killedFor === undefined) problems.push(`died of ${run.signal}`);
  if (run.exit !== null && !c.exits.includes(run.exit)) problems.push(`exit ${run.exit}, expected ${c.exits.join(' or ')}`);
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
  for (const line of lines) {
    if (isDumpLine(line)) problems.push(`stack or raw error on stderr: ${line.slice(0, 200)}`);
    else if (!/\[E_[A-Z_]+\]/.test(line)) problems.push(`stderr line without an [E_…] code: ${line.slice(0, 200)}`);
    // An unexpected error is a bug in igx, however tidy its line.
    else if (line.includes('[E_INTERNAL]')) problems.push(`unexpected error: ${line.slice(0, 200)}`);
    else if (c.codes !== undefined && !c.codes.some((code) => line.includes(`[${code}]`))) problems.push(`code not one of ${c.codes.join(', ')}: ${line.slice(0, 200)}`);
  }
  const files = c.out !== undefined && c.out.startsWith(WORK) ? listFiles(c.out) : [];
  const temps = files.filter((f) => f.endsWith('.tmp'));
  if (temps.length > 0) problems.push(`temp files left in --out: ${temps.join(', ')}`);
  // Every output belongs to a whole report, and a report's files are all there.
  for (const f of files.filter((f) => /\.(ig|overlay)\.png$|\.ig\.npy$/.test(f))) {
    const report = f.replace(/\.(ig|overlay)\.png$|\.ig\.npy$/, '.ig.json');
    if (!files.includes(report)) problems.push(`half output: ${f} without ${report}`);
  }
  for (const f of files.filter((f) => f.endsWith('.ig.json'))) {
    const reportDir = join(f, '..');
    const outputs = Object.values((JSON.parse(readFileSync(join(c.out as string, f), 'utf8')) as { outputs?: Record<string, string | null> }).outputs ?? {});
    for (const o of outputs) if (typeof o === 'string' && !files.includes(join(reportDir, o))) problems.push(`${f} names ${o}, which is missing`);
  }
  if (c.batchFiles === undefined) {
    if (run.exit === 0 && lines.length !== 0) problems.push(`exit 0 with ${lines.length} stderr lines`);
    if (run.exit !== 0 && lines.length !== 1) problems.push(`${lines.length} stderr lines, expected exactly 1`);
    if (run.exit === 2 && files.length > 0) problems.push(`exit 2 but --out holds ${files.join(', ')}`);
    const verdict: Verdict = problems.length > 0 ? 'failure' : run.exit === 0 ? 'fine' : 'refused';
    return { problems, verdicts: [verdict] };
  }
  // A batch: a manifest row per file, one line per failed file, outputs exactly for the ok ones.
  const manifestPath = join(c.out as string, 'igx-run.json');
  const rows: ManifestRow[] = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { rows: ManifestRow[] }).rows : [];
  if (rows.length === 0) problems.push('no manifest rows');
  const byPath = new Map(rows.map((r) => [r.relPath, r]));
  const fileProblems = new Map<string, string[]>();
  let failed = 0;
  for (const file of c.batchFiles) {
    const own: string[] = [];
    const row = byPath.get(file);
    const stem = file.replace(/\.[^./]+$/, '');
    const hasOutputs = files.some((f) => f.startsWith(`${stem}.`) && f !== 'igx-run.json');
    if (row === undefined) own.push(`${file}: no manifest row`);
    else if (row.status === 'failed') {
      failed += 1;
      const own1 = lines.filter((l) => l.includes(file));
      if (own1.length !== 1) own.push(`${file}: ${own1.length} stderr lines name it, expected 1`);
      else if (row.error !== undefined && !own1[0]!.includes(`[${row.error.code}]`)) own.push(`${file}: its line does not carry [${row.error.code}]`);
      if (hasOutputs) own.push(`${file}: failed but has outputs`);
    } else if (row.status === 'ok') {
      if (!hasOutputs) own.push(`${file}: ok but no outputs`);
    } else own.push(`${file}: ${row.status}`);
    fileProblems.set(file, own);
  }
  if (lines.length !== failed) problems.push(`${lines.length} stderr lines for ${failed} failed files`);
  if (run.exit !== null && run.exit !== (failed > 0 ? 1 : 0)) problems.push(`exit ${run.exit} with ${failed} failed files`);
  const verdicts = c.batchFiles.map((file): Verdict => {
    const own = fileProblems.get(file) ?? [];
    if (problems.length > 0 || own.length > 0) return 'failure';
    return byPath.get(file)?.status === 'ok' ? 'fine' : 'refused';
  });
  return { problems: [...problems, ...[...fileProblems.values()].flat()], verdicts };
}

interface Tally {
  tried: number;
  refused: number;
  fine: number;
  failures: number;
  todo: number;
}
const tallies = new Map<Group, Tally>(GROUPS.map((g) => [g, { tried: 0, refused: 0, fine: 0, failures: 0, todo: 0 }]));
const slowest: { name: string; ms: number }[] = [];
let peakRss = { bytes: 0, name: '' };
const casesByGroup = new Map<Group, HostileCase[]>();
const suiteStarted = performance.now();

before(async () => {
  writeFileSync(PRELOAD, PRELOAD_SOURCE);
  const all = [
    ...(await makeImageCases(WORK)),
    ...makeGraphModelCases(WORK),
    ...makeSavedModelCases(WORK),
    ...makeOnnxCases(WORK),
    ...makeConfigCases(WORK),
    ...makeFlagCases(WORK),
  ];
  for (const g of GROUPS) casesByGroup.set(g, all.filter((c) => c.group === g));
});

after(() => rmSync(WORK, { recursive: true, force: true }));

for (const group of GROUPS) {
  test(`hostile ${group}`, { concurrency: CONCURRENCY }, async (t) => {
    const cases = casesByGroup.get(group) ?? [];
    const tally = tallies.get(group) as Tally;
    await Promise.all(
      cases.map((c) =>
        t.test(c.name, c.todo === undefined ? {} : { todo: c.todo }, async () => {
          const run = await runMeasured(c);
          const { problems, verdicts } = checkRun(c, run);
          tally.tried += verdicts.length;
          for (const v of verdicts) {
            if (v === 'refused') tally.refused += 1;
            else if (v === 'fine') tally.fine += 1;
            else if (c.todo !== undefined) tally.todo += 1;
            else tally.failures += 1;
          }
          slowest.push({ name: `${group}: ${c.name}`, ms: run.durationMs });
          if (run.maxRssBytes > peakRss.bytes) peakRss = { bytes: run.maxRssBytes, name: `${group}: ${c.name}` };
          const where = `igx ${c.args.join(' ')}\nexit ${run.exit}${run.signal ? ` (${run.signal})` : ''}, ${Math.round(run.durationMs)} ms, peak RSS ${Math.round(run.maxRssBytes / 1024 ** 2)} MiB${c.fineWhy ? `\nexit 0 accepted: ${c.fineWhy}` : ''}\nstderr:\n${run.stderr.slice(0, 4000)}`;
          assert.deepEqual(problems, [], where);
        }),
      ),
    );
  });
}

test('hostile summary', (t) => {
  const rows = GROUPS.map((g) => [g, tallies.get(g) as Tally] as const);
  const total = rows.reduce((s, [, r]) => ({ tried: s.tried + r.tried, refused: s.refused + r.refused, fine: s.fine + r.fine, failures: s.failures + r.failures, todo: s.todo + r.todo }), { tried: 0, refused: 0, fine: 0, failures: 0, todo: 0 });
  t.diagnostic('| group | cases tried | refused cleanly | ran fine | failures | todo (known bugs) |');
  t.diagnostic('|---|---|---|---|---|---|');
  for (const [g, r] of [...rows, ['total', total] as const]) t.diagnostic(`| ${g} | ${r.tried} | ${r.refused} | ${r.fine} | ${r.failures} | ${r.todo} |`);
  t.diagnostic(`suite ${Math.round((performance.now() - suiteStarted) / 1000)} s; peak RSS of a case ${Math.round(peakRss.bytes / 1024 ** 2)} MiB (${peakRss.name})`);
  for (const s of slowest.sort((a, b) => b.ms - a.ms).slice(0, 5)) t.diagnostic(`slow: ${Math.round(s.ms)} ms ${s.name}`);
});
