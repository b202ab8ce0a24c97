/** An image and its baselines, decoded and preprocessed as the model takes them. */
import { pickBaselineFiles } from '../image/baseline-dir.js';
import { buildBaselinePixels, createRng, parseBaselineSpec, type BaselineSpec } from '../image/baselines.js';
import { computePreprocessed } from '../image/preprocess.js';
import { readImage, type DecodedImage } from '../image/read-image.js';
import type { ExplainSession } from './session.js';

/** Baseline kinds drawn at random: --baseline-samples draws each. */
const RANDOM_KINDS = new Set(['uniform', 'gaussian']);

export interface BaselineEntry {
  spec: BaselineSpec;
  /** As the user wrote it (the report's `spec`). */
  text: string;
  sample: number;
}

export interface PreparedImage {
  image: DecodedImage;
  baselines: BaselineEntry[];
  /** [1, h, w, c] as the model takes it. */
  shape: [number, number, number, number];
  input: Float32Array;
  /** One per baseline entry, preprocessed like the input. */
  baselineInputs: Float32Array[];
  /** The same baselines in pixel space (0..255), as the photo is. */
  baselinePixels: Float32Array[];
}

/** The baselines the config asks for; --baseline-dir adds images drawn from a folder with the seed (expected gradients). */
async function listBaselines(config: ExplainSession['config']): Promise<BaselineEntry[]> {
  const texts = config.baselineDir
    ? [...config.baselines.filter((b) => b !== 'black' || config.baselines.length > 1), ...(await pickBaselineFiles(config.baselineDir, config.baselineSamples, config.seed))]
    : config.baselines;
  const entries: BaselineEntry[] = [];
  for (const text of texts) {
    const spec = parseBaselineSpec(text);
    const samples = RANDOM_KINDS.has(spec.kind) && !config.baselineDir ? config.baselineSamples : 1;
    for (let s = 0; s < samples; s += 1) entries.push({ spec, text, sample: s });
  }
  return entries;
}

/** Decodes the image and builds its baselines in pixel space, then preprocesses both alike. */
export async function prepareImage(session: ExplainSession, imagePath: string): Promise<PreparedImage> {
  const { config, model, preprocess } = session;
  const [height, width, channels] = model.inputShape;
  const readOptions = { height, width, channels: channels as 1 | 3, resize: session.resize, maxPixels: config.maxPixels };
  const image = await readImage(imagePath, readOptions);
  const baselines = await listBaselines(config);
  const rng = createRng(config.seed);
  const baselinePixels: Float32Array[] = [];
  for (const { spec } of baselines) baselinePixels.push(await buildBaselinePixels(spec, image, rng, readOptions));
  return {
    image,
    baselines,
    shape: [1, height, width, channels],
    input: computePreprocessed(image.pixels, channels, preprocess),
    baselineInputs: baselinePixels.map((p) => computePreprocessed(p, channels, preprocess)),
    baselinePixels,
  };
}
