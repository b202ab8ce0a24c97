/** TensorFlow SavedModels read in TypeScript and converted to TensorFlow.js graph models. */
export { convertSavedModel, writeGraphModel, SHARD_BYTES } from './convert.js';
export type { ConvertOptions, ConvertResult, SignatureSummary, SignatureTensorSummary, WrittenGraphModel } from './convert.js';
export { inspectSavedModel } from './inspect.js';
export type { InspectedSignature, InspectedTensor, SavedModelInspection } from './inspect.js';
export { isSavedModelDir, resolveSavedModelDir, DEFAULT_SIGNATURE, DEFAULT_TAGS } from './read-saved-model.js';
export type { SavedModelLoadOptions } from './read-saved-model.js';
