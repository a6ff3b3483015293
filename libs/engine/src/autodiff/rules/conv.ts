import { GraphBuildError } from '../../graph/errors';
import type { Tensor } from '../../graph/tensor';
import { concat, reshape, reverse, slice, transpose } from '../../ops/shape-ops';
import { gemm } from '../../ops/math';
import { readWindow, type Window2d } from '../../ops/infer-conv';
import { attrInt, attrInts } from '../../ops/shape-utils';
import { dY, type GradRule, inputOf, staticShape } from '../rule';

/** ConvTranspose output_padding that makes the transposed conv give back `size`. */
export function outputPadding(
  size: number,
  out: number,
  k: number,
  s: number,
  pb: number,
  pe: number,
): number {
  return size - (s * (out - 1) + k - pb - pe);
}

// Stride 1, pads <= k - 1: dX is the full correlation of dY with the flipped, channel-swapped
// kernel, i.e. a plain Conv with pads k - 1 - p, which runs on ORT's fast (NCHWc) conv path.
function inputGradStride1(d: Tensor, w: Tensor, win: Window2d): Tensor {
  const [kh, kw] = win.kernel;
  const p = win.pads;
  const flipped = reverse(transpose(w, [1, 0, 2, 3]), [2, 3]);
  return d.graph.apply1('Conv', [d, flipped], {
    pads: { ints: [kh - 1 - p[0], kw - 1 - p[1], kh - 1 - p[2], kw - 1 - p[3]] },
    strides: { ints: [1, 1] },
  });
}

// Stride 1: dW[m, c, i, j] = sum over n, y, x of dY[m at n, y, x] * Xpad[n, c, y + i, x + j].
// The kh*kw shifted views of the padded input form an im2col matrix [C*kh*kw, N*Ho*Wo], so dW
// is one well-shaped Gemm with dY as [M, N*Ho*Wo].
function weightGradStride1(x: Tensor, d: Tensor, win: Window2d): Tensor {
  const g = x.graph;
  const [n, c] = staticShape('Conv', x);
  const [, m, oh, ow] = staticShape('Conv', d);
  const [kh, kw] = win.kernel;
  const p = win.pads;
  const padded = p.some((v) => v > 0)
    ? g.apply1('Pad', [x, g.int64s([0, 0, p[0], p[1], 0, 0, p[2], p[3]])])
    : x;
  // Channel-major once ([C, N, Hp, Wp]) so the shifted views concatenate straight into rows.
  const xt = transpose(padded, [1, 0, 2, 3]);
  const views: Tensor[] = [];
  for (let i = 0; i < kh; i += 1) {
    for (let j = 0; j < kw; j += 1) {
      views.push(reshape(slice(xt, [i, j], [i + oh!, j + ow!], [2, 3]), [c!, 1, n! * oh! * ow!]));
    }
  }
  const cols = reshape(concat(views, 1), [c! * kh * kw, n! * oh! * ow!]);
  const dm = reshape(transpose(d, [1, 0, 2, 3]), [m!, n! * oh! * ow!]);
  return reshape(gemm(dm, cols, null, { transB: true }), [m!, c!, kh, kw]);
}

// General strides: dX is the transposed convolution of dY with the same weights; dW
// correlates the input with dY, computed as a Conv over the batch axis (X and dY swapped to
// channel-major) with dilation = stride, then cut to the kernel size.
function inputGradStrided(d: Tensor, w: Tensor, win: Window2d, h: number, wd: number): Tensor {
  const [, , oh, ow] = staticShape('Conv', d);
  const [kh, kw] = win.kernel;
  const [s0, s1] = win.strides;
  const p = win.pads;
  const outPad = [outputPadding(h, oh!, kh, s0, p[0], p[2]), outputPadding(wd, ow!, kw, s1, p[1], p[3])];
  return d.graph.apply1('ConvTranspose', [d, w], {
    strides: { ints: [s0, s1] },
    pads: { ints: p },
    output_padding: { ints: outPad },
  });
}

function weightGradStrided(x: Tensor, d: Tensor, win: Window2d): Tensor {
  const full = x.graph.apply1('Conv', [transpose(x, [1, 0, 2, 3]), transpose(d, [1, 0, 2, 3])], {
    pads: { ints: win.pads },
    dilations: { ints: win.strides },
    strides: { ints: [1, 1] },
  });
  return transpose(slice(full, [0, 0], [win.kernel[0], win.kernel[1]], [2, 3]), [1, 0, 2, 3]);
}

// Conv (2-D, group 1, dilation 1): dX, dW as above; dB sums dY over N, H, W.
export const convGrad: GradRule = (ctx) => {
  const g = ctx.graph;
  const [x, w] = [inputOf(ctx, 0), inputOf(ctx, 1)];
  if (
    attrInt(ctx.node.attrs, 'group', 1) !== 1 ||
    attrInts(ctx.node.attrs, 'dilations', [1, 1]).some((v) => v !== 1)
  ) {
    throw new GraphBuildError('Conv', 'gradient supports group 1 and dilation 1 only');
  }
  const [, , h, wd] = staticShape('Conv', x);
  const [, , kh, kw] = staticShape('Conv', w);
  const d = dY(ctx);
  const win = readWindow('Conv', ctx.node.attrs, [kh!, kw!]);
  const unit = win.strides[0] === 1 && win.strides[1] === 1;
  const smallPads = win.pads.every((p, i) => p <= win.kernel[i % 2]! - 1);
  let dx = null;
  if (ctx.needed[0])
    dx = unit && smallPads ? inputGradStride1(d, w, win) : inputGradStrided(d, w, win, h!, wd!);
  const dw = ctx.needed[1] ? (unit ? weightGradStride1(x, d, win) : weightGradStrided(x, d, win)) : null;
  const b = ctx.node.inputs[2];
  const db =
    b && ctx.needed[2] ? g.apply1('ReduceSum', [d, g.int64s([0, 2, 3])], { keepdims: { i: 0 } }) : null;
  return [dx, dw, db];
};
