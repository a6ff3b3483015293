import type { Attrs } from '../graph/graph';
import type { Dim, Tensor } from '../graph/tensor';
import { GraphBuildError } from '../graph/errors';
import {
  attrInt,
  broadcastShapes,
  constInts,
  normAxis,
  requireDtype,
  requireRank,
  sameDim,
} from './shape-utils';
import type { InferFn } from './specs';

type Inputs = readonly (Tensor | null)[];

/**
 * MatMul of a rank >= 2 tensor A [..., M, K] by a 2-D matrix B [K, N], or batched: B of the same
 * rank as A (>= 3) with equal leading (batch) axes, [..., K, N] (one product per batch index, as
 * numpy.matmul without broadcasting the batch axes).
 */
export const inferMatMul: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const a = requireDtype(op, inputs[0], ['float32'], 'A');
  const b = requireDtype(op, inputs[1], ['float32'], 'B');
  if (a.rank < 2) throw new GraphBuildError(op, `input 'A' must have rank >= 2, got ${a.describe()}`);
  if (b.rank !== 2) {
    if (b.rank !== a.rank || a.rank < 3)
      throw new GraphBuildError(
        op,
        `input 'B' must be 2-D or have the rank of A (>= 3), got A ${a.describe()} and B ${b.describe()}`,
      );
    if (b.shape.slice(0, -2).some((d, i) => !sameDim(d, a.shape[i])))
      throw new GraphBuildError(op, `batch axes differ: A ${a.describe()} and B ${b.describe()}`);
  }
  if (!sameDim(a.shape[a.rank - 1], b.shape[b.rank - 2])) {
    throw new GraphBuildError(op, `inner dimensions differ: A ${a.describe()} and B ${b.describe()}`);
  }
  // A batch axis unknown in A may be known in B.
  const rows = a.shape.slice(0, -1).map((d, i) => (b.rank > 2 && i < a.rank - 2 ? (d ?? b.shape[i]!) : d));
  return [{ dtype: 'float32', shape: [...rows, b.shape[b.rank - 1] ?? null] }];
};

/** Gemm: Y = alpha * A' B' + beta * C, with C broadcast to [M, N]. */
export const inferGemm: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const a = requireDtype(op, inputs[0], ['float32'], 'A');
  const b = requireDtype(op, inputs[1], ['float32'], 'B');
  requireRank(op, a, 2, 'A');
  requireRank(op, b, 2, 'B');
  const ta = attrInt(attrs, 'transA', 0) === 1;
  const tb = attrInt(attrs, 'transB', 0) === 1;
  const [m, ka] = ta ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = tb ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (!sameDim(ka, kb)) {
    throw new GraphBuildError(op, `inner dimensions differ: A ${a.describe()} and B ${b.describe()}`);
  }
  const out: Dim[] = [m ?? null, n ?? null];
  const c = inputs[2];
  if (c) {
    requireDtype(op, c, ['float32'], 'C');
    const bc = broadcastShapes(op, out, c.shape);
    if (bc.length !== 2 || !sameDim(bc[0], out[0]) || !sameDim(bc[1], out[1])) {
      throw new GraphBuildError(op, `C ${c.describe()} does not broadcast to the output [M,N]`);
    }
  }
  return [{ dtype: 'float32', shape: out }];
};

/** OneHot(indices int64, depth, values) along the last axis, float32 output. */
export const inferOneHot: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const idx = requireDtype(op, inputs[0], ['int64'], 'indices');
  const [depth] = constInts(op, inputs[1], 'depth');
  requireDtype(op, inputs[2], ['float32'], 'values');
  if (depth === undefined || depth < 1) throw new GraphBuildError(op, `'depth' must be >= 1`);
  return [{ dtype: 'float32', shape: [...idx.shape, depth] }];
};

/** BatchNormalization in inference form: X [N,C,...] with per-channel scale, bias, mean, var. */
export const inferBatchNorm: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32'], 'X');
  if (x.rank < 2) throw new GraphBuildError(op, `input 'X' must have rank >= 2, got ${x.describe()}`);
  ['scale', 'B', 'input_mean', 'input_var'].forEach((name, i) => {
    const p = requireDtype(op, inputs[i + 1], ['float32'], name);
    if (p.rank !== 1 || !sameDim(p.shape[0], x.shape[1])) {
      throw new GraphBuildError(op, `'${name}' ${p.describe()} must be [C] with C = ${String(x.shape[1])}`);
    }
  });
  return [{ dtype: 'float32', shape: x.shape }];
};

/** LayerNormalization over the axes from `axis` to the end; scale and bias have those dims. */
export const inferLayerNorm: InferFn = (inputs: Inputs, attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32'], 'X');
  const axis = normAxis(op, attrInt(attrs, 'axis', -1), x.rank);
  const norm = x.shape.slice(axis);
  ['Scale', 'B'].forEach((name, i) => {
    const p = inputs[i + 1];
    if (!p && name === 'B') return;
    const t = requireDtype(op, p, ['float32'], name);
    if (t.rank !== norm.length || t.shape.some((d, j) => !sameDim(d, norm[j]))) {
      throw new GraphBuildError(
        op,
        `'${name}' ${t.describe()} must match the normalized dims of X ${x.describe()}`,
      );
    }
  });
  return [{ dtype: 'float32', shape: x.shape }];
};

/** Dropout(data, ratio, training_mode) giving output and mask. */
export const inferDropout: InferFn = (inputs: Inputs, _attrs: Attrs, op: string) => {
  const x = requireDtype(op, inputs[0], ['float32'], 'data');
  if (inputs[1]) requireDtype(op, inputs[1], ['float32'], 'ratio');
  if (inputs[2]) requireDtype(op, inputs[2], ['bool'], 'training_mode');
  return [
    { dtype: 'float32', shape: x.shape },
    { dtype: 'bool', shape: x.shape },
  ];
};
