import { z } from 'zod';

/** Bump when a field of drift.json changes meaning or disappears; adding fields keeps the version. */
export const DRIFT_SCHEMA_VERSION = 1;

export const DRIFT_STATUSES = ['pass', 'drift', 'error'] as const;
export type DriftStatus = (typeof DRIFT_STATUSES)[number];
export const MAP_SOURCES = ['raw', 'grid'] as const;
export type MapSource = (typeof MAP_SOURCES)[number];
/** --map: raw when both runs saved .ig.npy files (auto), or always one of them. */
export const MAP_CHOICES = ['auto', 'raw', 'grid'] as const;
export type MapChoice = (typeof MAP_CHOICES)[number];
/**
 * deterministic: every baseline is fixed (black, white, blur, an image), so the same model gives the
 * same attributions; random-baselines: uniform or gaussian draws add noise that the seed decides.
 */
export const NOISE_KINDS = ['deterministic', 'random-baselines'] as const;
export type NoiseKind = (typeof NOISE_KINDS)[number];

const ClassScoreSchema = z.strictObject({ index: z.number().int().nonnegative(), label: z.string().nullable(), score: z.number() });

/** What one run's report says about an image. */
const DriftSideSchema = z.strictObject({
  /** The report file, relative to its run folder, with / separators. */
  report: z.string(),
  imageSha256: z.string(),
  modelSha256: z.string(),
  prediction: ClassScoreSchema,
  target: ClassScoreSchema,
});

export const DriftSimilaritySchema = z.strictObject({
  spearman: z.number().min(-1).max(1),
  iou: z.number().min(0).max(1),
  cosine: z.number().min(-1).max(1),
  ssim: z.number().min(-1).max(1),
});

export const DriftImageSchema = z.strictObject({
  /** The pairing key: the report's path relative to its run folder, without `.ig.json`. */
  key: z.string(),
  /** For people: the key's folder and the input's file name, e.g. `a/cat.jpg`. */
  image: z.string(),
  status: z.enum(DRIFT_STATUSES),
  /** Set on error rows only: why this image could not be compared. */
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
  baseline: DriftSideSchema.nullable(),
  current: DriftSideSchema.nullable(),
  /** The compared grids (size × size) were made from the raw .ig.npy files or from the reports' grids. */
  map: z.strictObject({ source: z.enum(MAP_SOURCES), size: z.number().int().positive() }).nullable(),
  similarity: DriftSimilaritySchema.nullable(),
  /** The predicted (top) class differs: by label when both reports have labels, else by index. */
  classChanged: z.boolean().nullable(),
  /** current target score − baseline target score (F(x)). */
  scoreDelta: z.number().nullable(),
  /** The thresholds this image crossed, e.g. "spearman 0.412 < 0.800"; empty unless status is drift. */
  reasons: z.array(z.string()),
  /** The PNG panel (baseline | current | current − baseline), relative to the drift output folder. */
  panel: z.string().nullable(),
});
export type DriftImage = z.infer<typeof DriftImageSchema>;

const StatSchema = z.strictObject({ min: z.number(), median: z.number(), mean: z.number(), max: z.number() }).nullable();

const DriftRunSchema = z.strictObject({
  /** The folder as given on the command line. */
  path: z.string(),
  reports: z.number().int().nonnegative(),
  /** Where the guarded config came from. */
  configSource: z.enum(['igx-run.json', 'reports']),
  /** The explain settings the config guard compares, as text; "a | b" when the run's reports disagree. */
  config: z.record(z.string(), z.string()),
});

export const DriftThresholdsSchema = z.strictObject({
  minSpearman: z.number().min(-1).max(1),
  minIou: z.number().min(0).max(1),
  minSsim: z.number().min(-1).max(1),
  /** null: score changes are reported but never fail an image. */
  maxScoreDelta: z.number().nonnegative().nullable(),
  failOnClassChange: z.boolean(),
  /** k of the top-k% IoU, in percent of the map's cells. */
  topK: z.number().gt(0).max(100),
});
export type DriftThresholds = z.infer<typeof DriftThresholdsSchema>;

/** drift.json: everything `igx drift` found, one row per image in either run, sorted by key. */
export const DriftReportSchema = z.strictObject({
  schemaVersion: z.literal(DRIFT_SCHEMA_VERSION),
  igxVersion: z.string(),
  baseline: DriftRunSchema,
  current: DriftRunSchema,
  /** Which defaults applied (a flag overrides its own threshold only). */
  noise: z.enum(NOISE_KINDS),
  thresholds: DriftThresholdsSchema,
  mapChoice: z.enum(MAP_CHOICES),
  /** Caveats about this comparison, e.g. random baselines compared without raw attributions. */
  warnings: z.array(z.string()),
  /** Guarded settings that differ; non-empty only when --allow-config-change let the comparison run. */
  configDifferences: z.array(z.strictObject({ field: z.string(), baseline: z.string(), current: z.string() })),
  summary: z.strictObject({
    images: z.number().int().nonnegative(),
    passed: z.number().int().nonnegative(),
    drifted: z.number().int().nonnegative(),
    errors: z.number().int().nonnegative(),
    classChanges: z.number().int().nonnegative(),
    mapSources: z.strictObject({ raw: z.number().int().nonnegative(), grid: z.number().int().nonnegative() }),
    /** Over the compared (non-error) images; null when there are none. */
    spearman: StatSchema,
    iou: StatSchema,
    cosine: StatSchema,
    ssim: StatSchema,
    absScoreDelta: StatSchema,
  }),
  images: z.array(DriftImageSchema),
});
export type DriftReport = z.infer<typeof DriftReportSchema>;
