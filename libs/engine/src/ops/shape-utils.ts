import { GraphBuildError } from '../graph/errors';
import { type Dim, type DType, type Tensor, formatShape } from '../graph/tensor';
import type { Attr, Attrs } from '../graph/graph';

/** Numpy-style broadcasting of two shapes (ONNX multidirectional broadcasting). */
export function broadcastShapes(op: string, a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i += 1) {
    const da = i < rank - a.length ? 1 : (a[i - (rank - a.length)] ?? 1);
    const db = i < rank - b.length ? 1 : (b[i - (rank - b.length)] ?? 1);
    if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (da === null || db === null) out.push(da ?? db);
    else if (da === db) out.push(da);
    else throw new GraphBuildError(op, `shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast`);
  }
  return out;
}

/** Throws unless every present input has one of the allowed element types. */
export function requireDtype(
  op: string,
  t: Tensor | null | undefined,
  allowed: readonly DType[],
  what: string,
): Tensor {
  if (!t) throw new GraphBuildError(op, `missing input '${what}'`);
  if (!allowed.includes(t.dtype)) {
    throw new GraphBuildError(
      op,
      `input '${what}' has element type ${t.dtype}; expected ${allowed.join(' or ')}`,
    );
  }
  return t;
}

/** Throws unless `t` has the given rank. */
export function requireRank(op: string, t: Tensor, rank: number, what: string): void {
  if (t.rank !== rank) {
    throw new GraphBuildError(op, `input '${what}' must have rank ${rank}, got shape ${t.describe()}`);
  }
}

/** Two dims that must match (a dynamic dim matches anything). */
export function sameDim(a: Dim | undefined, b: Dim | undefined): boolean {
  return a === null || b === null || a === b;
}

/** Normalizes a possibly negative axis, checking its range. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new GraphBuildError(op, `axis ${axis} is out of range for rank ${rank}`);
  }
  return a;
}

export function attrInt(attrs: Attrs, name: string, fallback: number): number {
  const a: Attr | undefined = attrs[name];
  return a && 'i' in a ? a.i : fallback;
}

export function attrFloat(attrs: Attrs, name: string, fallback: number): number {
  const a: Attr | undefined = attrs[name];
  return a && 'f' in a ? a.f : fallback;
}

export function attrInts(attrs: Attrs, name: string, fallback: readonly number[]): readonly number[] {
  const a: Attr | undefined = attrs[name];
  return a && 'ints' in a ? a.ints : fallback;
}

/** Reads the values of a constant int64 input (axes, shapes, pads) at build time. */
export function constInts(op: string, t: Tensor | null | undefined, what: string): number[] {
  if (!t) throw new GraphBuildError(op, `missing input '${what}'`);
  const c = t.graph.constants.get(t.name);
  if (!c || !(c.data instanceof BigInt64Array)) {
    throw new GraphBuildError(op, `input '${what}' must be an int64 constant known when the graph is built`);
  }
  return Array.from(c.data, (v) => Number(v));
}

/** Product of static dims; throws when one is dynamic. */
export function staticSize(op: string, shape: readonly Dim[]): number {
  let n = 1;
  for (const d of shape) {
    if (d === null) throw new GraphBuildError(op, `shape ${formatShape(shape)} must be static here`);
    n *= d;
  }
  return n;
}
