/** The explain use case: config → backend → model → image → attribution → report and files. */
export { explainImage } from './explain-image.js';
export { closeExplainSession, computeAutoBatchSize, loadExplainModel, openExplainSession } from './session.js';
export type { ExplainModel, ExplainSession, SessionMemory } from './session.js';
export type { ExplainImageOptions, ExplainProgress, ExplainResult, GradientImage, GradientJob, GradientRunner, PointJob, PointSpec } from './ports.js';
export { resolveTarget } from './resolve-target.js';
export { resolveStepPlan } from './step-plan.js';
export { judgeCompleteness } from './build-report.js';
