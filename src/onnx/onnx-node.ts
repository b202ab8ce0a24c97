/** One ONNX node as the op emissions see it: its inputs as Values and typed access to its attributes. */
import { IgxError } from '../errors.js';
import type { OnnxAttributeMsg, OnnxNodeMsg } from './onnx-proto.js';
import { decodeTensor, type OnnxTensorValue } from './read-onnx.js';
import type { Value } from './onnx-value.js';

function toInt(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  if (v !== null && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return 0;
}

export class OnnxNode {
  readonly name: string;
  readonly op: string;
  private readonly attrs: Map<string, OnnxAttributeMsg>;

  constructor(
    readonly msg: OnnxNodeMsg,
    /** Inputs in order; undefined for an omitted optional input (""). */
    readonly inputs: (Value | undefined)[],
    readonly file: string,
    readonly opset: number,
  ) {
    this.op = msg.opType;
    this.name = msg.name || `${msg.opType}_${msg.output[0] ?? ''}`;
    this.attrs = new Map(msg.attribute.map((a) => [a.name, a]));
  }

  /** For messages and node names. */
  get where(): string {
    return `${this.file}: node '${this.name}' (${this.op}, opset ${this.opset})`;
  }

  fail(message: string, code: 'E_UNSUPPORTED_OP' | 'E_MODEL_INVALID' = 'E_UNSUPPORTED_OP'): never {
    throw new IgxError(code, `${this.where}: ${message}`);
  }

  input(i: number): Value {
    const v = this.inputs[i];
    if (v === undefined) this.fail(`input ${i} is missing`, 'E_MODEL_INVALID');
    return v;
  }

  has(name: string): boolean {
    return this.attrs.has(name);
  }

  int(name: string, fallback: number): number {
    const a = this.attrs.get(name);
    return a === undefined ? fallback : toInt(a.i);
  }

  ints(name: string, fallback: number[]): number[] {
    const a = this.attrs.get(name);
    return a === undefined ? fallback : a.ints.map(toInt);
  }

  float(name: string, fallback: number): number {
    const a = this.attrs.get(name);
    return a === undefined ? fallback : a.f;
  }

  floats(name: string): number[] | undefined {
    return this.attrs.get(name)?.floats;
  }

  string(name: string, fallback: string): string {
    const a = this.attrs.get(name);
    return a === undefined ? fallback : Buffer.from(a.s).toString('utf8');
  }

  tensor(name: string): OnnxTensorValue | undefined {
    const t = this.attrs.get(name)?.t;
    return t == null ? undefined : decodeTensor(t, { file: this.file, what: `attribute '${name}' of node '${this.name}'` });
  }
}
