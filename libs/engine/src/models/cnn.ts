import type { Tensor } from '../graph/tensor';
import { gemm, relu } from '../ops/math';
import { conv2d, dropout, maxPool2d } from '../ops/nn';
import { flatten } from '../ops/shape-ops';
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
      o.channels.forEach((_, i) => {
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
