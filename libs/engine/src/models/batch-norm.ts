import type { Tensor } from '../graph/tensor';
import { add, div, mul, sqrt, sub } from '../ops/math';
import { batchNormInference } from '../ops/nn';
import { reduceMean, reshape } from '../ops/shape-ops';
import type { BufferSpec, ForwardContext, ParameterSpec } from './definition';

/** Running-average momentum as in ONNX BatchNormalization: r = 0.9 r + 0.1 batch. */
const MOMENTUM = 0.9;
const EPSILON = 1e-5;

/** Parameters and buffers of a batch-norm layer over `channels`. */
export function batchNormSpecs(
  prefix: string,
  channels: number,
): { params: ParameterSpec[]; buffers: BufferSpec[] } {
  return {
    params: [
      { name: `${prefix}.scale`, shape: [channels], init: 'ones', fanIn: channels, fanOut: channels },
      { name: `${prefix}.bias`, shape: [channels], init: 'zeros', fanIn: channels, fanOut: channels },
    ],
    buffers: [
      { name: `${prefix}.runningMean`, shape: [channels], fill: 0 },
      { name: `${prefix}.runningVar`, shape: [channels], fill: 1 },
    ],
  };
}

/**
 * Batch normalization (Ioffe & Szegedy, arXiv:1502.03167, Algorithm 1) over axis 1. In
 * training it normalizes with the batch statistics, built from differentiable primitives so
 * autodiff derives its gradient, and updates the running averages (unbiased variance, as
 * Algorithm 2 and PyTorch); in inference it is one ONNX BatchNormalization with those averages.
 */
export function batchNorm(ctx: ForwardContext, prefix: string, x: Tensor): Tensor {
  const scale = ctx.param(`${prefix}.scale`);
  const bias = ctx.param(`${prefix}.bias`);
  const rm = ctx.buffer(`${prefix}.runningMean`);
  const rv = ctx.buffer(`${prefix}.runningVar`);
  if (!ctx.training) return batchNormInference(x, scale, bias, rm, rv, EPSILON);
  const c = x.shape[1] as number;
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const bshape = x.shape.map((_, i) => (i === 1 ? c : 1));
  const mean = reduceMean(x, axes);
  const centered = sub(x, mean);
  const variance = reduceMean(mul(centered, centered), axes);
  const xhat = div(centered, sqrt(add(variance, EPSILON)));
  const y = add(mul(xhat, reshape(scale, bshape)), reshape(bias, bshape));
  const n = axes.reduce((a, i) => a * (x.shape[i] as number), 1);
  ctx.setBuffer(`${prefix}.runningMean`, add(mul(rm, MOMENTUM), mul(reshape(mean, [c]), 1 - MOMENTUM)));
  ctx.setBuffer(
    `${prefix}.runningVar`,
    add(mul(rv, MOMENTUM), mul(reshape(variance, [c]), ((1 - MOMENTUM) * n) / Math.max(n - 1, 1))),
  );
  return y;
}
