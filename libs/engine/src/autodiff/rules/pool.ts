import { mul } from '../../ops/math';
import { reshape, slice } from '../../ops/shape-ops';
import { readWindow } from '../../ops/infer-conv';
import { attrInts } from '../../ops/shape-utils';
import type { Tensor } from '../../graph/tensor';
import { dY, type GradContext, type GradRule, inputOf, outputOf, staticShape } from '../rule';
import { outputPadding } from './conv';

/**
 * Repeats each value of [N,C,h,w] over a kh x kw block: [N,C,h*kh,w*kw], as a nearest-neighbour
 * Resize with integer scales (floor of asymmetric coordinates maps output (i, j) to input
 * (floor(i / kh), floor(j / kw))). Profiled in ORT faster than a 6-D Expand or Concat copies.
 */
function upsample(t: Tensor, kh: number, kw: number): Tensor {
  const g = t.graph;
  return g.apply1('Resize', [t, null, g.constant(Float32Array.from([1, 1, kh, kw]), [4])], {
    mode: { s: 'nearest' },
    coordinate_transformation_mode: { s: 'asymmetric' },
    nearest_mode: { s: 'floor' },
  });
}

// Non-overlapping windows (stride = kernel, no padding): every input equal to its window's
// maximum receives the window's gradient. This costs two upsamples and a few element-wise
// ops instead of a second MaxPool with Indices and a scatter; a tie between equal maxima
// (measure zero for real-valued inputs) shares the gradient instead of picking one element.
function maxPoolBlockGrad(ctx: GradContext, kh: number, kw: number): Tensor {
  const g = ctx.graph;
  const x = inputOf(ctx, 0);
  const [, , h, w] = staticShape('MaxPool', x);
  const [, , oh, ow] = staticShape('MaxPool', outputOf(ctx, 0));
  const cropped = oh! * kh === h && ow! * kw === w ? x : slice(x, [0, 0], [oh! * kh, ow! * kw], [2, 3]);
  const isMax = g.apply1('Cast', [g.apply1('Equal', [cropped, upsample(outputOf(ctx, 0), kh, kw)])], {
    to: { i: 1 },
  });
  const dx = mul(upsample(dY(ctx), kh, kw), isMax);
  if (cropped === x) return dx;
  return g.apply1('Pad', [dx, g.int64s([0, 0, 0, 0, 0, 0, h! - oh! * kh, w! - ow! * kw])]);
}

// MaxPool, general windows: the gradient goes to the arg-max of each window. A second
// MaxPool gives the flat Indices; ScatterElements with reduction 'add' routes dY there (overlapping windows add).
export const maxPoolGrad: GradRule = (ctx) => {
  const g = ctx.graph;
  const x = inputOf(ctx, 0);
  const win = readWindow('MaxPool', ctx.node.attrs, attrInts(ctx.node.attrs, 'kernel_shape', []));
  const [kh, kw] = win.kernel;
  if (win.strides[0] === kh && win.strides[1] === kw && win.pads.every((p) => p === 0))
    return [maxPoolBlockGrad(ctx, kh, kw)];
  const shape = staticShape('MaxPool', x);
  const [, indices] = g.apply('MaxPool', [x], ctx.node.attrs);
  const size = shape.reduce((a, b) => a * b, 1);
  const zeros = g.apply1('Expand', [g.scalar(0), g.int64s([size])]);
  const flat = g.apply1('ScatterElements', [zeros, reshape(indices!, [-1]), reshape(dY(ctx), [-1])], {
    axis: { i: 0 },
    reduction: { s: 'add' },
  });
  return [reshape(flat, shape)];
};

// AveragePool: each input receives dY / (kh kw) from every window that covers it, which is a
// depthwise transposed convolution with a constant kernel of 1 / (kh kw).
export const averagePoolGrad: GradRule = (ctx) => {
  const g = ctx.graph;
  const x = inputOf(ctx, 0);
  const [, c, h, wd] = staticShape('AveragePool', x);
  const d = dY(ctx);
  const [, , oh, ow] = staticShape('AveragePool', d);
  const win = readWindow('AveragePool', ctx.node.attrs, attrInts(ctx.node.attrs, 'kernel_shape', []));
  const [kh, kw] = win.kernel;
  const kernel = g.constant(new Float32Array(c! * kh * kw).fill(1 / (kh * kw)), [c!, 1, kh, kw]);
  const p = win.pads;
  const outPad = [
    outputPadding(h!, oh!, kh, win.strides[0], p[0], p[2]),
    outputPadding(wd!, ow!, kw, win.strides[1], p[1], p[3]),
  ];
  return [
    g.apply1('ConvTranspose', [d, kernel], {
      strides: { ints: win.strides },
      pads: { ints: p },
      output_padding: { ints: outPad },
      group: { i: c! },
    }),
  ];
};

// GlobalAveragePool: every spatial position receives dY / (H W).
export const globalAveragePoolGrad: GradRule = (ctx) => {
  const g = ctx.graph;
  const shape = staticShape('GlobalAveragePool', inputOf(ctx, 0));
  const spread = g.apply1('Expand', [dY(ctx), g.int64s(shape)]);
  return [mul(spread, 1 / (shape[2]! * shape[3]!))];
};
