import { gemm, matmul, mul } from '../../ops/math';
import { reshape, transpose } from '../../ops/shape-ops';
import { attrFloat, attrInt } from '../../ops/shape-utils';
import { dY, type GradRule, inputOf, staticShape, unbroadcast } from '../rule';

// Gemm: Y = alpha op(A) op(B) + beta C. With A' = op(A), B' = op(B):
// dA' = alpha dY B'^T and dB' = alpha A'^T dY, transposed back when op() transposes; each
// case is one Gemm with the right trans flags, so no explicit Transpose is emitted.
export const gemmGrad: GradRule = (ctx) => {
  const [a, b] = [inputOf(ctx, 0), inputOf(ctx, 1)];
  const attrs = ctx.node.attrs;
  const ta = attrInt(attrs, 'transA', 0) === 1;
  const tb = attrInt(attrs, 'transB', 0) === 1;
  const alpha = attrFloat(attrs, 'alpha', 1);
  const beta = attrFloat(attrs, 'beta', 1);
  const d = dY(ctx);
  let da = null;
  if (ctx.needed[0]) {
    da = ta
      ? gemm(b, d, null, { transA: tb, transB: true, alpha })
      : gemm(d, b, null, { transB: !tb, alpha });
  }
  let db = null;
  if (ctx.needed[1]) {
    db = tb
      ? gemm(d, a, null, { transA: true, transB: ta, alpha })
      : gemm(a, d, null, { transA: !ta, alpha });
  }
  const c = ctx.node.inputs[2];
  const dc = c && ctx.needed[2] ? unbroadcast('Gemm', beta === 1 ? d : mul(d, beta), c) : null;
  return [da, db, dc];
};

// MatMul of A [..., K] by B [K, N]: dA = dY B^T, dB = A_flat^T dY_flat (leading axes folded).
// Batched (B [..., K, N] of A's rank, equal batch axes): each batch index is its own product, so
// dA = dY B^T and dB = A^T dY per batch index (MatMul with the last two axes swapped); no sum
// over the batch axes, so each batch's weights get the gradient of its own rows only.
export const matmulGrad: GradRule = (ctx) => {
  const [a, b] = [inputOf(ctx, 0), inputOf(ctx, 1)];
  const d = dY(ctx);
  if (b.rank > 2) {
    const swap = (t: typeof a) =>
      transpose(
        t,
        [...t.shape.keys()].map((i) => swapLast(i, t.rank)),
      );
    return [ctx.needed[0] ? matmul(d, swap(b)) : null, ctx.needed[1] ? matmul(swap(a), d) : null];
  }
  const da = ctx.needed[0] ? matmul(d, transpose(b, [1, 0])) : null;
  let db = null;
  if (ctx.needed[1]) {
    const [k, n] = staticShape('MatMul', b);
    db = gemm(reshape(a, [-1, k!]), reshape(d, [-1, n!]), null, { transA: true });
  }
  return [da, db];
};

/** Axis i of a permutation that swaps the last two of `rank` axes. */
function swapLast(i: number, rank: number): number {
  return i === rank - 1 ? rank - 2 : i === rank - 2 ? rank - 1 : i;
}
