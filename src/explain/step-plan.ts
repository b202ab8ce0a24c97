import { GUIDED_IG_DEFAULTS } from '../attribution/guided-ig.js';
import type { AdaptiveOptions } from '../attribution/integrated-gradients.js';
import { DEFAULT_START_STEPS, type ExplainConfig } from '../config/explain-config.js';

/** Blur IG's fixed number of points along its blur path. */
export const BLUR_IG_STEPS = 100;

/**
 * Points and refinement for the configured method: the blur path takes a fixed number of steps (100),
 * straight IG adds points from 50, guided IG walks 50 steps and halves its worst ones.
 */
export function resolveStepPlan(config: Pick<ExplainConfig, 'steps' | 'path' | 'tolerance' | 'mapTolerance' | 'maxSteps'>): {
  steps: number;
  adaptive: AdaptiveOptions | undefined;
} {
  const isAdaptive = config.steps === undefined && config.path !== 'blur';
  return {
    steps: config.steps ?? (config.path === 'guided' ? GUIDED_IG_DEFAULTS.steps : config.path === 'blur' ? BLUR_IG_STEPS : DEFAULT_START_STEPS),
    adaptive: isAdaptive ? { tolerance: config.tolerance, maxSteps: config.maxSteps, ...(config.mapTolerance === undefined ? {} : { mapTolerance: config.mapTolerance }) } : undefined,
  };
}
