/** ONNX models read in TypeScript and converted to differentiable TensorFlow.js graph models. */
export { convertOnnx } from './convert-onnx.js';
export type { OnnxConvertResult } from './convert-onnx.js';
export { buildOnnxGraph, findUnsupportedOps, unsupportedOpsError } from './build-onnx-graph.js';
export type { BuildOnnxOptions, BuiltOnnxGraph, OnnxGraphTensor, UnsupportedOnnxOp } from './build-onnx-graph.js';
export { readOnnx, resolveOnnxPath } from './read-onnx.js';
export type { OnnxFile, OnnxTensorValue } from './read-onnx.js';
export { ONNX_OPS } from './onnx-ops.js';
export { inspectOnnx } from './inspect-onnx.js';
export type { OnnxInspection, OnnxTensorInfo } from './inspect-onnx.js';
