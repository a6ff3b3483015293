import type { Tensor } from '../graph/tensor';

/** How a parameter's initial values are drawn (see models/init.ts). */
export type InitKind = 'he' | 'xavier' | 'zeros' | 'ones';

/** A trainable float32 parameter. */
export interface ParameterSpec {
  /** Unique name (also the ONNX value name), e.g. `fc1.weight`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: InitKind;
  /** Inputs and outputs feeding one unit, for He/Xavier scaling. */
  readonly fanIn: number;
  readonly fanOut: number;
}

/** Non-trainable state carried between steps (batch-norm running statistics). */
export interface BufferSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** Constant initial value of every element. */
  readonly fill: number;
}

/** What a model's forward pass can use. */
export interface ForwardContext {
  /** True in the training graph (batch statistics, dropout), false for inference/export. */
  readonly training: boolean;
  param(name: string): Tensor;
  buffer(name: string): Tensor;
  /** Training only: the buffer's value after this step. */
  setBuffer(name: string, value: Tensor): void;
  /** A fresh seed for a random op (dropout), derived from the training seed. */
  nextSeed(): number;
}

/**
 * A model: its parameters and buffers and a forward pass from an input batch
 * [B, ...inputShape] to outputs [B, outputSize] (logits for classifiers).
 */
export interface ModelDefinition {
  readonly inputShape: readonly number[];
  readonly outputSize: number;
  readonly parameters: readonly ParameterSpec[];
  readonly buffers: readonly BufferSpec[];
  forward(ctx: ForwardContext, x: Tensor): Tensor;
}
