import type { Tensor } from '../graph/tensor';
import { gemm, matmul, relu } from '../ops/math';
import { conv2d, dropout, maxPool2d } from '../ops/nn';
import { concat, flatten, reshape, transpose } from '../ops/shape-ops';
import { batchNorm, batchNormSpecs } from './batch-norm';
import type { BufferSpec, ForwardContext, ModelDefinition, ParameterSpec } from './definition';
import { denseSpecs } from './mlp';

/** Options of {@link smallCnn}. */
export interface CnnOptions {
  /** Per-sample input [channels, height, width], e.g. [1, 28, 28]. */
  readonly inputShape: readonly [number, number, number];
  /** Output channels of each conv stage (3x3 conv, padding 1, ReLU, 2x2 max-pool), e.g. [32, 64]. */
  readonly channels: readonly number[];
  /** Width of the dense layer before the output, >= 1. */
  readonly hidden: number;
  readonly outputs: number;
  /** Batch normalization after each conv (default false). */
  readonly batchNorm?: boolean;
  /** Dropout before the output layer, in [0, 1); default 0. */
  readonly dropout?: number;
}

/**
 * The first stage, Conv 3x3 (pad 1, stride 1) then 2x2 max-pool over an even-sized input, as four
 * phases: the conv outputs at (2i + a, 2j + b) for each phase (a, b) are one stride-2 Conv with
 * 4x4 kernels (the 3x3 kernel placed at offset (a, b); built from the same [M, C, 3, 3] weights
 * by a constant 0/1 MatMul, so parameters and checkpoints are unchanged), [N, 4M, H/2, W/2], and
 * the pool is a ReduceMax over the phase axis. The values are the same; the gain is the backward
 * pass: the max-pool gradient is a comparison and a Where broadcast over the phase axis instead of
 * two full-resolution upsamplings, a comparison, a cast and a product, since ONNX Runtime's
 * inference build has no max-pool backward kernel. It costs 16/9 of the conv's multiply-adds,
 * which is why only the first stage (one input channel in the benchmark CNN, and no input
 * gradient) takes this form, and only in training graphs. Measured for that stage alone, forward
 * and backward, batch 128, 2 threads: 2.7-2.8 ms against 3.8-4.1 ms (docs/benchmarks.md, "How
 * far these kernels can go").
 */
export function phasedConvPool(
  x: Tensor,
  w: Tensor,
  b: Tensor,
  m: number,
  c: number,
  h: number,
  wd: number,
): Tensor {
  const g = x.graph;
  // Tap (u, v) of the 3x3 kernel is tap (u + a, v + b2) of phase (a, b2)'s 4x4 kernel.
  const place = new Float32Array(9 * 64);
  for (let a = 0; a < 2; a += 1)
    for (let b2 = 0; b2 < 2; b2 += 1)
      for (let u = 0; u < 3; u += 1)
        for (let v = 0; v < 3; v += 1)
          place[(u * 3 + v) * 64 + (a * 2 + b2) * 16 + (u + a) * 4 + (v + b2)] = 1;
  const phases = matmul(reshape(w, [m * c, 9]), g.constant(place, [9, 64])); // [M*C, 4 phases * 16 taps]
  const w4 = reshape(transpose(reshape(phases, [m, c, 4, 16]), [2, 0, 1, 3]), [4 * m, c, 4, 4]);
  const o = conv2d(x, w4, concat([b, b, b, b], 0), { strides: [2, 2], pads: [1, 1, 1, 1] });
  const byPhase = reshape(o, [-1, 4, m, h / 2, wd / 2]);
  return g.apply1('ReduceMax', [byPhase, g.int64s([1])], { keepdims: { i: 0 } });
}

/** A small CNN: conv stages halving the spatial size, then dense hidden and output layers. */
export function smallCnn(o: CnnOptions): ModelDefinition {
  const [c0, h0, w0] = o.inputShape;
  const parameters: ParameterSpec[] = [];
  const buffers: BufferSpec[] = [];
  let [c, h, w] = [c0, h0, w0];
  o.channels.forEach((out, i) => {
    if (!Number.isInteger(out) || out < 1) throw new RangeError("'channels' must be integers >= 1");
    parameters.push({
      name: `conv${i + 1}.weight`,
      shape: [out, c, 3, 3],
      init: 'he',
      fanIn: c * 9,
      fanOut: out * 9,
    });
    parameters.push({
      name: `conv${i + 1}.bias`,
      shape: [out],
      init: 'zeros',
      fanIn: c * 9,
      fanOut: out * 9,
    });
    if (o.batchNorm) {
      const bn = batchNormSpecs(`bn${i + 1}`, out);
      parameters.push(...bn.params);
      buffers.push(...bn.buffers);
    }
    [c, h, w] = [out, Math.floor(h / 2), Math.floor(w / 2)];
    if (h < 1 || w < 1)
      throw new RangeError(`'inputShape' is too small for ${o.channels.length} pooling stages`);
  });
  parameters.push(
    ...denseSpecs('fc1', c * h * w, o.hidden, true),
    ...denseSpecs('fc2', o.hidden, o.outputs, false),
  );
  const rate = o.dropout ?? 0;
  if (!(rate >= 0 && rate < 1)) throw new RangeError("'dropout' must be in [0, 1)");
  return {
    inputShape: [...o.inputShape],
    outputSize: o.outputs,
    parameters,
    buffers,
    forward(ctx: ForwardContext, x: Tensor): Tensor {
      let t = x;
      o.channels.forEach((out, i) => {
        // Training graphs only: the exported inference model keeps the plain Conv + MaxPool,
        // whose forward pass is cheaper (the phased form pays off in the backward pass).
        if (ctx.training && i === 0 && !o.batchNorm && h0 % 2 === 0 && w0 % 2 === 0) {
          t = relu(phasedConvPool(t, ctx.param('conv1.weight'), ctx.param('conv1.bias'), out, c0, h0, w0));
          return;
        }
        t = conv2d(t, ctx.param(`conv${i + 1}.weight`), ctx.param(`conv${i + 1}.bias`), {
          pads: [1, 1, 1, 1],
        });
        if (o.batchNorm) t = batchNorm(ctx, `bn${i + 1}`, t);
        // ReLU after the pool, not before: max and ReLU commute (ReLU is monotone), so the
        // values are the same, but ReLU and its gradient then touch a quarter of the elements,
        // and ORT keeps Conv -> MaxPool in its blocked (NCHWc) layout without a reorder between.
        t = relu(maxPool2d(t, [2, 2]));
      });
      t = relu(gemm(flatten(t), ctx.param('fc1.weight'), ctx.param('fc1.bias')));
      if (ctx.training && rate > 0) t = dropout(t, rate, ctx.nextSeed());
      return gemm(t, ctx.param('fc2.weight'), ctx.param('fc2.bias'));
    },
  };
}
