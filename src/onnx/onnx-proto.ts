/**
 * The ONNX messages igx reads, as .proto text that protobufjs parses once at first use (as
 * savedmodel/proto.ts does for TensorFlow's). Field numbers and types are those of the vendored schema
 * vendor/onnx/onnx.proto3 (ONNX 1.12.0, Apache-2.0); test/onnx.test.ts checks every field here against
 * it. Embedding the subset, rather than reading the vendored file at run time, keeps the reader free of
 * a schema file that the npm package would have to ship. Decoding skips the fields left out (training
 * info, sparse tensors, functions, docs).
 */
import protobuf from 'protobufjs';

export const ONNX_PROTO = `
syntax = "proto3";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; SPARSE_TENSOR = 11; TYPE_PROTO = 13;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10; SPARSE_TENSORS = 12; TYPE_PROTOS = 14;
  }
  string name = 1;
  string ref_attr_name = 21;
  AttributeType type = 20;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
}

message ValueInfoProto {
  string name = 1;
  TypeProto type = 2;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  string domain = 7;
  repeated AttributeProto attribute = 5;
}

message ModelProto {
  int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  string key = 1;
  string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  string name = 8;
  bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  enum DataLocation { DEFAULT = 0; EXTERNAL = 1; }
  DataLocation data_location = 14;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    };
    string denotation = 3;
  };
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  string denotation = 6;
}

message OperatorSetIdProto {
  string domain = 1;
  int64 version = 2;
}
`;

/** TensorProto.DataType numbers igx reads. */
export const ONNX_DTYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;

export const ONNX_DTYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64', 8: 'STRING',
  9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16',
};

export interface OnnxDimMsg {
  dimValue?: unknown;
  dimParam?: string;
  value?: 'dimValue' | 'dimParam';
}

export interface OnnxValueInfoMsg {
  name: string;
  type?: { tensorType?: { elemType: number; shape?: { dim: OnnxDimMsg[] } | null } | null } | null;
}

export interface OnnxTensorMsg {
  dims: unknown[];
  dataType: number;
  floatData: number[];
  int32Data: number[];
  int64Data: unknown[];
  doubleData: number[];
  uint64Data: unknown[];
  name: string;
  rawData: Uint8Array;
  externalData: { key: string; value: string }[];
  dataLocation: number;
}

export interface OnnxAttributeMsg {
  name: string;
  type: number;
  f: number;
  i: unknown;
  s: Uint8Array;
  t?: OnnxTensorMsg | null;
  floats: number[];
  ints: unknown[];
  strings: Uint8Array[];
}

export interface OnnxNodeMsg {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  domain: string;
  attribute: OnnxAttributeMsg[];
}

export interface OnnxGraphMsg {
  node: OnnxNodeMsg[];
  name: string;
  initializer: OnnxTensorMsg[];
  input: OnnxValueInfoMsg[];
  output: OnnxValueInfoMsg[];
}

export interface OnnxModelMsg {
  irVersion: unknown;
  opsetImport: { domain: string; version: unknown }[];
  producerName: string;
  producerVersion: string;
  graph?: OnnxGraphMsg | null;
}

let root: protobuf.Root | undefined;

/** The parsed schema (camelCase field names), built on first use. */
export function getOnnxRoot(): protobuf.Root {
  if (root === undefined) {
    root = protobuf.parse(ONNX_PROTO).root;
    root.resolveAll();
  }
  return root;
}

/** Decodes a ModelProto; throws protobufjs's errors on malformed bytes. */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModelMsg {
  const type = getOnnxRoot().lookupType('onnx.ModelProto');
  // Arrays and defaults filled in, so readers need not test each repeated field.
  return type.toObject(type.decode(bytes), { defaults: true, arrays: true, longs: Number, oneofs: true }) as unknown as OnnxModelMsg;
}
