/** An explained image's pictures and files: rendered, then written all or nothing, the report last. */
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ExplainConfig } from '../config/explain-config.js';
import { IgxError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { renderHeatmapPng, renderOverlayPng } from '../render/heatmap.js';
import { renderMaskPng } from '../render/mask.js';
import { renderPanelPng } from '../render/panel.js';
import { encodeNpy } from '../report/npy.js';
import type { ImageOutput } from '../report/run-layout.js';
import type { Report } from '../report/schema.js';
import type { ExplainResult } from './ports.js';
import { ensureDir } from '../files/ensure-dir.js';

export interface Pictures {
  heatmap: Buffer;
  overlay: Buffer;
  mask?: Buffer;
  panel?: Buffer;
}

export interface PictureInputs {
  config: ExplainConfig;
  /** The photo as the model saw it: [h, w, c] in 0..255. */
  pixels: Float32Array;
  /** [h, w, c] attributions on the input pixels (layer IG: the layer's map scaled up). */
  attributions: Float32Array;
  shape: [number, number, number];
  report: Report;
}

export async function renderPictures(p: PictureInputs): Promise<Pictures> {
  const { config, pixels, attributions, report } = p;
  const [height, width, channels] = p.shape;
  const renderOptions = { polarity: config.polarity, clipPercentile: config.clipPercentile };
  const maskOptions = { blurSigma: config.mask?.blurPx ?? 4, threshold: config.mask?.threshold ?? 0.9, polarity: config.polarity };
  const pictures: Pictures = {
    heatmap: await renderHeatmapPng(attributions, p.shape, renderOptions),
    overlay: await renderOverlayPng(pixels, attributions, p.shape, renderOptions),
  };
  if (config.mask) pictures.mask = await renderMaskPng(pixels, attributions, p.shape, maskOptions);
  if (config.panel) {
    pictures.panel = await renderPanelPng({
      pixels,
      attributions,
      height,
      width,
      channels,
      ...renderOptions,
      mask: maskOptions,
      label: report.target.label ?? `class ${report.target.index}`,
      score: report.target.score,
      completenessError: report.completeness.isApplicable ? report.completeness.relativeError : null,
    });
  }
  return pictures;
}

export interface OutputInputs {
  config: ExplainConfig;
  names: Record<ImageOutput, string>;
  report: Report;
  pictures: Pictures;
  raw: { values: Float32Array; shape: [number, number, number] };
}

/**
 * Writes every file to a temporary name first, the report last: its presence says the image is
 * complete. On any failure the files already written are removed again.
 */
export async function writeOutputs(o: OutputInputs): Promise<ExplainResult['files'] & { mask: string | null; panel: string | null }> {
  const { config, names, pictures } = o;
  const at = (name: string): string => join(config.out, name);
  const files = {
    report: at(names.report),
    heatmap: at(names.heatmap),
    overlay: at(names.overlay),
    raw: config.saveRaw ? at(names.raw) : null,
    mask: pictures.mask ? at(names.mask) : null,
    panel: pictures.panel ? at(names.panel) : null,
  };
  const writes: [string, Buffer | string][] = [
    [files.heatmap, pictures.heatmap],
    [files.overlay, pictures.overlay],
    ...(files.raw ? ([[files.raw, encodeNpy(o.raw.values, o.raw.shape)]] as [string, Buffer][]) : []),
    ...(files.mask && pictures.mask ? ([[files.mask, pictures.mask]] as [string, Buffer][]) : []),
    ...(files.panel && pictures.panel ? ([[files.panel, pictures.panel]] as [string, Buffer][]) : []),
    [files.report, `${JSON.stringify(o.report, null, 2)}\n`],
  ];
  const written: string[] = [];
  try {
    await ensureDir(dirname(files.report)).catch((err: NodeJS.ErrnoException) => {
      throw new IgxError('E_WRITE', `--out ${config.out}: cannot create the folder (${err.code ?? err.message})`);
    });
    for (const [path, bytes] of writes) {
      await writeFileAtomic(path, bytes);
      written.push(path);
    }
  } catch (err) {
    // All or nothing: an image without its report would look finished to the next run.
    await Promise.all(written.map((p) => rm(p, { force: true })));
    throw err;
  }
  return files;
}
