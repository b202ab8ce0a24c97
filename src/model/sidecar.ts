import { z } from 'zod';
import { PRESETS, RESIZE_MODES } from '../image/preprocess.js';
import { OUTPUT_SPACES } from './output-space.js';

export const PreprocessSchema = z.union([
  z.enum(PRESETS),
  z.strictObject({
    mean: z.array(z.number()).min(1).max(4),
    std: z.array(z.number().positive()).min(1).max(4),
  }),
]);

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
