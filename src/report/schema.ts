import { z } from 'zod';
import { MODEL_FORMATS, READ_SPACES } from '../model/types.js';
import { METHODS, PATH_KINDS, SMOOTH_KINDS, type Method } from '../attribution/types.js';

/** Bump when a field changes meaning or disappears; adding fields keeps the version. */
export const REPORT_SCHEMA_VERSION = 1;

const CompletenessSchema = z.strictObject({
  fx: z.number(),
  fBaseline: z.number(),
  sum: z.number(),
  absoluteError: z.number().nonnegative(),
  relativeError: z.number().nonnegative().nullable(),
  isDeltaNegligible: z.boolean(),
});

const ClassScoreSchema = z.strictObject({
  index: z.number().int().nonnegative(),
  label: z.string().nullable(),
  score: z.number(),
});

/** The JSON report igx writes beside each heatmap (`photo.ig.json`). */
export const ReportSchema = z.strictObject({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  igxVersion: z.string(),
  /** sha256 of the settings that decide the outputs and the model's sha256: `--resume` reuses a report with the same hash. */
  configHash: z.string().regex(/^[0-9a-f]{64}$/),
  model: z.strictObject({
    path: z.string(),
    format: z.enum(MODEL_FORMATS),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    inputShape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
    output: z.strictObject({ name: z.string(), index: z.number().int(), space: z.enum(READ_SPACES) }),
  }),
  image: z.strictObject({
    path: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    width: z.number().int(),
    height: z.number().int(),
    format: z.string(),
  }),
  preprocess: z.strictObject({ mean: z.array(z.number()), std: z.array(z.number()), resize: z.enum(['cover', 'contain', 'fill']) }),
  /** The model's top class for the input, whatever the target. */
  prediction: ClassScoreSchema,
  /** What F reads. For a comparative target, score = F(x) = out[a] − out[b], and `minus` names b. */
  target: z.strictObject({
    rule: z.string(),
    index: z.number().int().nonnegative(),
    label: z.string().nullable(),
    score: z.number(),
    minus: ClassScoreSchema.nullable(),
  }),
  method: z.enum(METHODS as [Method, ...Method[]]),
  /** straight: Integrated Gradients; blur: Blur IG from the input blurred with maxSigma px; guided: Guided IG. */
  path: z.strictObject({ kind: z.enum(PATH_KINDS), maxSigma: z.number().nullable() }),
  /** Layer IG (--layer): the layer, its activation shape and the channels with the largest |total| attribution. */
  layer: z
    .strictObject({
      name: z.string(),
      shape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
      topChannels: z.array(z.strictObject({ index: z.number().int(), total: z.number() })),
    })
    .nullable(),
  /** SmoothGrad over IG, when asked for: noise sigma in preprocessed units. */
  smoothing: z.strictObject({ kind: z.enum(SMOOTH_KINDS), samples: z.number().int(), sigma: z.number() }).nullable(),
  /** Largest number of interpolation points any baseline used. */
  steps: z.number().int().positive(),
  adaptive: z
    // mapTolerance: --map-tolerance, which adaptive refinement also held (null: completeness only).
    .strictObject({ tolerance: z.number(), mapTolerance: z.number().nullable(), maxSteps: z.number().int(), isConverged: z.boolean() })
    .nullable(),
  seed: z.number().int(),
  batchSize: z.number().int().positive(),
  baselines: z.array(
    z.strictObject({
      kind: z.string(),
      spec: z.string(),
      sample: z.number().int().nonnegative(),
      /** F(x′) */
      score: z.number(),
      steps: z.number().int().positive(),
      completeness: CompletenessSchema,
      /** ‖A_n − A_coarser‖₁ / ‖A_n‖₁ of this baseline's map (see convergence); null when none was computed. */
      estimatedError: z.number().nonnegative().nullable(),
    }),
  ),
  /**
   * How far the map is from converged, pixel by pixel: estimatedError = ‖A_n − A_coarser‖₁ / ‖A_n‖₁, the
   * relative L1 change from the same rule at its previous, coarser level (an adaptive run's last
   * refinement; a fixed nested rule's inner rule). It errs high: 1.1–4.0× the true error (median 2.2) in the README's
   * measurements. Null when no coarser level was computed (a single Gauss–Legendre rule, SmoothGrad, Blur
   * and Guided IG, layer IG); isWithinTolerance is then null too.
   */
  convergence: z.strictObject({
    estimatedError: z.number().nonnegative().nullable(),
    tolerance: z.number(),
    isWithinTolerance: z.boolean().nullable(),
  }),
  /** For the attributions averaged over baselines: F(x′) is the mean of the baselines' scores. */
  completeness: CompletenessSchema.extend({
    tolerance: z.number(),
    isWithinTolerance: z.boolean(),
    /** False for smoothgrad_sq and vargrad, whose maps are squares and variances of IG: no sum to check. */
    isApplicable: z.boolean(),
  }),
  backend: z.strictObject({ requested: z.string(), kind: z.string(), name: z.string() }),
  attribution: z.strictObject({
    shape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
    /** The map summed over channels and area-pooled to 32 × 32, row-major; sums to stats.sum. */
    grid: z.strictObject({ size: z.number().int(), values: z.array(z.number()) }),
    stats: z.strictObject({ min: z.number(), max: z.number(), sum: z.number(), sumAbs: z.number() }),
    polarity: z.enum(['positive', 'negative', 'absolute', 'all']),
    clipPercentile: z.number(),
  }),
  /** File names of the outputs, in the report's folder. */
  outputs: z.strictObject({
    heatmap: z.string(),
    overlay: z.string(),
    raw: z.string().nullable(),
    mask: z.string().nullable(),
    panel: z.string().nullable(),
  }),
  warnings: z.array(z.string()),
  /** The only field that differs between two runs of the same config: keep it last. */
  timingsMs: z.record(z.string(), z.number()),
});

export type Report = z.infer<typeof ReportSchema>;
