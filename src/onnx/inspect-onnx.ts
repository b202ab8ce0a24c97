/**
 * `igx inspect` on an ONNX file: what the file itself says (opset, producer, its ONNX ops, its declared
 * input and outputs, the ops igx cannot convert), read without converting it, so that a file igx
 * cannot explain is still described.
 */
import { findUnsupportedOps, type UnsupportedOnnxOp } from './build-onnx-graph.js';
import { ONNX_DTYPE_NAMES, type OnnxValueInfoMsg } from './onnx-proto.js';
import { readOnnx } from './read-onnx.js';

export interface OnnxTensorInfo {
  name: string;
  /** "FLOAT" */
  dtype: string;
  /** In ONNX axis order (NCHW for an image); a dim the file leaves open is its name ("batch") or "?". */
  dims: (number | string)[];
}

export interface OnnxInspection {
  path: string;
  /** sha256 of the file and its external data. */
  sha256: string;
  opset: number;
  /** "pytorch 1.13.0" */
  producer: string;
  irVersion: number;
  /** ONNX op type → node count, by name; `domain.op` outside the default domain. */
  opCounts: Record<string, number>;
  /** The graph's inputs (initializers aside) and outputs, as declared. */
  inputs: OnnxTensorInfo[];
  outputs: OnnxTensorInfo[];
  /** Op types igx cannot convert; explain and convert fail with E_UNSUPPORTED_OP while any is listed. */
  unsupportedOps: UnsupportedOnnxOp[];
}

function describeTensor(info: OnnxValueInfoMsg): OnnxTensorInfo {
  const tensor = info.type?.tensorType;
  const dims = (tensor?.shape?.dim ?? []).map((d) => (d.value === 'dimValue' && Number(d.dimValue) > 0 ? Number(d.dimValue) : d.value === 'dimParam' && d.dimParam ? d.dimParam : '?'));
  const dtype = tensor == null ? 'not a tensor' : (ONNX_DTYPE_NAMES[tensor.elemType] ?? String(tensor.elemType));
  return { name: info.name, dtype, dims };
}

export async function inspectOnnx(path: string): Promise<OnnxInspection> {
  const file = await readOnnx(path);
  const counts: Record<string, number> = {};
  for (const n of file.graph.node) {
    const op = n.domain === '' || n.domain === 'ai.onnx' ? n.opType : `${n.domain}.${n.opType}`;
    counts[op] = (counts[op] ?? 0) + 1;
  }
  return {
    path: file.path,
    sha256: file.sha256,
    opset: file.opset,
    producer: `${file.model.producerName} ${file.model.producerVersion}`.trim(),
    irVersion: Number(file.model.irVersion),
    opCounts: Object.fromEntries(Object.entries(counts).sort()),
    inputs: file.graph.input.filter((i) => !file.initializers.has(i.name)).map(describeTensor),
    outputs: file.graph.output.map(describeTensor),
    unsupportedOps: findUnsupportedOps(file),
  };
}
