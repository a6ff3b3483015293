import type { Graph } from './graph';

/** Element types the engine builds graphs with. */
export type DType = 'float32' | 'int64' | 'bool';

/** One dimension: a size >= 0, or `null` for a size known only at run time (the batch). */
export type Dim = number | null;

/** Where a tensor comes from, which decides how it is emitted into ONNX. */
export type TensorKind = 'input' | 'param' | 'constant' | 'node';

/**
 * A symbolic tensor: a name, an element type and a shape, checked as the graph is built.
 * Values exist only when ONNX Runtime runs the emitted graph.
 */
export class Tensor {
  constructor(
    /** The graph this tensor belongs to. */
    readonly graph: Graph,
    /** Unique value name in the emitted ONNX graph. */
    readonly name: string,
    readonly dtype: DType,
    readonly shape: readonly Dim[],
    readonly kind: TensorKind,
  ) {}

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements, or null when a dimension is dynamic. */
  get size(): number | null {
    let n = 1;
    for (const d of this.shape) {
      if (d === null) return null;
      n *= d;
    }
    return n;
  }

  /** Formats the shape for error messages, e.g. `[N,784]`. */
  describe(): string {
    return `[${this.shape.map((d) => (d === null ? 'N' : String(d))).join(',')}]`;
  }
}

/** Formats a shape for error messages. */
export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.map((d) => (d === null ? 'N' : String(d))).join(',')}]`;
}
