import { z } from 'zod';
import { METHODS, PATH_KINDS, SMOOTH_KINDS, type Method, type PathKind, type SmoothKind } from '../attribution/types.js';
import { IgxError } from '../errors.js';
import { POLARITIES, type Polarity } from '../render/colormap.js';
import { OUTPUT_SPACES, type OutputSpace } from '../model/types.js';
import { PRESETS, RESIZE_MODES, type Preprocess, type ResizeMode } from '../image/preprocess.js';

export const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

/** The flags of `igx explain` as commander hands them over: strings, string lists and booleans. */
export interface RawExplainFlags {
  model?: string;
  layer?: string;
  path?: string;
  maxSigma?: string;
  smooth?: string;
  noise?: string;
  smoothKind?: string;
  baselineDir?: string;
  mask?: boolean;
  blur?: string;
  threshold?: string;
  panel?: boolean;
  html?: boolean;
  signature?: string;
  tags?: string;
  input?: string;
  output?: string;
  outputSpace?: string;
  target?: string;
  method?: string;
  steps?: string;
  tolerance?: string;
  mapTolerance?: string;
  maxSteps?: string;
  baseline?: string[];
  baselineSamples?: string;
  seed?: string;
  batchSize?: string;
  preprocess?: string;
  mean?: string;
  std?: string;
  resize?: string;
  polarity?: string;
  clipPercentile?: string;
  out?: string;
  saveRaw?: boolean;
  backend?: string;
  failOnCompleteness?: boolean;
  allowEmpty?: boolean;
  maxPixels?: string;
  workers?: string;
  maxMemory?: string;
}

/** Normalised settings of one explain run; every field has its final value except those a model decides. */
export interface ExplainConfig {
  model?: string;
  /** Layer IG: attribute to this layer's activations instead of the input pixels (layers models). */
  layer?: string;
  /** The attribution path: the straight line (IG), blurring (Blur IG) or guided (Guided IG). */
  path: PathKind;
  /** Blur IG: the path starts at the input blurred with this sigma, in pixels. */
  maxSigma: number;
  /** SmoothGrad over IG: N noisy copies of the input, noise sigma in preprocessed units. */
  smooth?: { samples: number; sigma: number; kind: SmoothKind };
  /** Expected gradients: baselines drawn (seeded) from this folder of images, --baseline-samples of them. */
  baselineDir?: string;
  /** Mask visualizer: keep the top attributions after blurring the map (blurPx) and thresholding at quantile q. */
  mask?: { blurPx: number; threshold: number };
  /** Also write photo.panel.png (original | heatmap | overlay | mask with label, score, completeness). */
  panel: boolean;
  /** Write index.html, a gallery of the run, at the end. */
  html: boolean;
  /** SavedModels: the signature, MetaGraph tag set and signature input to use. */
  signature?: string;
  tags?: string[];
  input?: string;
  output?: string | number;
  outputSpace?: OutputSpace;
  target: string;
  method: Method;
  /** Exactly this many points; undefined means adaptive from 50. */
  steps?: number;
  tolerance: number;
  /**
   * The largest estimated per-pixel error of the map (report `convergence.estimatedError`): adaptive runs
   * refine until it holds too; others warn above it. Undefined: adaptive runs refine on completeness only
   * and the warning uses `tolerance`.
   */
  mapTolerance?: number;
  maxSteps: number;
  baselines: string[];
  baselineSamples: number;
  seed: number;
  /** undefined: chosen from the input size. */
  batchSize?: number;
  /** undefined: the sidecar's, else '[-1,1]'. */
  preprocess?: Preprocess;
  resize?: ResizeMode;
  polarity: Polarity;
  clipPercentile: number;
  out: string;
  saveRaw: boolean;
  backend: (typeof BACKENDS)[number];
  failOnCompleteness: boolean;
  /** A run that explains nothing (no images found, or every input skipped) exits 0 instead of 2 or 1. */
  allowEmpty: boolean;
  maxPixels: number;
  /** Worker threads computing gradients; undefined: one per core (the pool decides). */
  workers?: number;
  /** Memory budget of the gradient work, all workers together; undefined: half the available memory. */
  maxMemoryBytes?: number;
}

export const DEFAULT_START_STEPS = 50;

/**
 * At most this many --baseline entries, and baseline images in all (entries × --baseline-samples): each
 * is a whole IG run and an input-sized tensor, and a config file is enough to ask for millions.
 */
export const MAX_BASELINES = 256;

const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, { message: `expected a whole number ≥ ${min}` })
    .transform(Number)
    .pipe(z.number().int().min(min, { message: `expected a whole number ≥ ${min}` }).max(max, { message: `expected a whole number ≤ ${max}` }));

const realNumber = (check: (n: number) => boolean, expected: string) =>
  z
    .string()
    .refine((s) => s.trim() !== '' && Number.isFinite(Number(s)) && check(Number(s)), { message: `expected ${expected}` })
    .transform(Number);

const numberList = z
  .string()
  .transform((s) => s.split(',').map((p) => p.trim()))
  .refine((parts) => parts.length >= 1 && parts.length <= 4 && parts.every((p) => p !== '' && Number.isFinite(Number(p))), {
    message: 'expected 1 to 4 comma-separated numbers, e.g. 123.7,116.3,103.5',
  })
  .transform((parts) => parts.map(Number));

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 };

/** "2GB", "512MB", "1.5g", "1073741824" → bytes; units are binary (1 GB = 1024³ bytes). Undefined if unreadable. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? BYTE_UNITS[(m[2] as string).toLowerCase()] : undefined;
  return m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : undefined;
}

const MIN_MAX_MEMORY_BYTES = 64 * 1024 ** 2;

const byteSize = z
  .string()
  .refine((s) => (parseByteSize(s) ?? 0) >= MIN_MAX_MEMORY_BYTES, { message: 'expected a size of at least 64MB, e.g. 2GB or 512MB' })
  .transform((s) => parseByteSize(s) as number);

const FLAG_SCHEMA = z.strictObject({
  model: z.string().min(1).optional(),
  layer: z.string().min(1).optional(),
  path: z.enum(PATH_KINDS, { message: `expected one of ${PATH_KINDS.join(', ')}` }).optional(),
  maxSigma: realNumber((n) => n > 0, 'a number > 0 (pixels)').optional(),
  smooth: wholeNumber(1, 10000).optional(),
  noise: realNumber((n) => n > 0, 'a number > 0 (preprocessed units)').optional(),
  smoothKind: z.enum(SMOOTH_KINDS, { message: `expected one of ${SMOOTH_KINDS.join(', ')}` }).optional(),
  baselineDir: z.string().min(1).optional(),
  mask: z.boolean().optional(),
  blur: realNumber((n) => n >= 0, 'a number ≥ 0 (pixels)').optional(),
  threshold: realNumber((n) => n >= 0 && n < 1, 'a quantile in [0, 1)').optional(),
  panel: z.boolean().optional(),
  html: z.boolean().optional(),
  signature: z.string().min(1).optional(),
  tags: z
    .string()
    .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
    .refine((l) => l.length > 0, { message: 'expected comma-separated tags, e.g. serve' })
    .optional(),
  input: z.string().min(1).optional(),
  output: z.string().min(1).optional(),
  outputSpace: z.enum(OUTPUT_SPACES, { message: `expected one of ${OUTPUT_SPACES.join(', ')}` }).optional(),
  target: z.string().min(1, { message: 'expected top, a class index, a label or A-B' }).optional(),
  method: z.enum(METHODS as [Method, ...Method[]], { message: `expected one of ${METHODS.join(', ')}` }).optional(),
  steps: wholeNumber(1, 100000).optional(),
  tolerance: realNumber((n) => n > 0, 'a number > 0, e.g. 0.05').optional(),
  mapTolerance: realNumber((n) => n > 0, 'a number > 0, e.g. 0.05').optional(),
  maxSteps: wholeNumber(1, 100000).optional(),
  baseline: z
    .array(z.string().min(1, { message: 'expected a baseline kind or an image file' }))
    .max(MAX_BASELINES, { message: `expected at most ${MAX_BASELINES} baselines` })
    .optional(),
  baselineSamples: wholeNumber(1, 1000).optional(),
  seed: wholeNumber(0, 2 ** 32 - 1).optional(),
  batchSize: z.union([z.literal('auto'), wholeNumber(1, 4096)], { message: 'expected auto or a whole number ≥ 1' }).optional(),
  preprocess: z.enum(PRESETS, { message: `expected one of ${PRESETS.join(', ')}` }).optional(),
  mean: numberList.optional(),
  std: numberList.refine((l) => l.every((v) => v > 0), { message: 'expected numbers > 0' }).optional(),
  resize: z.enum(RESIZE_MODES, { message: `expected one of ${RESIZE_MODES.join(', ')}` }).optional(),
  polarity: z.enum(POLARITIES, { message: `expected one of ${POLARITIES.join(', ')}` }).optional(),
  clipPercentile: realNumber((n) => n > 0 && n <= 100, 'a percentile in (0, 100]').optional(),
  out: z.string().min(1).optional(),
  saveRaw: z.boolean().optional(),
  backend: z.enum(BACKENDS, { message: `expected one of ${BACKENDS.join(', ')}` }).optional(),
  failOnCompleteness: z.boolean().optional(),
  allowEmpty: z.boolean().optional(),
  maxPixels: wholeNumber(1).optional(),
  workers: wholeNumber(1, 256).optional(),
  maxMemory: byteSize.optional(),
});

/** camelCase key → the flag a user typed. */
export const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`;

/** zod issues → one line naming the flag, what it expected and what came. */
export function formatFlagIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>, name: (key: string) => string = flagName): string {
  const key = String(issue.path[0] ?? '');
  const received = raw[key];
  const shown = Array.isArray(received) ? received[Number(issue.path[1] ?? 0)] : received;
  if (issue.code === 'unrecognized_keys') return `unknown option ${issue.keys.map(name).join(', ')}`;
  return `${name(key)}: ${issue.message}, received ${JSON.stringify(shown)}`;
}

/** Checks values without applying defaults; `name` says how to call a key in messages. */
export function checkExplainFlags(raw: RawExplainFlags, name: (key: string) => string, code: 'E_FLAG' | 'E_CONFIG'): void {
  const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const parsed = FLAG_SCHEMA.safeParse(defined);
  if (!parsed.success) throw new IgxError(code, formatFlagIssue(parsed.error.issues[0] as z.core.$ZodIssue, defined, name));
}

/** Validates and normalises the flags; throws IgxError E_FLAG with one line naming the flag. */
export function parseExplainFlags(raw: RawExplainFlags): ExplainConfig {
  const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
  const parsed = FLAG_SCHEMA.safeParse(defined);
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    throw new IgxError('E_FLAG', formatFlagIssue(issue, defined));
  }
  const f = parsed.data;
  if ((f.mean === undefined) !== (f.std === undefined)) {
    throw new IgxError('E_FLAG', `${f.mean === undefined ? '--std' : '--mean'}: expected together with ${f.mean === undefined ? '--mean' : '--std'}`);
  }
  if (f.preprocess !== undefined && f.mean !== undefined) {
    throw new IgxError('E_FLAG', '--preprocess: expected either a preset or --mean/--std, received both');
  }
  // Random kinds (and --baseline-dir) are drawn --baseline-samples times each.
  const entries = f.baseline ?? (f.baselineDir === undefined ? ['black'] : []);
  const random = entries.filter((b) => /^(uniform|gaussian)(:|$)/.test(b)).length + (f.baselineDir === undefined ? 0 : 1);
  const drawn = entries.length - random + (f.baselineDir === undefined ? 0 : 1) + random * (f.baselineSamples ?? 1);
  if (drawn > MAX_BASELINES) {
    throw new IgxError('E_FLAG', `--baseline-samples: ${f.baselineSamples ?? 1} draws of ${random} random baseline(s) make ${drawn} baseline images, more than ${MAX_BASELINES}`);
  }
  if (f.method === 'riemann-trapezoid' && f.steps === 1) {
    throw new IgxError('E_FLAG', '--steps: expected ≥ 2 for riemann-trapezoid, received "1"');
  }
  const output = f.output === undefined ? undefined : /^\d+$/.test(f.output) ? Number(f.output) : f.output;
  if (f.noise !== undefined && f.smooth === undefined) throw new IgxError('E_FLAG', '--noise: expected together with --smooth N');
  if (f.smooth !== undefined && f.path !== undefined && f.path !== 'straight') {
    throw new IgxError('E_FLAG', `--smooth: smoothing applies to the straight path only, received --path ${f.path}`);
  }
  if (f.layer !== undefined && ((f.path !== undefined && f.path !== 'straight') || f.smooth !== undefined)) {
    throw new IgxError('E_FLAG', '--layer: layer IG takes the straight path without smoothing; drop --path/--smooth');
  }
  return {
    model: f.model,
    layer: f.layer,
    path: f.path ?? 'straight',
    maxSigma: f.maxSigma ?? 50,
    // 0.15 of the input range, as SmoothGrad's paper suggests, on [-1, 1] inputs.
    smooth: f.smooth === undefined ? undefined : { samples: f.smooth, sigma: f.noise ?? 0.3, kind: f.smoothKind ?? 'smoothgrad' },
    baselineDir: f.baselineDir,
    mask: f.mask || f.blur !== undefined || f.threshold !== undefined ? { blurPx: f.blur ?? 4, threshold: f.threshold ?? 0.9 } : undefined,
    panel: (f.panel ?? false) || (f.html ?? false),
    html: f.html ?? false,
    signature: f.signature,
    tags: f.tags,
    input: f.input,
    output,
    outputSpace: f.outputSpace,
    target: f.target ?? 'top',
    method: f.method ?? 'gausslegendre',
    steps: f.steps,
    tolerance: f.tolerance ?? 0.05,
    mapTolerance: f.mapTolerance,
    // Guided IG's steps are rough on ReLU networks (see guided-ig.ts): its budget counts gradients, not points.
    maxSteps: f.maxSteps ?? (f.path === 'guided' ? 2000 : 800),
    baselines: f.baseline && f.baseline.length > 0 ? f.baseline : ['black'],
    baselineSamples: f.baselineSamples ?? 1,
    seed: f.seed ?? 0,
    batchSize: f.batchSize === 'auto' ? undefined : f.batchSize,
    preprocess: f.mean !== undefined && f.std !== undefined ? { mean: f.mean, std: f.std } : f.preprocess,
    resize: f.resize,
    polarity: f.polarity ?? 'absolute',
    clipPercentile: f.clipPercentile ?? 99,
    out: f.out ?? 'igx-out',
    saveRaw: f.saveRaw ?? false,
    backend: f.backend ?? 'auto',
    failOnCompleteness: f.failOnCompleteness ?? false,
    allowEmpty: f.allowEmpty ?? false,
    // sharp's own default limit: about 16384 × 16384
    maxPixels: f.maxPixels ?? 268402689,
    workers: f.workers,
    maxMemoryBytes: f.maxMemory,
  };
}
