/** TensorFlow attr and shape messages in tfjs-converter's JSON forms, and the small attr helpers. */
import type { AttrValueMsg } from './messages.js';
import { DT, dtypeName, readShape, toNumber, type TensorValue } from './tensor-value.js';

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function shapeJson(shape: readonly number[] | undefined): Record<string, unknown> {
  if (shape === undefined) return { unknownRank: true };
  return shape.length === 0 ? {} : { dim: shape.map((d) => ({ size: String(d) })) };
}

function shapeProtoJson(proto: Parameters<typeof readShape>[0]): Record<string, unknown> {
  return shapeJson(readShape(proto));
}

/** An AttrValue message → tfjs-converter's IAttrValue JSON (bytes base64, int64 as strings, enums by name). */
export function attrToJson(a: AttrValueMsg): Record<string, unknown> {
  switch (a.value) {
    case 's':
      return { s: b64(a.s ?? new Uint8Array(0)) };
    case 'i':
      return { i: String(toNumber(a.i)) };
    case 'f':
      return { f: a.f ?? 0 };
    case 'b':
      return { b: a.b ?? false };
    case 'type':
      return { type: dtypeName(a.type ?? 0) };
    case 'shape':
      return { shape: shapeProtoJson(a.shape) };
    case 'tensor': {
      const t = a.tensor;
      return { tensor: { dtype: dtypeName(t?.dtype ?? 0), tensorShape: shapeProtoJson(t?.tensorShape) } };
    }
    case 'func':
      return { func: { name: a.func?.name ?? '' } };
    case 'list': {
      const l = a.list;
      const out: Record<string, unknown> = {};
      if (l == null) return { list: out };
      if (l.s.length > 0) out.s = l.s.map(b64);
      if (l.i.length > 0) out.i = l.i.map((x) => String(toNumber(x)));
      if (l.f.length > 0) out.f = [...l.f];
      if (l.b.length > 0) out.b = [...l.b];
      if (l.type.length > 0) out.type = l.type.map(dtypeName);
      if (l.shape.length > 0) out.shape = l.shape.map(shapeProtoJson);
      if (l.func.length > 0) out.func = l.func.map((f) => ({ name: f.name }));
      return { list: out };
    }
    default:
      return {};
  }
}

export function attrInt(a: AttrValueMsg | undefined): number | undefined {
  return a?.value === 'i' ? toNumber(a.i) : undefined;
}

export function typeAttr(type: number): AttrValueMsg {
  return { value: 'type', type };
}

export function tfjsEnum(dtype: TensorValue['dtype']): number {
  switch (dtype) {
    case 'float32':
      return DT.FLOAT;
    case 'int32':
      return DT.INT32;
    case 'bool':
      return DT.BOOL;
    default:
      return DT.STRING;
  }
}
