import type { Tensor } from '../graph/tensor';

/** Flattens to 2-D: dims before `axis` form the rows (default axis 1). */
export function flatten(x: Tensor, axis = 1): Tensor {
  return x.graph.apply1('Flatten', [x], { axis: { i: axis } });
}

/** Reshapes to `shape` (0 copies the input dim, one -1 is inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return x.graph.apply1('Reshape', [x, x.graph.int64s(shape)]);
}

/** Permutes the axes. */
export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  return x.graph.apply1('Transpose', [x], { perm: { ints: perm } });
}

/** Joins tensors along `axis`. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0];
  if (!first) throw new RangeError("'xs' must hold at least one tensor");
  return first.graph.apply1('Concat', xs, { axis: { i: axis } });
}

/** Takes [starts, ends) along `axes` (default 0..k-1), unit steps. */
export function slice(
  x: Tensor,
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
): Tensor {
  const g = x.graph;
  return g.apply1('Slice', [x, g.int64s(starts), g.int64s(ends), axes ? g.int64s(axes) : null]);
}

/** Reverses `axes` (a Slice with step -1 over each whole axis; not differentiable). */
export function reverse(x: Tensor, axes: readonly number[]): Tensor {
  const g = x.graph;
  const big = axes.map(() => -(2 ** 31));
  return g.apply1('Slice', [
    x,
    g.int64s(axes.map(() => -1)),
    g.int64s(big),
    g.int64s(axes),
    g.int64s(axes.map(() => -1)),
  ]);
}

/** Sum over `axes` (all when omitted). */
export function reduceSum(x: Tensor, axes?: readonly number[], keepdims = true): Tensor {
  return x.graph.apply1('ReduceSum', [x, axes ? x.graph.int64s(axes) : null], {
    keepdims: { i: keepdims ? 1 : 0 },
  });
}

/** Mean over `axes` (all when omitted). */
export function reduceMean(x: Tensor, axes?: readonly number[], keepdims = true): Tensor {
  return x.graph.apply1('ReduceMean', [x, axes ? x.graph.int64s(axes) : null], {
    keepdims: { i: keepdims ? 1 : 0 },
  });
}
