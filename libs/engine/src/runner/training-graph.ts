import { gradients } from '../autodiff/gradients';
import { Graph } from '../graph/graph';
import type { Tensor } from '../graph/tensor';
import { concat, reshape } from '../ops/shape-ops';
import { add } from '../ops/math';
import { buildLoss, type LossSpec, targetSpec } from '../losses/losses';
import type { ForwardContext, ModelDefinition } from '../models/definition';
import { applyOptimizer, type OptimizerSpec, optimizerSlots } from '../optim/optimizers';

/** Settings of a training graph. */
export interface TrainingGraphOptions {
  readonly model: ModelDefinition;
  readonly loss: LossSpec;
  readonly optimizer: OptimizerSpec;
  /** Samples per step, >= 1. */
  readonly batchSize: number;
  /** Steps unrolled into one run (each with its own batch), >= 1. */
  readonly stepsPerRun: number;
  /** Adds per-sample weight inputs `w/k` [B]. */
  readonly sampleWeights: boolean;
  /** Seed for dropout masks. */
  readonly seed: number;
}

/** ONNX value names of the training graph's state (inputs; outputs add `/next`). */
export const names = {
  buffer: (n: string) => `buf/${n}`,
  slot: (n: string) => `opt/${n}`,
  step: 'opt/step',
  x: (k: number) => `x/${k}`,
  y: (k: number) => `y/${k}`,
  w: (k: number) => `w/${k}`,
  next: (n: string) => `${n}/next`,
  loss: 'loss',
} as const;

class TrainContext implements ForwardContext {
  readonly training = true;
  constructor(
    private readonly params: Map<string, Tensor>,
    private readonly buffers: Map<string, Tensor>,
    private seed: number,
  ) {}
  param(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new RangeError(`model uses undeclared parameter '${name}'`);
    return t;
  }
  buffer(name: string): Tensor {
    const t = this.buffers.get(name);
    if (!t) throw new RangeError(`model uses undeclared buffer '${name}'`);
    return t;
  }
  setBuffer(name: string, value: Tensor): void {
    this.buffer(name);
    this.buffers.set(name, value);
  }
  nextSeed(): number {
    this.seed += 1;
    return this.seed;
  }
}

/**
 * Builds the graph of `stepsPerRun` training steps: inputs (parameters, buffers, optimizer
 * state, step counter, batches), outputs (their next values and the loss of each step).
 * One ORT run of it performs forward, backward and update for every step.
 */
export function buildTrainingGraph(o: TrainingGraphOptions): Graph {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
    throw new RangeError("'batchSize' must be an integer >= 1");
  if (!Number.isInteger(o.stepsPerRun) || o.stepsPerRun < 1)
    throw new RangeError("'stepsPerRun' must be an integer >= 1");
  const g = new Graph();
  let params = new Map(o.model.parameters.map((p) => [p.name, g.param(p.name, p.shape)] as const));
  const buffers = new Map(
    o.model.buffers.map((b) => [b.name, g.input(names.buffer(b.name), 'float32', b.shape)] as const),
  );
  const slots = optimizerSlots(o.optimizer, o.model.parameters);
  let state = new Map(slots.map((s) => [s.name, g.input(names.slot(s.name), 'float32', s.shape)] as const));
  let step = g.input(names.step, 'float32', []);
  const target = targetSpec(o.loss, o.model.outputSize);
  const losses: Tensor[] = [];
  for (let k = 0; k < o.stepsPerRun; k += 1) {
    const x = g.input(names.x(k), 'float32', [o.batchSize, ...o.model.inputShape]);
    const y = g.input(names.y(k), target.dtype, [o.batchSize, ...target.perSample]);
    const w = o.sampleWeights ? g.input(names.w(k), 'float32', [o.batchSize]) : null;
    const ctx = new TrainContext(params, buffers, o.seed * 1000 + k * 100);
    const loss = buildLoss(o.loss, o.model.forward(ctx, x), y, w);
    const order = [...params.keys()];
    const grads = gradients(
      loss,
      order.map((n) => params.get(n)!),
    );
    const update = applyOptimizer(o.optimizer, {
      step,
      params: order.map((n, i) => ({ name: n, value: params.get(n)!, grad: grads[i]! })),
      state,
    });
    params = new Map(order.map((n, i) => [n, update.params[i]!] as const));
    state = update.state;
    step = add(step, 1);
    losses.push(reshape(loss, [1]));
  }
  for (const [n, t] of params) g.output(names.next(n), t);
  for (const [n, t] of buffers) g.output(names.next(names.buffer(n)), t);
  for (const [n, t] of state) g.output(names.next(names.slot(n)), t);
  g.output(names.next(names.step), step);
  g.output(names.loss, losses.length === 1 ? losses[0]! : concat(losses, 0));
  return g;
}
