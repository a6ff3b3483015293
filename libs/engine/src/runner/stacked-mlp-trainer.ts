import * as ort from 'onnxruntime-node';
import { gradients } from '../autodiff/gradients';
import { Graph } from '../graph/graph';
import type { Tensor } from '../graph/tensor';
import { type MlpOptions, activate, mlp } from '../models/mlp';
import type { ModelValues } from '../models/init';
import { emitModel } from '../onnx/emit';
import { add, div, logSoftmax, matmul, mul, neg } from '../ops/math';
import { reduceSum } from '../ops/shape-ops';
import { applyOptimizer, type OptimizerSpec, optimizerSlots, validateOptimizer } from '../optim/optimizers';
import { names } from './training-graph';
import { createSession, type SessionOptions } from './providers';

/** Settings of a {@link StackedMlpTrainer}. */
export interface StackedMlpOptions extends SessionOptions {
  /** The MLP every model shares (no dropout; see {@link mlp}). */
  readonly mlp: Omit<MlpOptions, 'dropout'>;
  /** Rows per model per step, >= 1. */
  readonly batchSize: number;
  readonly optimizer: OptimizerSpec;
  /** Each model's initial parameters (named as {@link mlp} names them); their count is the number of models. */
  readonly initial: readonly ModelValues[];
}

/**
 * Trains T independent MLP classifiers with cross-entropy in ONE ONNX graph and session: input
 * x [T, b, F] (model t's rows), labels [T, b], each layer's weight stacked [T, in, out] (a batched
 * MatMul) and bias [T, 1, out]; the loss is the sum over models of each model's mean
 * cross-entropy on its own rows.
 *
 * Independence: model t's logits depend on its own parameter slices and rows only, so the
 * gradient of the summed loss with respect to model t's parameters is the gradient of its own
 * mean loss (the other terms do not depend on them), and Adam/SGD update element by element.
 * Model t's trajectory is therefore a function of its own initial values and rows alone, the same
 * as a {@link Trainer} of `mlp` on those rows (up to float rounding: MatMul + Add instead of Gemm).
 * Caveat: `clipNorm` would couple the models through the global norm, so it is refused.
 */
export class StackedMlpTrainer {
  private constructor(
    private readonly o: StackedMlpOptions,
    private readonly session: ort.InferenceSession,
    private readonly shapes: ReadonlyMap<string, readonly number[]>,
    private state: Record<string, ort.Tensor>,
  ) {}

  /** Builds the graph of one step for all the models and opens its session. */
  static async create(o: StackedMlpOptions): Promise<StackedMlpTrainer> {
    validateOptimizer(o.optimizer);
    if (o.optimizer.clipNorm !== undefined)
      throw new RangeError("'clipNorm' would couple the stacked models; train them one by one");
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
      throw new RangeError("'batchSize' must be an integer >= 1");
    if (o.initial.length < 1) throw new RangeError("'initial' must hold at least one model's values");
    const shapes = stackedShapes(o.mlp, o.initial.length);
    const state = initialState(o, shapes);
    const { session } = await createSession(emitModel(buildGraph(o, shapes), { mode: 'training' }), o);
    return new StackedMlpTrainer(o, session, shapes, state);
  }

  /** Number of models trained together. */
  get models(): number {
    return this.o.initial.length;
  }

  /**
   * One optimizer step of every model: `x` [T, b, F] and `labels` [T, b] (class indices), model
   * t's rows at t. Returns each model's mean loss on its rows before the step.
   */
  async step(x: Float32Array, labels: BigInt64Array): Promise<Float32Array> {
    const [t, b, f] = [this.models, this.o.batchSize, inputSize(this.o.mlp)];
    if (x.length !== t * b * f) throw new RangeError(`'x' must hold ${t} x ${b} x ${f} values`);
    if (labels.length !== t * b) throw new RangeError(`'labels' must hold ${t} x ${b} class indices`);
    const out = await this.session.run({
      ...this.state,
      [names.x(0)]: new ort.Tensor('float32', x, [t, b, f]),
      [names.y(0)]: new ort.Tensor('int64', labels, [t, b]),
    });
    for (const name of Object.keys(this.state)) {
      const next = out[names.next(name)];
      if (!next) throw new Error(`stacked training graph did not output '${names.next(name)}'`);
      this.state[name] = next;
    }
    return Float32Array.from(out[names.loss]!.data as Float32Array);
  }

  /** Model t's current parameters, named and shaped as {@link mlp}'s (copies). */
  values(t: number): ModelValues {
    if (!Number.isInteger(t) || t < 0 || t >= this.models)
      throw new RangeError(`'t' must be an integer in [0, ${this.models})`);
    const params = new Map<string, Float32Array>();
    for (const name of this.shapes.keys()) {
      const all = this.state[name]!.data as Float32Array;
      const per = all.length / this.models;
      params.set(name, all.slice(t * per, (t + 1) * per));
    }
    return { params, buffers: new Map() };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function inputSize(o: StackedMlpOptions['mlp']): number {
  return o.inputShape.reduce((a, b) => a * b, 1);
}

/** Stacked shape of each of mlp's parameters: weight [T, in, out], bias [T, 1, out]. */
function stackedShapes(o: StackedMlpOptions['mlp'], t: number): Map<string, number[]> {
  return new Map(
    mlp(o).parameters.map(
      (p) => [p.name, p.shape.length === 1 ? [t, 1, p.shape[0]!] : [t, ...p.shape]] as const,
    ),
  );
}

/** Parameters stacked from each model's values (checked), zero optimizer state, step 0. */
function initialState(
  o: StackedMlpOptions,
  shapes: ReadonlyMap<string, readonly number[]>,
): Record<string, ort.Tensor> {
  const state: Record<string, ort.Tensor> = {};
  for (const [name, shape] of shapes) {
    const per = shape.slice(1).reduce((a, b) => a * b, 1);
    const stacked = new Float32Array(per * o.initial.length);
    o.initial.forEach((v, t) => {
      const values = v.params.get(name);
      if (!values || values.length !== per)
        throw new RangeError(`initial values of model ${t} lack ${per} values for parameter '${name}'`);
      stacked.set(values, t * per);
    });
    state[name] = new ort.Tensor('float32', stacked, [...shape]);
  }
  for (const s of optimizerSlots(o.optimizer, slotsOf(shapes)))
    state[names.slot(s.name)] = new ort.Tensor(
      'float32',
      new Float32Array(s.shape.reduce((a, b) => a * b, 1)),
      [...s.shape],
    );
  state[names.step] = new ort.Tensor('float32', new Float32Array([0]), []);
  return state;
}

function slotsOf(shapes: ReadonlyMap<string, readonly number[]>) {
  return [...shapes].map(([name, shape]) => ({ name, shape }));
}

/** One training step of all the models (see the class comment for the loss). */
function buildGraph(o: StackedMlpOptions, shapes: ReadonlyMap<string, readonly number[]>): Graph {
  const g = new Graph();
  const [t, b] = [o.initial.length, o.batchSize];
  const classes = o.mlp.outputs;
  const params = [...shapes].map(([name, shape]) => ({ name, value: g.param(name, shape) }));
  const slots = optimizerSlots(o.optimizer, slotsOf(shapes));
  const state = new Map(slots.map((s) => [s.name, g.input(names.slot(s.name), 'float32', s.shape)] as const));
  const step = g.input(names.step, 'float32', []);
  const x = g.input(names.x(0), 'float32', [t, b, inputSize(o.mlp)]);
  const y = g.input(names.y(0), 'int64', [t, b]);
  let h: Tensor = x;
  const layers = o.mlp.hidden.length + 1;
  for (let i = 0; i < layers; i += 1) {
    h = add(matmul(h, params[2 * i]!.value), params[2 * i + 1]!.value);
    if (i < layers - 1) h = activate(h, o.mlp.activation ?? 'relu');
  }
  // Cross-entropy per row, as the engine's loss: -sum(onehot(y) * log softmax(z)).
  const oneHot = g.apply1('OneHot', [y, g.int64s([classes]), g.constant(new Float32Array([0, 1]), [2])]);
  const perRow = neg(reduceSum(mul(oneHot, logSoftmax(h)), [2], false));
  const perModel = div(reduceSum(perRow, [1], false), b);
  const loss = reduceSum(perModel, undefined, false);
  const grads = gradients(
    loss,
    params.map((p) => p.value),
  );
  const update = applyOptimizer(o.optimizer, {
    step,
    params: params.map((p, i) => ({ ...p, grad: grads[i]! })),
    state,
  });
  params.forEach((p, i) => g.output(names.next(p.name), update.params[i]!));
  for (const [n, v] of update.state) g.output(names.next(names.slot(n)), v);
  g.output(names.next(names.step), add(step, 1));
  g.output(names.loss, perModel);
  return g;
}
