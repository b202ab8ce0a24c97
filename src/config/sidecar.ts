import { z } from 'zod';
import { OUTPUT_SPACES } from '../model/types.js';

/** Preprocessing from pixels in 0..255 to model input: a preset, or per-channel mean/std ((x - mean) / std). */
export const PRESETS = ['[-1,1]', '[0,1]', 'imagenet', 'raw'] as const;
export type PreprocessPreset = (typeof PRESETS)[number];

export const PreprocessSchema = z.union([
  z.enum(PRESETS),
  z.strictObject({
    mean: z.array(z.number()).min(1).max(4),
    std: z.array(z.number().positive()).min(1).max(4),
  }),
]);
export type Preprocess = z.infer<typeof PreprocessSchema>;

export const RESIZE_MODES = ['cover', 'contain', 'fill'] as const;
export type ResizeMode = (typeof RESIZE_MODES)[number];

/**
 * `igx.json` beside a model: the settings a model needs so users don't repeat flags.
 * Flags override it. Labels are a list, or a path to a JSON list relative to the model folder.
 */
export const SidecarSchema = z.strictObject({
  description: z.string().optional(),
  preprocess: PreprocessSchema.optional(),
  labels: z.union([z.string(), z.array(z.string())]).optional(),
  output: z.union([z.string(), z.number().int().nonnegative()]).optional(),
  outputSpace: z.enum(OUTPUT_SPACES).optional(),
  resize: z.enum(RESIZE_MODES).optional(),
  /**
   * [height, width, channels] for a model whose input shape leaves height or width open (-1); it must
   * agree with every dimension the model does fix.
   */
  inputShape: z
    .tuple([z.number().int().positive(), z.number().int().positive(), z.union([z.literal(1), z.literal(3)])])
    .optional(),
});
export type Sidecar = z.infer<typeof SidecarSchema>;
