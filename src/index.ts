/** igx as a library: returns data, prints nothing. */
export { computeIntegratedGradients, computeCompleteness, computeTargetScores } from './attribution/integrated-gradients.js';
export type { IntegratedGradientsOptions, IntegratedGradientsResult, Completeness } from './attribution/integrated-gradients.js';
export { computeQuadrature, computeGaussLegendre, computeRiemann } from './attribution/quadrature.js';
export { computeAttributionGrid, computeAttributionStats } from './attribution/summary.js';
export type { ForwardFn, Target, Method } from './attribution/types.js';
export { parseExplainFlags, type ExplainConfig, type RawExplainFlags } from './config/explain-config.js';
export { SidecarSchema, type Sidecar } from './config/sidecar.js';
export { IgxError, isIgxError, type ErrorCode } from './errors.js';
export { openExplainSession, explainImage, closeExplainSession, resolveTarget, type ExplainSession, type ExplainResult } from './explain.js';
export { loadModel } from './model/load-model.js';
export type { LoadedModel, ModelForward, OutputChoice } from './model/types.js';
export { selectBackend, type BackendInfo, type BackendName } from './engine/backend.js';
export { ReportSchema, REPORT_SCHEMA_VERSION, type Report } from './report/schema.js';
export * from './drift/index.js';
export { openExplainPool, type ExplainPool, type ExplainPoolInfo } from './pool/explain-pool.js';
