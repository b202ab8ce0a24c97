import sharp from 'sharp';
import { blendOverlay, colorFor, colorize, DEFAULT_CLIP_PERCENTILE, normaliseMap, sumChannels, type Polarity } from './colormap.js';
import { applyMask, computeMask, DEFAULT_MASK_OPTIONS, type MaskOptions } from './mask.js';
import { pixelsToRgbBytes } from '../image/read-image.js';

/**
 * One PNG per image: original | heatmap | overlay | mask, a title line (target label, score,
 * completeness error) and a colour bar with its scale. Text is SVG rendered by sharp's librsvg with
 * the system's fonts (generic `sans-serif`).
 */
export interface PanelInput {
  /** The image as the model saw it: HWC 0..255, 1 or 3 channels. */
  pixels: ArrayLike<number>;
  attributions: ArrayLike<number>;
  height: number;
  width: number;
  channels: number;
  polarity: Polarity;
  clipPercentile?: number;
  mask?: MaskOptions;
  /** Title: e.g. the target label; then score and completeness error. */
  label: string;
  score: number;
  /** Relative completeness error (null: not applicable or undefined). */
  completenessError: number | null;
  /** Side of each tile in pixels (default 224; small inputs are scaled up, nearest neighbour). */
  tile?: number;
}

export const PANEL_LAYOUT = { gap: 8, header: 34, caption: 20, colourBar: 14, footer: 44 } as const;
export const PANEL_TITLES = ['original', 'heatmap', 'overlay', 'mask'] as const;

const escapeXml = (s: string): string =>
  s.replace(/[<>&'"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[ch] as string);

async function tilePng(rgb: Uint8Array, height: number, width: number, tile: number): Promise<Buffer> {
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } })
    .resize(tile, tile, { fit: 'fill', kernel: width < tile ? 'nearest' : 'lanczos3' })
    .png()
    .toBuffer();
}

/** Size of the panel for a tile side: [width, height]. */
export function computePanelSize(tile: number): [number, number] {
  const { gap, header, caption, footer } = PANEL_LAYOUT;
  return [4 * tile + 5 * gap, header + caption + tile + gap + footer];
}

export async function renderPanelPng(p: PanelInput): Promise<Buffer> {
  const tile = p.tile ?? 224;
  const { gap, header, caption, colourBar } = PANEL_LAYOUT;
  const { height: h, width: w, channels: c } = p;
  const map = sumChannels(p.attributions, h, w, c);
  const { values, scale } = normaliseMap(map, p.polarity, p.clipPercentile ?? DEFAULT_CLIP_PERCENTILE);
  const original = pixelsToRgbBytes(p.pixels, c);
  const heat = colorize(values, p.polarity);
  const overlay = blendOverlay(original, values, p.polarity);
  const masked = applyMask(p.pixels, computeMask(p.attributions, [h, w, c], p.mask ?? { ...DEFAULT_MASK_OPTIONS, polarity: p.polarity === 'negative' ? 'negative' : 'positive' }), c);
  const tiles = await Promise.all([original, heat, overlay, masked].map((rgb) => tilePng(rgb, h, w, tile)));
  const [panelWidth, panelHeight] = computePanelSize(tile);
  const top = header + caption;
  // The colour bar under the heatmap tile: 0..1 (or −1..1 for polarity all) left to right.
  const barWidth = tile;
  const bar = new Uint8Array(barWidth * colourBar * 3);
  for (let x = 0; x < barWidth; x += 1) {
    const t = x / (barWidth - 1);
    const [r, g, b] = colorFor(p.polarity === 'all' ? 2 * t - 1 : t, p.polarity);
    for (let y = 0; y < colourBar; y += 1) bar.set([r, g, b], 3 * (y * barWidth + x));
  }
  const barPng = await sharp(Buffer.from(bar.buffer), { raw: { width: barWidth, height: colourBar, channels: 3 } }).png().toBuffer();
  const barTop = top + tile + gap;
  const heatLeft = 2 * gap + tile;
  const err = p.completenessError === null || !Number.isFinite(p.completenessError) ? 'n/a' : `${(100 * p.completenessError).toFixed(2)} %`;
  const low = p.polarity === 'all' ? (-scale).toExponential(2) : '0';
  const text = [
    `<text x="${gap}" y="23" font-size="17" font-weight="bold">${escapeXml(p.label)}</text>`,
    `<text x="${panelWidth - gap}" y="23" font-size="15" text-anchor="end">score ${escapeXml(p.score.toFixed(4))} · completeness error ${escapeXml(err)}</text>`,
    ...PANEL_TITLES.map((t, i) => `<text x="${gap + i * (tile + gap) + tile / 2}" y="${header + 14}" font-size="13" text-anchor="middle">${t}</text>`),
    `<text x="${heatLeft}" y="${barTop + colourBar + 15}" font-size="12">${escapeXml(low)}</text>`,
    `<text x="${heatLeft + barWidth}" y="${barTop + colourBar + 15}" font-size="12" text-anchor="end">${escapeXml(scale.toExponential(2))}</text>`,
    `<text x="${heatLeft + barWidth / 2}" y="${barTop + colourBar + 15}" font-size="12" text-anchor="middle">${escapeXml(p.polarity)}</text>`,
  ].join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${panelWidth}" height="${panelHeight}"><g font-family="DejaVu Sans, Liberation Sans, sans-serif" fill="#111">${text}</g></svg>`;
  return sharp({ create: { width: panelWidth, height: panelHeight, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite([
      ...tiles.map((input, i) => ({ input, left: gap + i * (tile + gap), top })),
      { input: barPng, left: heatLeft, top: barTop },
      { input: Buffer.from(svg), left: 0, top: 0 },
    ])
    .png()
    .toBuffer();
}
