/** igx drift as a library: compare two explain runs; returns data, prints nothing. */
export { runDrift, DRIFT_FILES, type DriftOptions, type DriftResult } from './run-drift.js';
export {
  DriftReportSchema,
  DriftImageSchema,
  DriftThresholdsSchema,
  DRIFT_SCHEMA_VERSION,
  MAP_CHOICES,
  NOISE_KINDS,
  type DriftReport,
  type DriftImage,
  type DriftThresholds,
  type MapChoice,
} from './schema.js';
export { DETERMINISTIC_THRESHOLDS, RANDOM_BASELINE_THRESHOLDS, computeDriftExitCode } from './compare.js';
export {
  computeMapSimilarity,
  computeSpearman,
  computeTopKIou,
  computeCosine,
  computeSsim,
  computeRanks,
  type MapSimilarity,
} from './metrics.js';
export { buildDriftMarkdown, buildJunitXml } from './outputs.js';
