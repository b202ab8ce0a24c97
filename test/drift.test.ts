import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { main } from '../src/cli/main.js';
import { parseExplainFlags, type RawExplainFlags } from '../src/config/explain-config.js';
import { DETERMINISTIC_THRESHOLDS, RANDOM_BASELINE_THRESHOLDS } from '../src/drift/compare.js';
import { buildManifestConfig, buildReportConfig, compareRunConfigs } from '../src/drift/config-guard.js';
import { computeCosine, computeRanks, computeSpearman, computeSsim, computeTopKCount, computeTopKIou, computeTopKSet } from '../src/drift/metrics.js';
import { escapeXml } from '../src/drift/outputs.js';
import { DriftInputReportSchema } from '../src/drift/runs.js';
import { DriftReportSchema, type DriftReport } from '../src/drift/schema.js';
import { closeExplainSession, explainImage, openExplainSession } from '../src/explain/index.js';
import { decodeNpy, encodeNpy } from '../src/report/npy.js';
import { createRng } from '../src/numeric/rng.js';
import { fixture } from './support/paths.js';

// Runs are made once, through the library, with few steps; drift runs through main() as the CLI does.
const IMAGES = ['cat.jpg', 'dog.jpg', 'pizza.jpg'];
const made: string[] = [];
const tmp = (tag: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `igx-drift-${tag}-`));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
const DEFAULT_MODEL = fixture('models', 'mobilenet_v1_0.25_224');

async function explainRun(flags: RawExplainFlags, images = IMAGES.map((i) => fixture('images', i))): Promise<string> {
  const out = tmp('run');
  const session = await openExplainSession(parseExplainFlags({ backend: 'wasm', out, steps: '8', saveRaw: true, ...flags }));
  try {
    for (const image of images) await explainImage(session, image);
  } finally {
    closeExplainSession(session);
  }
  return out;
}

/** A copy of a tfjs model folder with every float32 weight scaled by (1 + sigma·z), z ~ N(0, 1), seeded. */
function perturbModel(src: string, sigma: number, seed: number): string {
  const dst = tmp('model');
  for (const f of readdirSync(src)) {
    copyFileSync(join(src, f), join(dst, f));
    chmodSync(join(dst, f), 0o644); // the fixtures are read-only
  }
  const json = JSON.parse(readFileSync(join(src, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[]; weights: { dtype: string }[] }[] };
  const rng = createRng(seed);
  for (const group of json.weightsManifest) {
    assert.ok(group.weights.every((w) => w.dtype === 'float32'));
    for (const p of group.paths) {
      const bytes = readFileSync(join(src, p));
      const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      for (let i = 0; i < values.length; i += 1) values[i] = values[i]! * (1 + sigma * rng.normal());
      writeFileSync(join(dst, p), Buffer.from(values.buffer));
    }
  }
  return dst;
}

const silent = () => ({ stdout: new Writable({ write: (_c, _e, done) => done() }), stderr: new Writable({ write: (_c, _e, done) => done() }), env: { NO_COLOR: '1' } });

/** `igx explain` through the CLI (it writes igx-run.json); returns its exit code. */
const cliExplain = (files: string[], out: string, flags: string[] = []): Promise<number> =>
  main(['node', 'igx', 'explain', ...files, '--steps', '8', '--save-raw', '--backend', 'wasm', '--quiet', '--out', out, ...flags], silent());

async function drift(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write: (chunk, _enc, done) => (append(String(chunk)), done()) });
  const code = await main(['node', 'igx', 'drift', ...args], {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    env: { NO_COLOR: '1' },
  });
  return { code, stdout, stderr };
}

const readDrift = (out: string): DriftReport => DriftReportSchema.parse(JSON.parse(readFileSync(join(out, 'drift.json'), 'utf8')));

// ---- a strict XML 1.0 parser, enough for JUnit: rejects what a conforming parser would ----
interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

function parseXml(xml: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`XML: ${why} at offset ${i}: ${JSON.stringify(xml.slice(i, i + 30))}`);
  };
  for (const ch of xml) {
    const cp = ch.codePointAt(0)!;
    if (!(cp === 9 || cp === 10 || cp === 13 || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000)) fail(`character U+${cp.toString(16)} is not allowed`);
  }
  const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(xml);
    if (!m) fail('expected a name');
    i += m![0].length;
    return m![0];
  };
  const space = (): void => {
    while (/\s/.test(xml[i] ?? '')) i += 1;
  };
  const decode = (raw: string): string => {
    if (/<|&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(raw)) fail(`unescaped < or & in ${JSON.stringify(raw)}`);
    return raw.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) =>
      e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === 'apos' ? "'" : String.fromCodePoint(e.startsWith('#x') ? parseInt(e.slice(2), 16) : Number(e.slice(1))),
    );
  };
  const element = (): XmlElement => {
    if (xml[i] !== '<') fail('expected <');
    i += 1;
    const el: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
    for (;;) {
      const before = i;
      space();
      if (xml.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (xml[i] === '>') {
        i += 1;
        break;
      }
      if (i === before) fail('expected space before an attribute');
      const key = name();
      if (key in el.attrs) fail(`duplicate attribute ${key}`);
      space();
      if (xml[i] !== '=') fail('expected =');
      i += 1;
      space();
      const q = xml[i];
      if (q !== '"' && q !== "'") fail('expected a quoted value');
      const end = xml.indexOf(q!, i + 1);
      if (end < 0) fail('unterminated attribute');
      el.attrs[key] = decode(xml.slice(i + 1, end));
      i = end + 1;
    }
    for (;;) {
      const next = xml.indexOf('<', i);
      if (next < 0) fail(`unclosed <${el.name}>`);
      el.text += decode(xml.slice(i, next));
      i = next;
      if (xml.startsWith('</', i)) {
        i += 2;
        if (name() !== el.name) fail(`mismatched </…> for <${el.name}>`);
        space();
        if (xml[i] !== '>') fail('expected >');
        i += 1;
        return el;
      }
      el.children.push(element());
    }
  };
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (!/^<\?xml version="1\.0"( encoding="UTF-8")?\?>$/.test(xml.slice(0, end + 2))) fail('bad XML declaration');
    i = end + 2;
  }
  space();
  const root = element();
  space();
  if (i !== xml.length) fail('content after the root element');
  return root;
}

// ---- runs shared by the tests ----
const runs: Record<string, string> = {};

before(async () => {
  runs.base = await explainRun({});
  runs.same = await explainRun({});
  // 1% relative noise on every weight: measured to move every image's attributions far below the thresholds.
  runs.perturbed = await explainRun({ model: perturbModel(DEFAULT_MODEL, 0.01, 7) });
  runs.darknet = await explainRun({ model: fixture('models', 'darknet_tiny'), preprocess: '[0,1]' });
  runs.steps16 = await explainRun({ steps: '16' }, [fixture('images', 'cat.jpg')]);
  runs.seed0 = await explainRun({ baseline: ['gaussian'], baselineSamples: '4', seed: '0' });
  runs.seed1 = await explainRun({ baseline: ['gaussian'], baselineSamples: '4', seed: '1' });
});

// ---- the metrics, on numbers worked out by hand ----
test('ranks: ties share the mean of their ranks', () => {
  assert.deepEqual([...computeRanks([5, 7, 5, 1])], [2.5, 4, 2.5, 1]);
  assert.deepEqual([...computeRanks([3, 3, 3])], [2, 2, 2]);
});

test('Spearman ranks magnitudes: sign flips do not matter, order does', () => {
  assert.equal(computeSpearman([1, -2, 3, 4], [-1, 2, -3, 4]), 1);
  assert.equal(computeSpearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // |a| ranks 1,2,3,4; |b| ranks 1,2,4,3 → d² = 2 → ρ = 1 − 6·2 / (4·15) = 0.8
  assert.ok(Math.abs(computeSpearman([1, 2, 3, 4], [1, 2, 4, 3]) - 0.8) < 1e-12);
  // a constant map has no order to agree with
  assert.equal(computeSpearman([1, 1, 1, 1], [1, 2, 3, 4]), 0);
});

test('top-k IoU: ⌈k·n/100⌉ cells by |value|, ties to the lower index', () => {
  assert.equal(computeTopKCount(1024, 10), 103);
  assert.equal(computeTopKCount(10, 10), 1);
  assert.equal(computeTopKCount(3, 0.1), 1);
  assert.deepEqual([...computeTopKSet([0, -5, 5, 1], 50)].sort(), [1, 2]);
  assert.deepEqual([...computeTopKSet([2, 2, 2, 2], 50)].sort(), [0, 1]);
  // top 2 of 4: {1, 2} vs {2, 3} → 1 / 3
  assert.equal(computeTopKIou([0, -5, 5, 1], [0, 1, 5, -4], 50), 1 / 3);
  assert.equal(computeTopKIou([1, 2, 3, 4], [1, 2, 3, 4], 25), 1);
});

test('cosine and SSIM compare signed maps', () => {
  const a = Array.from({ length: 32 * 32 }, (_, i) => Math.sin(i / 7) * (i % 5));
  const neg = a.map((v) => -v);
  assert.equal(computeCosine([1, 0], [0, 1]), 0);
  assert.ok(Math.abs(computeCosine([1, 2], [2, 4]) - 1) < 1e-12);
  assert.ok(Math.abs(computeCosine(a, neg) + 1) < 1e-12);
  assert.ok(Math.abs(computeSsim(a, a, 32, 32) - 1) < 1e-12);
  // scale-free: a uniformly larger map is the same heatmap
  assert.ok(Math.abs(computeSsim(a, a.map((v) => 3 * v), 32, 32) - 1) < 1e-9);
  assert.ok(computeSsim(a, neg, 32, 32) < -0.9);
});

test('decodeNpy reads what igx writes and refuses other dtypes', () => {
  const data = Float32Array.from([1.5, -2, 0, 3.25, 7, -8]);
  const back = decodeNpy(encodeNpy(data, [1, 2, 3]));
  assert.deepEqual(back.shape, [1, 2, 3]);
  assert.deepEqual([...back.data], [...data]);
  const f8 = Buffer.from(encodeNpy(data, [6]).toString('latin1').replace("'<f4'", "'<f8'"), 'latin1');
  assert.throws(() => decodeNpy(f8), /float32/);
  const npy = encodeNpy(data, [6]);
  assert.throws(() => decodeNpy(npy.subarray(0, npy.length - 4)), /needs 24 data bytes, the file has 20/);
});

test('escapeXml escapes markup and replaces characters XML cannot hold', () => {
  assert.equal(escapeXml(`a<b>&"c'\n`), 'a&lt;b&gt;&amp;&quot;c&apos;&#10;');
  assert.equal(escapeXml('x\u0001y\ud800', false), 'x\ufffdy\ufffd');
  assert.equal(parseXml(`<t a="${escapeXml('<&>"\'\n\u0007')}"/>`).attrs.a, '<&>"\'\n\ufffd');
});

test('config guard: settings from the reports, igx-run.json overriding what the user typed', () => {
  const report = DriftInputReportSchema.parse(JSON.parse(readFileSync(join(runs.base!, 'cat.ig.json'), 'utf8')));
  const fromReports = buildReportConfig(report);
  assert.deepEqual(fromReports, {
    method: 'gausslegendre',
    path: 'straight',
    'max sigma': 'n/a',
    smoothing: 'none',
    layer: 'none',
    output: null,
    signature: null,
    steps: '8',
    baselines: 'black',
    target: 'top',
    preprocess: 'mean [127.5, 127.5, 127.5] std [127.5, 127.5, 127.5]',
    resize: 'cover',
    'output space': 'probabilities',
  });
  const manifest = buildManifestConfig({ config: { baselines: ['gaussian:32', 'black'], baselineSamples: 3, tolerance: 0.05, maxSteps: 400, target: 'Tabby' } }, fromReports);
  assert.equal(manifest.baselines, 'gaussian:32 ×3, black');
  assert.equal(manifest.steps, 'adaptive (tolerance 0.05, max 400)');
  assert.equal(manifest.target, 'tabby');
  assert.deepEqual(compareRunConfigs(fromReports, manifest).map((d) => d.field), ['steps', 'baselines', 'target']);
});

// ---- the command ----
test('a run against an identical run: exit 0, every similarity exactly 1, reports byte-identical apart from timings', async () => {
  for (const image of IMAGES) {
    const stem = image.replace(/\.\w+$/, '');
    const strip = (dir: string): string => {
      const r = JSON.parse(readFileSync(join(dir, `${stem}.ig.json`), 'utf8'));
      delete r.timingsMs;
      return JSON.stringify(r);
    };
    assert.equal(strip(runs.base!), strip(runs.same!), image);
    assert.deepEqual(readFileSync(join(runs.base!, `${stem}.ig.npy`)), readFileSync(join(runs.same!, `${stem}.ig.npy`)), image);
  }
  for (const current of [runs.same!, runs.base!]) {
    const out = tmp('out');
    const r = await drift([runs.base!, current, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const report = readDrift(out);
    assert.equal(report.noise, 'deterministic');
    assert.deepEqual(report.thresholds, DETERMINISTIC_THRESHOLDS);
    assert.equal(report.summary.images, 3);
    assert.equal(report.summary.passed, 3);
    assert.deepEqual(report.configDifferences, []);
    for (const row of report.images) {
      assert.equal(row.status, 'pass');
      assert.deepEqual(row.similarity, { spearman: 1, iou: 1, cosine: 1, ssim: 1 });
      assert.equal(row.scoreDelta, 0);
      assert.equal(row.classChanged, false);
      assert.deepEqual(row.map, { source: 'raw', size: 32 });
      assert.equal(row.panel, null);
    }
    assert.deepEqual(report.images.map((r) => r.image), ['cat.jpg', 'dog.jpg', 'pizza.jpg']);
    assert.equal(existsSync(join(out, 'panels')), false);
    const junit = parseXml(readFileSync(join(out, 'drift.junit.xml'), 'utf8'));
    assert.deepEqual([junit.attrs.tests, junit.attrs.failures, junit.attrs.errors], ['3', '0', '0']);
    assert.match(r.stdout, /## igx drift: no drift in 3 images/);
  }
});

test('explain on 1 and on 2 workers: the same report bytes apart from timings, and exactly zero drift', async () => {
  const files = IMAGES.map((i) => fixture('images', i));
  const one = tmp('run');
  const two = tmp('run');
  assert.equal(await cliExplain(files, one, ['--workers', '1']), 0);
  assert.equal(await cliExplain(files, two, ['--workers', '2']), 0);
  for (const image of IMAGES) {
    const stem = image.replace(/\.\w+$/, '');
    const strip = (dir: string): string => readFileSync(join(dir, `${stem}.ig.json`), 'utf8').replace(/"timingsMs": \{[^}]*\}/, '');
    assert.equal(strip(one), strip(two), image);
  }
  const out = tmp('out');
  const r = await drift([one, two, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const report = readDrift(out);
  assert.equal(report.baseline.configSource, 'igx-run.json');
  assert.ok(report.images.every((row) => row.similarity!.ssim === 1 && row.similarity!.spearman === 1 && row.scoreDelta === 0));
});

test('perturbed weights: exit 1, every image drifts, with a table, panels and JUnit failures', async () => {
  const out = tmp('out');
  const r = await drift([runs.base!, runs.perturbed!, '--out', out]);
  assert.equal(r.code, 1, r.stderr);
  const report = readDrift(out);
  assert.equal(report.summary.drifted, 3);
  for (const row of report.images) {
    assert.equal(row.status, 'drift');
    assert.ok(row.similarity!.ssim < DETERMINISTIC_THRESHOLDS.minSsim, `${row.image}: ssim ${row.similarity!.ssim}`);
    assert.ok(row.reasons.some((why) => why.startsWith('ssim ')), row.reasons.join('; '));
    assert.equal(row.panel, `panels/${row.key}.drift.png`);
    const meta = await sharp(join(out, row.panel!)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 3 * 224 + 16, 224 + 20]);
    assert.notEqual(row.current!.modelSha256, row.baseline!.modelSha256);
  }
  // the table: a header and one **DRIFT** row per image, the same on stdout and in drift.md
  assert.equal(readFileSync(join(out, 'drift.md'), 'utf8'), r.stdout);
  assert.match(r.stdout, /## igx drift: 3 of 3 images drifted/);
  assert.match(r.stdout, /\| status \| image \| Spearman \| IoU \| cosine \| SSIM \| top class \| score Δ \| why \|/);
  for (const image of ['cat.jpg', 'dog.jpg', 'pizza.jpg']) assert.match(r.stdout, new RegExp(`\\| \\*\\*DRIFT\\*\\* \\| ${image.replace('.', '\\.')} \\| `));
  const junit = parseXml(readFileSync(join(out, 'drift.junit.xml'), 'utf8'));
  const suite = junit.children[0]!;
  assert.deepEqual([suite.attrs.tests, suite.attrs.failures, suite.attrs.errors], ['3', '3', '0']);
  assert.equal(suite.children.filter((c) => c.name === 'testcase' && c.children[0]?.name === 'failure').length, 3);
  assert.match(suite.children[0]!.children[0]!.attrs.message!, /ssim -?\d\.\d{3} < 0\.\d+/);
});

test('another architecture: refused for its preprocessing, then drifts on every image with --allow-config-change', async () => {
  const refused = tmp('out');
  const r1 = await drift([runs.base!, runs.darknet!, '--out', refused]);
  assert.equal(r1.code, 2);
  assert.match(r1.stderr, /E_DRIFT_CONFIG/);
  assert.match(r1.stderr, /preprocess: mean \[127\.5, 127\.5, 127\.5\] std \[127\.5, 127\.5, 127\.5\] → mean \[0, 0, 0\] std \[255, 255, 255\]/);
  assert.equal(existsSync(join(refused, 'drift.json')), false);

  const out = tmp('out');
  const r2 = await drift([runs.base!, runs.darknet!, '--out', out, '--allow-config-change']);
  assert.equal(r2.code, 1, r2.stderr);
  const report = readDrift(out);
  assert.deepEqual(report.configDifferences.map((d) => d.field), ['preprocess', 'output space']);
  assert.equal(report.summary.drifted, 3);
  assert.ok(report.images.every((row) => row.similarity!.ssim < 0.5 && row.similarity!.cosine < 0.5));
  assert.match(r2.stdout, /Config differences \(allowed by `--allow-config-change`\)/);
});

test('a change of steps is refused with the difference listed; exit 2', async () => {
  const out = tmp('out');
  const r = await drift([runs.base!, runs.steps16!, '--out', out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /E_DRIFT_CONFIG/);
  assert.match(r.stderr, /anyway\): (.+; )?steps: 8 → 16( |;)/);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  assert.doesNotMatch(r.stderr, /method:/);
  assert.equal(existsSync(join(out, 'drift.json')), false);
});

test('random baselines, another seed: the defaults pass', async () => {
  const out = tmp('out');
  const r = await drift([runs.seed0!, runs.seed1!, '--out', out]);
  assert.equal(r.code, 0, r.stdout);
  const report = readDrift(out);
  assert.equal(report.noise, 'random-baselines');
  assert.deepEqual(report.thresholds, RANDOM_BASELINE_THRESHOLDS);
  assert.deepEqual(report.warnings, []);
  assert.ok(report.images.every((row) => row.similarity!.ssim < 0.9), 'the seeds do change the maps');
  // the same pair on the reports' grids alone: seed noise is not averaged out there, and drift says so
  const grid = tmp('out');
  await drift([runs.seed0!, runs.seed1!, '--out', grid, '--map', 'grid']);
  assert.match(readDrift(grid).warnings[0]!, /3 image\(s\) with random baselines were compared on the reports' 32×32 grids/);
});

test('an image whose bytes differ, or that is in one run only, is an error row: exit 2, JUnit errors', async () => {
  // The current run comes from the CLI, so it has an igx-run.json: "cat.jpg" is the dog photo, and
  // pizza.jpg is truncated, so explain fails on it and the manifest says why.
  const dir = tmp('inputs');
  copyFileSync(fixture('images', 'dog.jpg'), join(dir, 'cat.jpg'));
  copyFileSync(fixture('images', 'dog.jpg'), join(dir, 'dog.jpg'));
  writeFileSync(join(dir, 'pizza.jpg'), readFileSync(fixture('images', 'pizza.jpg')).subarray(0, 2000));
  const current = tmp('run');
  const files = ['cat.jpg', 'dog.jpg', 'pizza.jpg'].map((f) => join(dir, f));
  assert.equal(await cliExplain(files, current), 1);
  assert.ok(existsSync(join(current, 'igx-run.json')));
  const out = tmp('out');
  const r = await drift([runs.base!, current, '--out', out]);
  assert.equal(r.code, 2, r.stderr);
  const report = readDrift(out);
  assert.equal(report.current.configSource, 'igx-run.json');
  assert.deepEqual(
    report.images.map((row) => [row.image, row.status, row.error?.code ?? null]),
    [
      ['cat.jpg', 'error', 'E_DRIFT_PAIR'],
      ['dog.jpg', 'pass', null],
      ['pizza.jpg', 'error', 'E_DRIFT_PAIR'],
    ],
  );
  assert.match(report.images[0]!.error!.message, /input images differ/);
  assert.match(report.images[2]!.error!.message, /only in the baseline run \(explain failed on it there: E_IMAGE_DECODE/);
  assert.match(r.stderr, /error pizza\.jpg: .*\[E_DRIFT_PAIR\]/);
  const suite = parseXml(readFileSync(join(out, 'drift.junit.xml'), 'utf8')).children[0]!;
  assert.deepEqual([suite.attrs.tests, suite.attrs.failures, suite.attrs.errors], ['3', '0', '2']);
  assert.equal(suite.children.filter((c) => c.children[0]?.name === 'error').length, 2);
});

test('runs in subfolders pair by relative path', async () => {
  const root = tmp('tree');
  for (const sub of ['a', 'b']) {
    mkdirSync(join(root, sub));
    for (const f of readdirSync(runs.base!).filter((f) => f.startsWith('cat.'))) copyFileSync(join(runs.base!, f), join(root, sub, f));
  }
  const out = tmp('out');
  const r = await drift([root, root, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readDrift(out).images.map((row) => [row.key, row.image]), [['a/cat', 'a/cat.jpg'], ['b/cat', 'b/cat.jpg']]);
});

test('unusable inputs exit 2 with one line naming the problem', async () => {
  const empty = tmp('empty');
  const cases: [string[], RegExp][] = [
    [[join(empty, 'missing'), runs.base!], /no such run folder.*E_DRIFT_RUN/],
    [[empty, runs.base!], /no \*\.ig\.json reports.*E_DRIFT_RUN/],
    [[runs.base!, runs.same!, '--min-iou', '2'], /--min-iou: expected a number ≥ 0 and ≤ 1, received "2".*E_FLAG/],
    [[runs.base!, runs.same!, '--map', 'pixels'], /--map/],
  ];
  for (const [args, pattern] of cases) {
    const r = await drift([...args, '--out', tmp('out')]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, pattern);
  }
});
