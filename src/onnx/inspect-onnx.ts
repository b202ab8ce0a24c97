/** `igx inspect` on an ONNX file: what the file itself says (opset, producer, its ONNX ops). */
import { readOnnx } from './read-onnx.js';

export interface OnnxInspection {
  opset: number;
  /** "pytorch 1.13.0" */
  producer: string;
  irVersion: number;
  /** ONNX op type → node count, by name. */
  opCounts: Record<string, number>;
}

export async function inspectOnnx(path: string): Promise<OnnxInspection> {
  const file = await readOnnx(path);
  const counts: Record<string, number> = {};
  for (const n of file.graph.node) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
  return {
    opset: file.opset,
    producer: `${file.model.producerName} ${file.model.producerVersion}`.trim(),
    irVersion: Number(file.model.irVersion),
    opCounts: Object.fromEntries(Object.entries(counts).sort()),
  };
}
