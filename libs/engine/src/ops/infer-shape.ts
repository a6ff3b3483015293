import type { Attrs } from '../graph/graph';
import { type Dim, type Tensor, formatShape } from '../graph/tensor';
import { GraphBuildError } from '../graph/errors';
import {
  attrInt,
  attrInts,
  broadcastShapes,
  constInts,
  normAxis,
  requireDtype,
  sameDim,
} from './shape-utils';
import type { InferFn } from './specs';

type Inputs = readonly (Tensor | null)[];
const ANY = ['float32', 'int64', 'bool'] as const;

const product = (dims: readonly Dim[]): Dim =>
  dims.reduce<Dim>((a, d) => (a === null || d === null ? null : a * d), 1);

/** Flatten(axis) to 2-D. */
export const inferFlatten: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ANY, 'input');
  const axis = attrInt(attrs, 'axis', 1);
  const a = axis < 0 ? axis + x.rank : axis;
  if (a < 0 || a > x.rank) throw new GraphBuildError(op, `axis ${axis} is out of range for rank ${x.rank}`);
  return [{ dtype: x.dtype, shape: [product(x.shape.slice(0, a)), product(x.shape.slice(a))] }];
};

/** Reshape by a constant shape (0 copies a dim, one -1 is inferred). */
export const inferReshape: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ANY, 'data');
  const target = constInts(op, inputs[1], 'shape');
  const out: Dim[] = target.map((d, i) => (d === 0 ? (x.shape[i] ?? null) : d));
  const known = out.filter((d) => d !== -1);
  // A dynamic dim copied by 0 cancels against the same dynamic input dim.
  const cancel = known.filter((d) => d === null).length === x.shape.filter((d) => d === null).length;
  const inSize = cancel ? product(x.shape.filter((d) => d !== null)) : product(x.shape);
  const restSize = cancel ? product(known.filter((d) => d !== null)) : product(known);
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1) throw new GraphBuildError(op, `shape [${target.join(',')}] has more than one -1`);
  if (neg === 1) {
    const fill = inSize === null || restSize === null ? null : inSize / restSize;
    if (fill !== null && !Number.isInteger(fill)) {
      throw new GraphBuildError(op, `cannot reshape ${x.describe()} to [${target.join(',')}]`);
    }
    out[out.indexOf(-1)] = fill;
  } else if (inSize !== null && restSize !== null && inSize !== restSize) {
    throw new GraphBuildError(
      op,
      `cannot reshape ${x.describe()} (${inSize} values) to [${target.join(',')}]`,
    );
  }
  return [{ dtype: x.dtype, shape: out }];
};

/** Transpose by a permutation (default: reverse). */
export const inferTranspose: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ANY, 'data');
  const perm = attrInts(
    attrs,
    'perm',
    x.shape.map((_, i) => x.rank - 1 - i),
  );
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== x.rank || sorted.some((v, i) => v !== i)) {
    throw new GraphBuildError(op, `perm [${perm.join(',')}] is not a permutation of ${x.rank} axes`);
  }
  return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p] ?? null) }];
};

/** Concat along one axis; the other dims must agree. */
export const inferConcat: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const first = requireDtype(op, inputs[0], ANY, 'inputs[0]');
  const axis = normAxis(op, attrInt(attrs, 'axis', 0), first.rank);
  const out = [...first.shape];
  inputs.slice(1).forEach((t, i) => {
    const x = requireDtype(op, t, [first.dtype], `inputs[${i + 1}]`);
    if (x.rank !== first.rank || x.shape.some((d, j) => j !== axis && !sameDim(d, first.shape[j]))) {
      throw new GraphBuildError(op, `shapes ${first.describe()} and ${x.describe()} differ off axis ${axis}`);
    }
    const a = out[axis] ?? null;
    const b = x.shape[axis] ?? null;
    out[axis] = a === null || b === null ? null : a + b;
  });
  return [{ dtype: first.dtype, shape: out }];
};

/** Split along an axis into parts of constant sizes. */
export const inferSplit: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ANY, 'input');
  const axis = normAxis(op, attrInt(attrs, 'axis', 0), x.rank);
  const sizes = constInts(op, inputs[1], 'split');
  const total = sizes.reduce((a, b) => a + b, 0);
  if (x.shape[axis] !== null && total !== x.shape[axis]) {
    throw new GraphBuildError(
      op,
      `split sizes [${sizes.join(',')}] do not add up to ${String(x.shape[axis])}`,
    );
  }
  return sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, j) => (j === axis ? s : d)) }));
};

/** Slice with constant starts/ends/axes; steps 1, or -1 over a whole axis (a reversal). */
export const inferSlice: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ANY, 'data');
  const starts = constInts(op, inputs[1], 'starts');
  const ends = constInts(op, inputs[2], 'ends');
  const axes = inputs[3] ? constInts(op, inputs[3], 'axes') : starts.map((_, i) => i);
  const steps = inputs[4] ? constInts(op, inputs[4], 'steps') : starts.map(() => 1);
  const out = [...x.shape];
  axes.forEach((axis0, i) => {
    const axis = normAxis(op, axis0, x.rank);
    const dim = x.shape[axis] ?? null;
    if (dim === null) throw new GraphBuildError(op, `cannot slice dynamic axis ${axis}`);
    if (steps[i] === -1) {
      if (starts[i] !== -1 || (ends[i] ?? 0) > -dim - 1)
        throw new GraphBuildError(op, 'step -1 must reverse a whole axis');
      return;
    }
    if (steps[i] !== 1) throw new GraphBuildError(op, 'only steps 1 and -1 are supported');
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    out[axis] = Math.max(clamp(ends[i] ?? dim) - clamp(starts[i] ?? 0), 0);
  });
  return [{ dtype: x.dtype, shape: out }];
};

/** Pad (constant mode) with constant pads [begin..., end...]. */
export const inferPad: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32'], 'data');
  const pads = constInts(op, inputs[1], 'pads');
  if (pads.length !== 2 * x.rank)
    throw new GraphBuildError(op, `pads needs ${2 * x.rank} values for ${x.describe()}`);
  const shape = x.shape.map((d, i) => (d === null ? null : d + (pads[i] ?? 0) + (pads[i + x.rank] ?? 0)));
  return [{ dtype: 'float32', shape }];
};

/** Expand to a constant shape (broadcasting). */
export const inferExpand: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ANY, 'input');
  return [{ dtype: x.dtype, shape: broadcastShapes(op, x.shape, constInts(op, inputs[1], 'shape')) }];
};

/** ReduceSum / ReduceMean / ReduceMax over constant axes (opset 18 form). */
export const inferReduce: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32'], 'data');
  const keep = attrInt(attrs, 'keepdims', 1) === 1;
  const axes = inputs[1]
    ? constInts(op, inputs[1], 'axes').map((a) => normAxis(op, a, x.rank))
    : x.shape.map((_, i) => i);
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return [{ dtype: 'float32', shape }];
};

/** ScatterElements(data, indices, updates) with equal index/update shapes. */
export const inferScatterElements: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32'], 'data');
  const idx = requireDtype(op, inputs[1], ['int64'], 'indices');
  const upd = requireDtype(op, inputs[2], ['float32'], 'updates');
  if (formatShape(idx.shape) !== formatShape(upd.shape)) {
    throw new GraphBuildError(op, `indices ${idx.describe()} and updates ${upd.describe()} differ`);
  }
  return [{ dtype: 'float32', shape: x.shape }];
};
