import { GraphBuildError, UnsupportedOpError } from './errors';
import { type Dim, type DType, Tensor } from './tensor';
import { opSpecs, type OutputSpec } from '../ops/specs';

/** An ONNX node attribute, tagged by its ONNX attribute type. */
export type Attr =
  | { readonly i: number }
  | { readonly f: number }
  | { readonly s: string }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] };

/** Attributes of one node, by ONNX attribute name. */
export type Attrs = Readonly<Record<string, Attr>>;

/** One ONNX node (standard domain). Missing optional inputs are `null`. */
export interface GraphNode {
  readonly op: string;
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Attrs;
}

/** Values of a constant tensor, emitted as an initializer. */
export type ConstantData = Float32Array | BigInt64Array | Uint8Array;

/**
 * A graph under construction. Nodes are kept in creation order, which is a topological
 * order because a node can only consume tensors that already exist.
 */
export class Graph {
  readonly nodes: GraphNode[] = [];
  readonly inputs: Tensor[] = [];
  readonly params: Tensor[] = [];
  readonly constants = new Map<string, { tensor: Tensor; data: ConstantData }>();
  readonly outputs: { name: string; tensor: Tensor }[] = [];
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<string, Tensor>();
  private counter = 0;

  /** A run-time input (a batch, labels, optimizer state). `null` dims are dynamic. */
  input(name: string, dtype: DType, shape: readonly Dim[]): Tensor {
    const t = new Tensor(this, this.claim(name), dtype, [...shape], 'input');
    this.inputs.push(t);
    return t;
  }

  /** A trainable float32 parameter: a graph input when training, an initializer when exported. */
  param(name: string, shape: readonly number[]): Tensor {
    const t = new Tensor(this, this.claim(name), 'float32', [...shape], 'param');
    this.params.push(t);
    return t;
  }

  /** A constant tensor; `data.length` must equal the product of `shape`. */
  constant(data: ConstantData, shape: readonly number[], name?: string): Tensor {
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new RangeError(`'data' has ${data.length} values but shape [${shape.join(',')}] needs ${size}`);
    }
    const dtype: DType =
      data instanceof Float32Array ? 'float32' : data instanceof BigInt64Array ? 'int64' : 'bool';
    const t = new Tensor(this, this.claim(name ?? this.fresh('const')), dtype, [...shape], 'constant');
    this.constants.set(t.name, { tensor: t, data });
    return t;
  }

  /** A float32 scalar (rank 0) constant, shared between uses of the same value. */
  scalar(value: number): Tensor {
    const key = `f${value}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const t = this.constant(new Float32Array([value]), []);
    this.scalarCache.set(key, t);
    return t;
  }

  /** A 1-D int64 constant (axes, shapes, pads). */
  int64s(values: readonly number[]): Tensor {
    const key = `i${values.join(',')}`;
    const hit = this.scalarCache.get(key);
    if (hit) return hit;
    const t = this.constant(BigInt64Array.from(values.map((v) => BigInt(v))), [values.length]);
    this.scalarCache.set(key, t);
    return t;
  }

  /**
   * Adds one node of a supported op type, checking input types and shapes.
   * @throws UnsupportedOpError for an op type the engine does not know.
   * @throws GraphBuildError (naming the op) for bad shapes, element types or attributes.
   */
  apply(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs = {}, keep?: number): Tensor[] {
    const spec = opSpecs[op];
    if (!spec) {
      throw new UnsupportedOpError(
        op,
        `op type is not supported; supported: ${Object.keys(opSpecs).sort().join(', ')}`,
      );
    }
    for (const t of inputs) {
      if (t && t.graph !== this) throw new GraphBuildError(op, `input '${t.name}' belongs to another graph`);
    }
    // `keep` drops trailing optional outputs (MaxPool's Indices, Dropout's mask) a caller does not use.
    const specs: OutputSpec[] = spec.infer(inputs, attrs, op).slice(0, keep);
    const outputs = specs.map((s) => new Tensor(this, this.claim(this.fresh(op)), s.dtype, s.shape, 'node'));
    this.nodes.push({ op, inputs: [...inputs], outputs, attrs });
    return outputs;
  }

  /** Like {@link apply} for single-output ops. */
  apply1(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs = {}, keep?: number): Tensor {
    const out = this.apply(op, inputs, attrs, keep)[0];
    if (!out) throw new GraphBuildError(op, 'op produced no output');
    return out;
  }

  /** Declares a graph output under `name` (an Identity node gives it that name). */
  output(name: string, tensor: Tensor): void {
    if (tensor.graph !== this) throw new TypeError(`'tensor' for output '${name}' belongs to another graph`);
    const t = new Tensor(this, this.claim(name), tensor.dtype, tensor.shape, 'node');
    this.nodes.push({ op: 'Identity', inputs: [tensor], outputs: [t], attrs: {} });
    this.outputs.push({ name, tensor: t });
  }

  /** The node that computes `t`, or undefined for inputs, parameters and constants. */
  producer(t: Tensor): GraphNode | undefined {
    if (t.kind !== 'node') return undefined;
    for (let i = this.nodes.length - 1; i >= 0; i -= 1)
      if (this.nodes[i]!.outputs.includes(t)) return this.nodes[i];
    return undefined;
  }

  /** Whether any node reads `t` (graph outputs are read by their Identity node). */
  isRead(t: Tensor): boolean {
    return this.nodes.some((n) => n.inputs.includes(t));
  }

  /**
   * Removes `node` after a rewrite replaced it (a fusion).
   * @throws TypeError when a node still reads one of its outputs, or it is not in this graph.
   */
  removeNode(node: GraphNode): void {
    const at = this.nodes.indexOf(node);
    if (at < 0) throw new TypeError(`node ${node.op} is not in this graph`);
    const read = node.outputs.find((t) => this.isRead(t));
    if (read) throw new TypeError(`cannot remove ${node.op}: '${read.name}' is still read`);
    this.nodes.splice(at, 1);
  }

  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  private claim(name: string): string {
    if (name.length === 0) throw new TypeError("'name' must not be empty");
    if (this.names.has(name)) throw new TypeError(`name '${name}' is already used in this graph`);
    this.names.add(name);
    return name;
  }
}
