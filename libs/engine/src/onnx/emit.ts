import type { Attr, ConstantData, Graph, GraphNode } from '../graph/graph';
import type { DType, Tensor } from '../graph/tensor';
import {
  type AttributeMessage,
  encodeModel,
  type NodeMessage,
  ONNX_BOOL,
  ONNX_FLOAT,
  ONNX_INT64,
  type TensorMessage,
  type ValueInfoMessage,
} from './encode';
import { constInts } from '../ops/shape-utils';

/**
 * ONNX opset the engine emits: 17, the newest that Debian 12's python3-onnx 1.12 checks, and
 * the first with LayerNormalization. ReduceMean/ReduceMax take `axes` as an attribute there;
 * the builder keeps axes as constant inputs (the opset 18 form) and converts when emitting.
 */
export const OPSET_VERSION = 17;
/** IR version matching opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;

/** How parameters are emitted. */
export type EmitOptions =
  | { readonly mode: 'training' }
  | { readonly mode: 'inference'; readonly paramValues: ReadonlyMap<string, Float32Array> };

const dataType = (d: DType): number =>
  d === 'float32' ? ONNX_FLOAT : d === 'int64' ? ONNX_INT64 : ONNX_BOOL;

function rawBytes(data: ConstantData): Uint8Array {
  // Node.js runs little-endian on every supported platform, as raw_data requires.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorMessage(name: string, data: ConstantData, dims: readonly number[]): TensorMessage {
  const dt =
    data instanceof Float32Array ? ONNX_FLOAT : data instanceof BigInt64Array ? ONNX_INT64 : ONNX_BOOL;
  return { name, dataType: dt, dims, raw: rawBytes(data) };
}

const valueInfo = (t: Tensor): ValueInfoMessage => ({
  name: t.name,
  dataType: dataType(t.dtype),
  dims: t.shape,
});

function attributes(attrs: Readonly<Record<string, Attr>>): AttributeMessage[] {
  return Object.entries(attrs).map(([name, a]) => ({ name, ...a }) as AttributeMessage);
}

/** Gelu is not in opset 17: emit its exact formula 0.5 * x * (1 + erf(x / sqrt 2)). */
function lowerGelu(node: GraphNode, inits: TensorMessage[], name: (t: Tensor) => string): NodeMessage[] {
  const x = name(node.inputs[0]!);
  const y = name(node.outputs[0]!);
  const c = (tag: string, v: number): string => {
    const constName = `${y}__${tag}`;
    inits.push(tensorMessage(constName, new Float32Array([v]), []));
    return constName;
  };
  const n = (op: string, ins: string[], out: string): NodeMessage => ({
    opType: op,
    name: out,
    inputs: ins,
    outputs: [out],
    attributes: [],
  });
  return [
    n('Mul', [x, c('rsqrt2', Math.SQRT1_2)], `${y}__s`),
    n('Erf', [`${y}__s`], `${y}__e`),
    n('Add', [`${y}__e`, c('one', 1)], `${y}__a`),
    n('Mul', [x, `${y}__a`], `${y}__m`),
    n('Mul', [`${y}__m`, c('half', 0.5)], y),
  ];
}

/**
 * Graph outputs are declared through Identity nodes; where the source is an op result used
 * by no other output, the producer writes the output name directly instead, sparing ORT a
 * copy per output per run (parameters and optimizer state are outputs of every step).
 */
function outputAliases(graph: Graph): { rename: Map<string, string>; skip: Set<GraphNode> } {
  const rename = new Map<string, string>();
  const skip = new Set<GraphNode>();
  const outputs = new Set(graph.outputs.map((o) => o.tensor.name));
  for (const node of graph.nodes) {
    const src = node.inputs[0];
    const dst = node.outputs[0];
    if (node.op !== 'Identity' || !src || !dst || !outputs.has(dst.name)) continue;
    if (src.kind !== 'node' || rename.has(src.name) || outputs.has(src.name)) continue;
    rename.set(src.name, dst.name);
    skip.add(node);
  }
  return { rename, skip };
}

function nodeMessages(graph: Graph, inits: TensorMessage[]): NodeMessage[] {
  const out: NodeMessage[] = [];
  const { rename, skip } = outputAliases(graph);
  const name = (t: Tensor) => rename.get(t.name) ?? t.name;
  for (const node of graph.nodes) {
    if (skip.has(node)) continue;
    if (node.op === 'Gelu') {
      out.push(...lowerGelu(node, inits, name));
      continue;
    }
    const attrs = attributes(node.attrs);
    let ins = node.inputs;
    if ((node.op === 'ReduceMean' || node.op === 'ReduceMax') && ins[1]) {
      attrs.push({ name: 'axes', ints: constInts(node.op, ins[1], 'axes') });
      ins = [ins[0] ?? null];
    }
    const inputs = ins.map((t) => (t ? name(t) : ''));
    while (inputs.length > 0 && inputs[inputs.length - 1] === '') inputs.pop();
    out.push({
      opType: node.op,
      name: node.outputs[0] ? name(node.outputs[0]) : node.op,
      inputs,
      outputs: node.outputs.map(name),
      attributes: attrs,
    });
  }
  return out;
}

/**
 * Serializes a graph as an ONNX model (opset 17). In training mode parameters are graph
 * inputs; in inference mode they become initializers holding `paramValues`.
 */
export function emitModel(graph: Graph, options: EmitOptions, graphName = 'fedistill'): Uint8Array {
  const inits: TensorMessage[] = [];
  for (const { tensor, data } of graph.constants.values()) {
    inits.push(tensorMessage(tensor.name, data, tensor.shape as number[]));
  }
  const inputs = graph.inputs.map(valueInfo);
  for (const p of graph.params) {
    if (options.mode === 'training') {
      inputs.push(valueInfo(p));
      continue;
    }
    const v = options.paramValues.get(p.name);
    const size = p.size ?? -1;
    if (!v || v.length !== size)
      throw new RangeError(`'paramValues' lacks ${size} values for parameter '${p.name}'`);
    inits.push(tensorMessage(p.name, v, p.shape as number[]));
  }
  const nodes = nodeMessages(graph, inits);
  // A constant no emitted node reads (the axes of ReduceMean/ReduceMax become an attribute
  // above; a gradient rule may build one that folds away) is left out: ONNX Runtime would
  // otherwise warn "Removing initializer ... It is not used by any node" on every session.
  const read = new Set<string>(nodes.flatMap((n) => n.inputs));
  for (const o of graph.outputs) read.add(o.tensor.name);
  const used = inits.filter((t) => read.has(t.name));
  return encodeModel({
    irVersion: IR_VERSION,
    opsetVersion: OPSET_VERSION,
    producerName: 'fedistill-engine',
    producerVersion: '0.1.0',
    graphName,
    nodes,
    initializers: used,
    inputs,
    outputs: graph.outputs.map((o) => valueInfo(o.tensor)),
  });
}
