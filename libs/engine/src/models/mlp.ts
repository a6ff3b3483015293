import type { Tensor } from '../graph/tensor';
import { gelu, gemm, leakyRelu, relu, sigmoid, tanh } from '../ops/math';
import { dropout } from '../ops/nn';
import { flatten } from '../ops/shape-ops';
import type { ForwardContext, ModelDefinition, ParameterSpec } from './definition';

/** Hidden-layer nonlinearity. */
export type Activation = 'relu' | 'leaky-relu' | 'gelu' | 'tanh' | 'sigmoid';

/** Applies a named activation. */
export function activate(x: Tensor, a: Activation): Tensor {
  if (a === 'relu') return relu(x);
  if (a === 'leaky-relu') return leakyRelu(x);
  if (a === 'gelu') return gelu(x);
  return a === 'tanh' ? tanh(x) : sigmoid(x);
}

/** Options of {@link mlp}. */
export interface MlpOptions {
  /** Per-sample input shape (flattened), e.g. [784] or [1, 28, 28]. */
  readonly inputShape: readonly number[];
  /** Widths of the hidden layers, each >= 1, e.g. [256]. */
  readonly hidden: readonly number[];
  /** Output width (classes), >= 1. */
  readonly outputs: number;
  readonly activation?: Activation;
  /** Dropout probability after each hidden layer, in [0, 1); default 0. */
  readonly dropout?: number;
}

/** Dense layer parameters: weight [in, out] (He for ReLU-like, else Xavier) and zero bias. */
export function denseSpecs(name: string, fanIn: number, fanOut: number, he: boolean): ParameterSpec[] {
  return [
    { name: `${name}.weight`, shape: [fanIn, fanOut], init: he ? 'he' : 'xavier', fanIn, fanOut },
    { name: `${name}.bias`, shape: [fanOut], init: 'zeros', fanIn, fanOut },
  ];
}

/** A multilayer perceptron: (Gemm, activation, dropout) per hidden layer, then a Gemm to logits. */
export function mlp(o: MlpOptions): ModelDefinition {
  const widths = [o.inputShape.reduce((a, b) => a * b, 1), ...o.hidden, o.outputs];
  if (widths.some((w) => !Number.isInteger(w) || w < 1))
    throw new RangeError("'hidden' and 'outputs' must be integers >= 1");
  const act = o.activation ?? 'relu';
  const he = act === 'relu' || act === 'leaky-relu' || act === 'gelu';
  const parameters = widths
    .slice(1)
    .flatMap((w, i) => denseSpecs(`fc${i + 1}`, widths[i]!, w, he && i < o.hidden.length));
  const rate = o.dropout ?? 0;
  if (!(rate >= 0 && rate < 1)) throw new RangeError("'dropout' must be in [0, 1)");
  return {
    inputShape: [...o.inputShape],
    outputSize: o.outputs,
    parameters,
    buffers: [],
    forward(ctx: ForwardContext, x: Tensor): Tensor {
      let h = x.rank > 2 ? flatten(x) : x;
      for (let i = 1; i < widths.length; i += 1) {
        h = gemm(h, ctx.param(`fc${i}.weight`), ctx.param(`fc${i}.bias`));
        if (i === widths.length - 1) break;
        h = activate(h, act);
        if (ctx.training && rate > 0) h = dropout(h, rate, ctx.nextSeed());
      }
      return h;
    },
  };
}
