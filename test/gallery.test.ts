import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { parseExplainFlags } from '../src/config/explain-config.js';
import { DEFAULT_EVALUATE_OPTIONS, evaluateImage } from '../src/evaluate/run-evaluate.js';
import { closeExplainSession, explainImage, openExplainSession } from '../src/explain/index.js';
import { applyMask, blurMap, computeMask } from '../src/render/mask.js';
import { computePanelSize, PANEL_LAYOUT, renderPanelPng } from '../src/render/panel.js';
import { readImage } from '../src/image/read-image.js';
import { buildGalleryHtml, writeGallery } from '../src/report/gallery.js';
import { main } from '../src/cli/main.js';
import { fixture } from './support/paths.js';

test('mask: blur keeps a constant map, the threshold keeps the top share, the rest is dimmed', () => {
  const flat = blurMap(new Float32Array(30).fill(2), 5, 6, 1.5);
  for (const v of flat) assert.ok(Math.abs(v - 2) < 1e-5);
  // 10 × 10, one channel: the values 0..99; the top 10 % are the last row.
  const attributions = Float32Array.from({ length: 100 }, (_, i) => i);
  const mask = computeMask(attributions, [10, 10, 1], { blurSigma: 0, threshold: 0.9, polarity: 'positive' });
  assert.deepEqual(Array.from(mask).map((m, i) => (m ? i : -1)).filter((i) => i >= 0), [90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
  // Negative evidence: polarity negative keeps the most negative.
  const neg = computeMask(attributions.map((v) => -v), [10, 10, 1], { blurSigma: 0, threshold: 0.95, polarity: 'negative' });
  assert.equal(neg[99], 1);
  assert.equal(neg[0], 0);
  // A blob survives the blur, an isolated speck is smoothed below the cut.
  const blob = new Float32Array(400);
  for (let y = 4; y < 10; y += 1) for (let x = 4; x < 10; x += 1) blob[y * 20 + x] = 1;
  blob[15 * 20 + 15] = 3;
  const kept = computeMask(blob, [20, 20, 1], { blurSigma: 2, threshold: 0.9, polarity: 'positive' });
  assert.equal(kept[7 * 20 + 7], 1);
  assert.equal(kept[15 * 20 + 15], 0);
  const rgb = applyMask(new Float32Array(100).fill(200), mask, 1, 0.25);
  assert.deepEqual([rgb[0], rgb[1], rgb[2], rgb[3 * 95]], [50, 50, 50, 200]);
});

/** Pixels of an RGB(A) region whose channels differ by > 60 (coloured, not gray or white). */
async function countColourful(png: Buffer | string, region?: { left: number; top: number; width: number; height: number }): Promise<number> {
  let img = sharp(png).removeAlpha();
  if (region) img = img.extract(region);
  const { data } = await img.raw().toBuffer({ resolveWithObject: true });
  let n = 0;
  for (let i = 0; i < data.length; i += 3) {
    const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) n += 1;
  }
  return n;
}

async function countDark(png: Buffer, region: { left: number; top: number; width: number; height: number }): Promise<number> {
  const { data } = await sharp(png).extract(region).greyscale().raw().toBuffer({ resolveWithObject: true });
  return data.filter((v) => v < 100).length;
}

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

test('panel, gallery and headless Chromium: the page shows the run\'s pictures, sorts, and uses no network', async () => {
  const out = mkdtempSync(join(tmpdir(), 'igx-gallery-'));
  const session = await openExplainSession(parseExplainFlags({ backend: 'wasm', out, steps: '16', saveRaw: true }));
  const before = tf.memory().numTensors;
  try {
    for (const photo of ['cat.jpg', 'elephant.jpg']) {
      const { report } = await explainImage(session, fixture('images', photo));
      const [h, w, c] = session.model.inputShape;
      const image = await readImage(fixture('images', photo), { height: h, width: w, channels: c as 3, resize: 'cover' });
      // the raw attributions, read back from the .npy (float32 after a 128-byte header here)
      const npy = readFileSync(join(out, report.outputs.raw!));
      const headerLength = npy.readUInt16LE(8) + 10;
      const attributions = new Float32Array(npy.buffer.slice(npy.byteOffset + headerLength, npy.byteOffset + npy.byteLength));
      assert.equal(attributions.length, h * w * c);
      const withText = await renderPanelPng({ pixels: image.pixels, attributions, height: h, width: w, channels: c, polarity: 'absolute', label: report.target.label ?? '?', score: report.target.score, completenessError: report.completeness.relativeError });
      const meta = await sharp(withText).metadata();
      assert.deepEqual([meta.width, meta.height], computePanelSize(224));
      // The title is drawn: dark pixels in the header band, and many fewer with an empty label on the left.
      const headerLeft = { left: 0, top: 0, width: 300, height: PANEL_LAYOUT.header };
      const blank = await renderPanelPng({ pixels: image.pixels, attributions, height: h, width: w, channels: c, polarity: 'absolute', label: '', score: 0, completenessError: null });
      assert.ok((await countDark(withText, headerLeft)) > 50, 'the label is rendered as text');
      assert.equal(await countDark(blank, headerLeft), 0);
      // The heatmap tile is coloured; the original tile is the photo.
      const tile = { left: 2 * PANEL_LAYOUT.gap + 224, top: PANEL_LAYOUT.header + PANEL_LAYOUT.caption, width: 224, height: 224 };
      assert.ok((await countColourful(withText, tile)) > 1000);
      writeFileSync(join(out, photo.replace('.jpg', '.panel.png')), withText);
    }
    await evaluateImage(session, fixture('images', 'cat.jpg'), { ...DEFAULT_EVALUATE_OPTIONS, points: 10, randomOrders: 1 });
    assert.equal(tf.memory().numTensors, before);
  } finally {
    closeExplainSession(session);
  }
  writeFileSync(join(out, 'drift.json'), JSON.stringify({ images: [{ key: 'cat', status: 'drift', similarity: { spearman: 0.41 } }] }));

  const chunks: string[] = [];
  const sink = { write: (s: string) => (chunks.push(String(s)), true) } as unknown as NodeJS.WritableStream;
  assert.equal(await main(['node', 'igx', 'gallery', out, '--title', 'cats & elephants'], { stdout: sink, stderr: sink, env: {} }), 0, chunks.join(''));
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.ok(!/(https?:)?\/\/[a-z]/i.test(html.replace(/<script>[\s\S]*<\/script>/, '')), 'no network URL in the page');
  assert.ok(html.includes('cats &amp; elephants'));
  assert.equal((html.match(/<tr data-key-name=/g) ?? []).length, 2);
  assert.ok(html.includes('src="cat.panel.png"') && html.includes('src="elephant.overlay.png"'));
  assert.ok(html.includes('deletion AUC') && html.includes('drift (spearman)') && html.includes('drift (0.410)'));
  const { rows } = await writeGallery(out);
  assert.ok(rows.find((r) => r.key === 'cat')?.faithfulness);
  assert.equal(rows.find((r) => r.key === 'elephant')?.faithfulness, null);
  assert.equal(await main(['node', 'igx', 'gallery', join(out, 'nothing-here')], { stdout: sink, stderr: sink, env: {} }), 2);

  // Debian's chromium (apt-get install chromium); without it the page is checked as text only.
  if (!CHROMIUM) return;
  const shoot = (name: string): Buffer => {
    const png = join(out, name);
    execFileSync(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--hide-scrollbars', '--window-size=1400,900', `--screenshot=${png}`, `file://${join(out, 'index.html')}`], { stdio: 'ignore', timeout: 60_000 });
    return readFileSync(png);
  };
  const shown = await countColourful(shoot('shot.png'));
  // The same page with the pictures gone: what was coloured came from the images.
  for (const f of ['cat.panel.png', 'elephant.panel.png', 'cat.ig.png', 'elephant.ig.png', 'cat.overlay.png', 'elephant.overlay.png']) renameSync(join(out, f), join(out, `${f}.gone`));
  const missing = await countColourful(shoot('shot-missing.png'));
  assert.ok(shown > 20_000 && missing < shown / 10, `coloured pixels with images ${shown}, without ${missing}`);
});

test('gallery HTML escapes names and sorts by data attributes', () => {
  const html = buildGalleryHtml(
    [{ key: 'a/<b>', image: 'x', label: 'l"1', targetIndex: 3, score: 0.5, completenessError: 0.01, method: 'gausslegendre', pictures: [{ kind: 'overlay', src: 'a/b c.png' }], faithfulness: null, drift: null }],
    't',
  );
  assert.ok(html.includes('a/&lt;b&gt;') && html.includes('l&quot;1') && html.includes('src="a/b%20c.png"'));
  assert.ok(html.includes('data-completeness="0.01"') && html.includes('data-score="0.5"'));
  assert.ok(!html.includes('deletion AUC'));
});
