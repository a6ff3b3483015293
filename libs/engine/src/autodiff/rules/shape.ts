import { GraphBuildError, UnsupportedOpError } from '../../graph/errors';
import { mul } from '../../ops/math';
import { reshape, slice, transpose } from '../../ops/shape-ops';
import { attrInt, attrInts, constInts, normAxis } from '../../ops/shape-utils';
import { dY, type GradRule, inputOf, outputOf, staticShape, unbroadcast } from '../rule';

// Reshape-like ops move values without changing them: reshape the gradient back.
export const reshapeGrad: GradRule = (ctx) => {
  const x = inputOf(ctx, 0);
  return [reshape(dY(ctx), staticShape(ctx.node.op, x)), null];
};

export const transposeGrad: GradRule = (ctx) => {
  const x = inputOf(ctx, 0);
  const perm = attrInts(
    ctx.node.attrs,
    'perm',
    x.shape.map((_, i) => x.rank - 1 - i),
  );
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return [transpose(dY(ctx), inverse)];
};

// Concat: each input gets its slice of the gradient along the axis.
export const concatGrad: GradRule = (ctx) => {
  const first = inputOf(ctx, 0);
  const axis = normAxis('Concat', attrInt(ctx.node.attrs, 'axis', 0), first.rank);
  let offset = 0;
  return ctx.node.inputs.map((t, i) => {
    const len = staticShape('Concat', t ?? first)[axis] ?? 0;
    const part = ctx.needed[i] ? slice(dY(ctx), [offset], [offset + len], [axis]) : null;
    offset += len;
    return part;
  });
};

// Slice: the gradient is zero outside the taken range, so pad it back with zeros.
export const sliceGrad: GradRule = (ctx) => {
  const x = inputOf(ctx, 0);
  const shape = staticShape('Slice', x);
  const starts = constInts('Slice', ctx.node.inputs[1], 'starts');
  const ends = constInts('Slice', ctx.node.inputs[2], 'ends');
  const axes = ctx.node.inputs[3] ? constInts('Slice', ctx.node.inputs[3], 'axes') : starts.map((_, i) => i);
  if (ctx.node.inputs[4] && constInts('Slice', ctx.node.inputs[4], 'steps').some((v) => v !== 1)) {
    throw new UnsupportedOpError('Slice', 'has no gradient rule for steps other than 1');
  }
  const pads = new Array<number>(2 * x.rank).fill(0);
  axes.forEach((a0, i) => {
    const a = normAxis('Slice', a0, x.rank);
    const dim = shape[a]!;
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const s = clamp(starts[i] ?? 0);
    pads[a] = s;
    pads[a + x.rank] = dim - Math.max(clamp(ends[i] ?? dim), s);
  });
  const g = ctx.graph;
  return [g.apply1('Pad', [dY(ctx), g.int64s(pads)])];
};

function reducedAxes(ctx: Parameters<GradRule>[0]): number[] {
  const x = inputOf(ctx, 0);
  const axesIn = ctx.node.inputs[1];
  return axesIn
    ? constInts(ctx.node.op, axesIn, 'axes').map((a) => normAxis(ctx.node.op, a, x.rank))
    : x.shape.map((_, i) => i);
}

// ReduceSum: every reduced element receives the output gradient (broadcast back).
export const reduceSumGrad: GradRule = (ctx) => {
  const x = inputOf(ctx, 0);
  const shape = staticShape('ReduceSum', x);
  const axes = reducedAxes(ctx);
  const kept = reshape(
    dY(ctx),
    shape.map((d, i) => (axes.includes(i) ? 1 : d)),
  );
  return [ctx.graph.apply1('Expand', [kept, ctx.graph.int64s(shape)]), null];
};

// ReduceMean: as ReduceSum, divided by the number of reduced elements.
export const reduceMeanGrad: GradRule = (ctx) => {
  const shape = staticShape('ReduceMean', inputOf(ctx, 0));
  const count = reducedAxes(ctx).reduce((n, a) => n * shape[a]!, 1);
  const [sum] = reduceSumGrad(ctx);
  if (!sum) throw new GraphBuildError('ReduceMean', 'no gradient');
  return [mul(sum, 1 / count), null];
};

// ReduceMax: each reduced group's gradient goes to the elements equal to its maximum (a tie, of
// measure zero for real-valued inputs, shares it, as the 2x2 max-pool gradient does).
export const reduceMaxGrad: GradRule = (ctx) => {
  const g = ctx.graph;
  const x = inputOf(ctx, 0);
  const axes = reducedAxes(ctx);
  const kept = staticShape('ReduceMax', x).map((d, i) => (axes.includes(i) ? 1 : d));
  const isMax = g.apply1('Equal', [x, reshape(outputOf(ctx, 0), kept)]);
  return [g.apply1('Where', [isMax, reshape(dY(ctx), kept), g.scalar(0)]), null];
};

export const expandGrad: GradRule = (ctx) => [unbroadcast('Expand', dY(ctx), inputOf(ctx, 0)), null];
