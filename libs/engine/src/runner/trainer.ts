import * as ort from 'onnxruntime-node';
import type { LossSpec } from '../losses/losses';
import type { ModelDefinition } from '../models/definition';
import { initModel, type ModelValues } from '../models/init';
import { emitModel } from '../onnx/emit';
import { type OptimizerSpec, optimizerSlots, validateOptimizer } from '../optim/optimizers';
import { exportInferenceModel } from '../export/inference-graph';
import { buildTrainingGraph, names } from './training-graph';
import { createSession, type SessionOptions } from './providers';

/** One mini-batch of exactly `batchSize` samples, row-major. */
export interface Batch {
  /** Features, batchSize x prod(inputShape) values. */
  readonly x: Float32Array;
  /** Targets: int64 class indices (cross-entropy) or float32 rows (distillation, MSE). */
  readonly y: BigInt64Array | Float32Array;
  /** Per-sample weights (only with `sampleWeights`). */
  readonly weights?: Float32Array;
}

/** Progress after each session run. */
export interface TrainProgress {
  /** Optimizer steps done in total. */
  readonly step: number;
  /** Mean loss of the steps in this run. */
  readonly loss: number;
  /** Samples seen in the current call of trainEpoch. */
  readonly samples: number;
}

/** Everything needed to resume training identically (see checkpoint/checkpoint.ts). */
export interface TrainingSnapshot {
  readonly params: Map<string, Float32Array>;
  readonly buffers: Map<string, Float32Array>;
  /** Optimizer slots by name (`<param>.m`, `<param>.v`, `<param>.velocity`). */
  readonly optimizer: Map<string, Float32Array>;
  /** Optimizer steps done. */
  readonly step: number;
}

/** Settings of a {@link Trainer}. */
export interface TrainerOptions extends SessionOptions {
  readonly model: ModelDefinition;
  readonly loss: LossSpec;
  readonly optimizer: OptimizerSpec;
  /** Samples per step, >= 1. */
  readonly batchSize: number;
  /** Steps per session run (unrolled in one graph), >= 1; default 1. */
  readonly stepsPerRun?: number;
  readonly sampleWeights?: boolean;
  /** Seed of initialization and dropout; default 0. */
  readonly seed?: number;
  /** Start from these values (else seeded initialization). */
  readonly initial?: TrainingSnapshot | ModelValues;
}

type Provider = 'cpu' | 'webgpu' | 'cuda';

/**
 * Trains a model with ONNX Runtime: each run of one session performs forward pass, backward
 * pass and optimizer update for `stepsPerRun` batches; parameters and optimizer state stay
 * ORT tensors from one run to the next. Owns its sessions: call {@link dispose}.
 */
export class Trainer {
  private state: Record<string, ort.Tensor>;
  private steps: number;

  private constructor(
    private readonly options: TrainerOptions,
    private readonly multi: { session: ort.InferenceSession; k: number },
    private readonly single: ort.InferenceSession,
    readonly provider: Provider,
    initial: TrainingSnapshot,
  ) {
    this.state = {};
    this.steps = 0;
    this.restore(initial);
  }

  /** Builds the training graphs and opens their sessions. */
  static async create(o: TrainerOptions): Promise<Trainer> {
    validateOptimizer(o.optimizer);
    const k = o.stepsPerRun ?? 1;
    const graphOf = (steps: number) =>
      emitModel(
        buildTrainingGraph({
          model: o.model,
          loss: o.loss,
          optimizer: o.optimizer,
          batchSize: o.batchSize,
          stepsPerRun: steps,
          sampleWeights: o.sampleWeights ?? false,
          seed: o.seed ?? 0,
        }),
        { mode: 'training' },
      );
    const single = await createSession(graphOf(1), o);
    const multi =
      k > 1 ? (await createSession(graphOf(k), { ...o, provider: single.provider })).session : single.session;
    const start = o.initial ?? initModel(o.model, o.seed ?? 0);
    const snapshot: TrainingSnapshot = isSnapshot(start)
      ? start
      : { ...start, optimizer: zeroSlots(o), step: 0 };
    return new Trainer(o, { session: multi, k }, single.session, single.provider, snapshot);
  }

  /** Optimizer steps done so far. */
  get stepCount(): number {
    return this.steps;
  }

  /** Runs one optimizer step per batch (in runs of `stepsPerRun`); returns each step's loss. */
  async trainSteps(batches: readonly Batch[]): Promise<number[]> {
    const losses: number[] = [];
    let i = 0;
    while (i < batches.length) {
      const useMulti = batches.length - i >= this.multi.k;
      const k = useMulti ? this.multi.k : 1;
      losses.push(...(await this.run(useMulti ? this.multi.session : this.single, batches.slice(i, i + k))));
      i += k;
    }
    return losses;
  }

  /** Trains on every batch of `batches` once; reports progress after each run. */
  async trainEpoch(
    batches: Iterable<Batch>,
    onProgress?: (p: TrainProgress) => void,
  ): Promise<{ meanLoss: number; steps: number }> {
    let pending: Batch[] = [];
    let sum = 0;
    let count = 0;
    const flush = async (): Promise<void> => {
      const losses = await this.trainSteps(pending);
      sum += losses.reduce((a, b) => a + b, 0);
      count += losses.length;
      onProgress?.({
        step: this.steps,
        loss: losses.reduce((a, b) => a + b, 0) / losses.length,
        samples: count * this.options.batchSize,
      });
      pending = [];
    };
    for (const b of batches) {
      pending.push(b);
      if (pending.length === this.multi.k) await flush();
    }
    if (pending.length > 0) await flush();
    return { meanLoss: count > 0 ? sum / count : NaN, steps: count };
  }

  private async run(session: ort.InferenceSession, batches: readonly Batch[]): Promise<number[]> {
    const feeds: Record<string, ort.Tensor> = { ...this.state };
    const o = this.options;
    const xShape = [o.batchSize, ...o.model.inputShape];
    batches.forEach((b, k) => {
      feeds[names.x(k)] = new ort.Tensor('float32', b.x, xShape);
      feeds[names.y(k)] =
        b.y instanceof BigInt64Array
          ? new ort.Tensor('int64', b.y, [o.batchSize])
          : new ort.Tensor('float32', b.y, [o.batchSize, o.model.outputSize]);
      if (o.sampleWeights) {
        if (!b.weights) throw new TypeError(`batch ${k} lacks 'weights' although 'sampleWeights' is set`);
        feeds[names.w(k)] = new ort.Tensor('float32', b.weights, [o.batchSize]);
      }
    });
    const out = await session.run(feeds);
    for (const name of Object.keys(this.state)) {
      const next = out[names.next(name)];
      if (!next) throw new Error(`training graph did not output '${names.next(name)}'`);
      this.state[name] = next;
    }
    this.steps += batches.length;
    return Array.from(out[names.loss]!.data as Float32Array);
  }

  /** A copy of parameters, buffers, optimizer state and step count. */
  snapshot(): TrainingSnapshot {
    const copy = (key: string) => Float32Array.from(this.state[key]!.data as Float32Array);
    const o = this.options;
    return {
      params: new Map(o.model.parameters.map((p) => [p.name, copy(p.name)] as const)),
      buffers: new Map(o.model.buffers.map((b) => [b.name, copy(names.buffer(b.name))] as const)),
      optimizer: new Map(
        optimizerSlots(o.optimizer, o.model.parameters).map(
          (s) => [s.name, copy(names.slot(s.name))] as const,
        ),
      ),
      step: this.steps,
    };
  }

  /** Replaces the whole training state (e.g. from a checkpoint). */
  restore(s: TrainingSnapshot): void {
    const o = this.options;
    const next: Record<string, ort.Tensor> = {};
    const put = (key: string, what: string, v: Float32Array | undefined, shape: readonly number[]) => {
      const size = shape.reduce((a, b) => a * b, 1);
      if (!v || v.length !== size) throw new RangeError(`snapshot lacks ${size} values for ${what}`);
      next[key] = new ort.Tensor('float32', Float32Array.from(v), [...shape]);
    };
    o.model.parameters.forEach((p) => put(p.name, `parameter '${p.name}'`, s.params.get(p.name), p.shape));
    o.model.buffers.forEach((b) =>
      put(names.buffer(b.name), `buffer '${b.name}'`, s.buffers.get(b.name), b.shape),
    );
    optimizerSlots(o.optimizer, o.model.parameters).forEach((sl) =>
      put(names.slot(sl.name), `optimizer state '${sl.name}'`, s.optimizer.get(sl.name), sl.shape),
    );
    if (!Number.isInteger(s.step) || s.step < 0)
      throw new RangeError("snapshot 'step' must be an integer >= 0");
    next[names.step] = new ort.Tensor('float32', new Float32Array([s.step]), []);
    this.state = next;
    this.steps = s.step;
  }

  /** The trained model as an inference-only ONNX model (see export/inference-graph.ts). */
  exportInference(): Uint8Array {
    return exportInferenceModel(this.options.model, this.snapshot());
  }

  /** Releases the ORT sessions. */
  async dispose(): Promise<void> {
    // A profile is written when profiling ends, which release() alone does not do.
    if (this.options.profilePrefix) {
      this.single.endProfiling();
      if (this.multi.session !== this.single) this.multi.session.endProfiling();
    }
    if (this.multi.session !== this.single) await this.multi.session.release();
    await this.single.release();
  }
}

function isSnapshot(v: TrainingSnapshot | ModelValues): v is TrainingSnapshot {
  return 'optimizer' in v && 'step' in v;
}

function zeroSlots(o: TrainerOptions): Map<string, Float32Array> {
  const slots = optimizerSlots(o.optimizer, o.model.parameters);
  return new Map(slots.map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1))] as const));
}
