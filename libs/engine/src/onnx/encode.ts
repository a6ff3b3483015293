import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

// Why hand-written: no maintained npm package encodes ONNX ModelProto without pulling in a
// protobuf runtime and generated code for the whole onnx.proto; the engine needs a dozen
// fields. Field numbers follow the ONNX IR specification (onnx/onnx.proto, proto2 syntax).

/** ONNX TensorProto.DataType codes used by the engine. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
export const ONNX_BOOL = 9;

/** A tensor with values, as an initializer. */
export interface TensorMessage {
  readonly name: string;
  readonly dataType: number;
  readonly dims: readonly number[];
  /** Little-endian bytes of the values (TensorProto.raw_data). */
  readonly raw: Uint8Array;
}

/** A graph input or output: name, element type and dims (`null` = symbolic `N`). */
export interface ValueInfoMessage {
  readonly name: string;
  readonly dataType: number;
  readonly dims: readonly (number | null)[];
}

/** One attribute, already typed. */
export type AttributeMessage =
  | { readonly name: string; readonly i: number }
  | { readonly name: string; readonly f: number }
  | { readonly name: string; readonly s: string }
  | { readonly name: string; readonly ints: readonly number[] }
  | { readonly name: string; readonly floats: readonly number[] }
  | { readonly name: string; readonly t: TensorMessage };

export interface NodeMessage {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: readonly AttributeMessage[];
}

export interface ModelMessage {
  readonly irVersion: number;
  readonly opsetVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly graphName: string;
  readonly nodes: readonly NodeMessage[];
  readonly initializers: readonly TensorMessage[];
  readonly inputs: readonly ValueInfoMessage[];
  readonly outputs: readonly ValueInfoMessage[];
}

const LEN = WireType.LengthDelimited;

function writeTensor(w: BinaryWriter, t: TensorMessage): void {
  // TensorProto: dims = 1 (repeated int64), data_type = 2, name = 8, raw_data = 9.
  for (const d of t.dims) w.tag(1, WireType.Varint).int64(d);
  w.tag(2, WireType.Varint).int32(t.dataType);
  w.tag(8, LEN).string(t.name);
  w.tag(9, LEN).bytes(t.raw);
}

function writeValueInfo(w: BinaryWriter, v: ValueInfoMessage): void {
  // ValueInfoProto: name = 1, type = 2. TypeProto: tensor_type = 1. TypeProto.Tensor:
  // elem_type = 1, shape = 2. TensorShapeProto: dim = 1. Dimension: dim_value = 1, dim_param = 2.
  w.tag(1, LEN).string(v.name);
  w.tag(2, LEN).fork();
  w.tag(1, LEN).fork();
  w.tag(1, WireType.Varint).int32(v.dataType);
  w.tag(2, LEN).fork();
  for (const d of v.dims) {
    w.tag(1, LEN).fork();
    if (d === null) w.tag(2, LEN).string('N');
    else w.tag(1, WireType.Varint).int64(d);
    w.join();
  }
  w.join().join().join();
}

function writeAttribute(w: BinaryWriter, a: AttributeMessage): void {
  // AttributeProto: name = 1, f = 2, i = 3, s = 4, t = 5, floats = 7, ints = 8, type = 20.
  // AttributeType: FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, FLOATS = 6, INTS = 7.
  w.tag(1, LEN).string(a.name);
  if ('f' in a) w.tag(2, WireType.Bit32).float(a.f).tag(20, WireType.Varint).int32(1);
  else if ('i' in a) w.tag(3, WireType.Varint).int64(a.i).tag(20, WireType.Varint).int32(2);
  else if ('s' in a) w.tag(4, LEN).bytes(new TextEncoder().encode(a.s)).tag(20, WireType.Varint).int32(3);
  else if ('t' in a) {
    w.tag(5, LEN).fork();
    writeTensor(w, a.t);
    w.join().tag(20, WireType.Varint).int32(4);
  } else if ('floats' in a) {
    for (const f of a.floats) w.tag(7, WireType.Bit32).float(f);
    w.tag(20, WireType.Varint).int32(6);
  } else {
    for (const i of a.ints) w.tag(8, WireType.Varint).int64(i);
    w.tag(20, WireType.Varint).int32(7);
  }
}

function writeNode(w: BinaryWriter, n: NodeMessage): void {
  // NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
  for (const i of n.inputs) w.tag(1, LEN).string(i);
  for (const o of n.outputs) w.tag(2, LEN).string(o);
  w.tag(3, LEN).string(n.name);
  w.tag(4, LEN).string(n.opType);
  for (const a of n.attributes) {
    w.tag(5, LEN).fork();
    writeAttribute(w, a);
    w.join();
  }
}

/** Serializes a ModelProto (standard ONNX domain only). */
export function encodeModel(m: ModelMessage): Uint8Array {
  const w = new BinaryWriter();
  // ModelProto: ir_version = 1, producer_name = 2, producer_version = 3, graph = 7, opset_import = 8.
  w.tag(1, WireType.Varint).int64(m.irVersion);
  w.tag(2, LEN).string(m.producerName);
  w.tag(3, LEN).string(m.producerVersion);
  w.tag(7, LEN).fork();
  // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12.
  for (const n of m.nodes) {
    w.tag(1, LEN).fork();
    writeNode(w, n);
    w.join();
  }
  w.tag(2, LEN).string(m.graphName);
  for (const t of m.initializers) {
    w.tag(5, LEN).fork();
    writeTensor(w, t);
    w.join();
  }
  for (const v of m.inputs) {
    w.tag(11, LEN).fork();
    writeValueInfo(w, v);
    w.join();
  }
  for (const v of m.outputs) {
    w.tag(12, LEN).fork();
    writeValueInfo(w, v);
    w.join();
  }
  w.join();
  // OperatorSetIdProto: domain = 1 (empty = ai.onnx), version = 2.
  w.tag(8, LEN).fork().tag(1, LEN).string('').tag(2, WireType.Varint).int64(m.opsetVersion).join();
  return w.finish();
}
