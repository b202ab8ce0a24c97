/**
 * TypeScript views of the decoded protobufjs messages igx reads (camelCase fields, as proto.ts parses
 * them). Only the fields igx uses; int64 fields arrive as Long (see toNumber).
 */
import type { TensorProtoLike, TensorShapeProtoLike } from './tensor-value.js';

export interface ListValueMsg {
  s: Uint8Array[];
  i: unknown[];
  f: number[];
  b: boolean[];
  type: number[];
  shape: TensorShapeProtoLike[];
  tensor: TensorProtoLike[];
  func: NameAttrListMsg[];
}

export interface AttrValueMsg {
  /** Which member of the `value` oneof is set. */
  value?: 's' | 'i' | 'f' | 'b' | 'type' | 'shape' | 'tensor' | 'list' | 'func' | 'placeholder';
  s?: Uint8Array;
  i?: unknown;
  f?: number;
  b?: boolean;
  type?: number;
  shape?: TensorShapeProtoLike | null;
  tensor?: TensorProtoLike | null;
  list?: ListValueMsg | null;
  func?: NameAttrListMsg | null;
  placeholder?: string;
}

export interface NameAttrListMsg {
  name: string;
  attr: Record<string, AttrValueMsg>;
}

export interface NodeDefMsg {
  name: string;
  op: string;
  input: string[];
  device?: string;
  attr: Record<string, AttrValueMsg>;
}

export interface ArgDefMsg {
  name: string;
  type: number;
  typeAttr: string;
  numberAttr: string;
  typeListAttr: string;
}

export interface AttrDefMsg {
  name: string;
  type: string;
  defaultValue: AttrValueMsg | null;
}

export interface OpDefMsg {
  name: string;
  inputArg: ArgDefMsg[];
  outputArg: ArgDefMsg[];
  attr: AttrDefMsg[];
}

export interface FunctionDefMsg {
  signature: OpDefMsg | null;
  attr: Record<string, AttrValueMsg>;
  nodeDef: NodeDefMsg[];
  ret: Record<string, string>;
}

export interface GraphDefMsg {
  node: NodeDefMsg[];
  versions: { producer?: number; minConsumer?: number } | null;
  library: { function: FunctionDefMsg[] } | null;
}

export interface TensorInfoMsg {
  encoding?: 'name' | 'cooSparse' | 'compositeTensor';
  name: string;
  dtype: number;
  tensorShape: TensorShapeProtoLike | null;
}

export interface SignatureDefMsg {
  inputs: Record<string, TensorInfoMsg>;
  outputs: Record<string, TensorInfoMsg>;
  methodName: string;
}

export interface ObjectReferenceMsg {
  nodeId: number;
  localName: string;
}

export interface SavedObjectMsg {
  children: ObjectReferenceMsg[];
  kind?: string;
  variable?: { dtype: number; shape: TensorShapeProtoLike | null; name: string } | null;
  bareConcreteFunction?: { concreteFunctionName: string } | null;
  constant?: { operation: string } | null;
}

export interface SavedObjectGraphMsg {
  nodes: SavedObjectMsg[];
  concreteFunctions: Record<string, { boundInputs: number[] }>;
}

export interface TrackableObjectGraphMsg {
  nodes: {
    children: ObjectReferenceMsg[];
    attributes: { name: string; fullName: string; checkpointKey: string }[];
  }[];
}

export interface MetaGraphDefMsg {
  metaInfoDef: {
    tags: string[];
    tensorflowVersion: string;
    strippedOpList: { op: OpDefMsg[] } | null;
  } | null;
  graphDef: GraphDefMsg | null;
  saverDef: { filenameTensorName: string; restoreOpName: string } | null;
  signatureDef: Record<string, SignatureDefMsg>;
  objectGraphDef: SavedObjectGraphMsg | null;
}

export interface SavedModelMsg {
  metaGraphs: MetaGraphDefMsg[];
}
