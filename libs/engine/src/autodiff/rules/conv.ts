import { GraphBuildError } from '../../graph/errors';
import type { Tensor } from '../../graph/tensor';
import { reshape, reverse, transpose } from '../../ops/shape-ops';
import { matmul } from '../../ops/math';
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

// dW[m, c, i, j] = sum over n, y, x of dY[n, m, y, x] * Xpad[n, c, s0 y + i, s1 x + j].
// The im2col columns come from a grouped Conv of X with a constant one-hot kernel and the conv's
// pads and strides (output channel c*kh*kw + i*kw + j copies input channel c at offset (i, j),
// zero padding included): one NCHW pass, [N, C*kh*kw, Ho*Wo], instead of kh*kw Slice copies and a
// Concat (stride 1) or a Conv over the batch axis with dilation = stride (strided). dW is then a
// batched MatMul per sample, columns [C*kh*kw, Ho*Wo] times dY transposed to [Ho*Wo, M] (ORT
// fuses the transpose into the MatMul), summed over the batch. Measured on the bench CNN's two
// convolutions (batch 128, 2 threads): 0.6 and 2.2-2.4 ms per step against 1.0 and 3.6 ms for
// the Slice/Concat im2col with one Gemm (docs/benchmarks.md, "How far these kernels can go").
function weightGradIm2col(x: Tensor, d: Tensor, win: Window2d): Tensor {
  const g = x.graph;
  const [n, c] = staticShape('Conv', x);
  const [, m, oh, ow] = staticShape('Conv', d);
  const [kh, kw] = win.kernel;
  const taps = kh * kw;
  const onehot = new Float32Array(c! * taps * taps);
  for (let ch = 0; ch < c!; ch += 1) for (let k = 0; k < taps; k += 1) onehot[(ch * taps + k) * taps + k] = 1;
  const cols = g.apply1('Conv', [x, g.constant(onehot, [c! * taps, 1, kh, kw])], {
    pads: { ints: win.pads },
    strides: { ints: win.strides },
    group: { i: c! },
  });
  const perSample = matmul(
    reshape(cols, [n!, c! * taps, oh! * ow!]),
    transpose(reshape(d, [n!, m!, oh! * ow!]), [0, 2, 1]),
  );
  const summed = g.apply1('ReduceSum', [perSample, g.int64s([0])], { keepdims: { i: 0 } });
  return reshape(transpose(summed, [1, 0]), [m!, c!, kh, kw]);
}

// General strides: dX is the transposed convolution of dY with the same weights.
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
  const dw = ctx.needed[1] ? weightGradIm2col(x, d, win) : null;
  const b = ctx.node.inputs[2];
  // dB in two contiguous reductions (over each sample's pixels, then over the batch): measured
  // about twice as fast in ORT as one ReduceSum over axes 0, 2, 3 ([128,16,28,28]: 90 vs 190 us).
  let db = null;
  if (b && ctx.needed[2]) {
    const [n, m, oh, ow] = staticShape('Conv', d);
    const perSample = g.apply1('ReduceSum', [reshape(d, [n!, m!, oh! * ow!]), g.int64s([2])], {
      keepdims: { i: 0 },
    });
    db = g.apply1('ReduceSum', [perSample, g.int64s([0])], { keepdims: { i: 0 } });
  }
  return [dx, dw, db];
};
