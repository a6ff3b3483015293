import { type Dataset, miniBatches, selectSamples, Standardizer } from '@fedistill/data';
import { type ExecutionProvider, mlp, Predictor, Trainer } from '@fedistill/engine';
import { partition } from './partition';

/** How a site trains its teachers. */
export interface TeacherTrainingOptions {
  /** Number of teachers k: the site's records are split into k disjoint partitions, one per teacher. */
  readonly teachers: number;
  /** Hidden widths of each teacher (an MLP), e.g. [32]. */
  readonly hidden: readonly number[];
  readonly epochs: number;
  /** Samples per step; capped at the partition size. */
  readonly batchSize: number;
  /** Adam learning rate; default 1e-2. */
  readonly learningRate?: number;
  readonly seed: number;
  readonly threads?: number;
  readonly provider?: ExecutionProvider;
  /** Called after each teacher's epoch. */
  readonly onProgress?: (p: { teacher: number; epoch: number; loss: number }) => void;
}

function softmaxRows(logits: Float32Array, classes: number, temperature: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / classes; r += 1) {
    let max = -Infinity;
    for (let c = 0; c < classes; c += 1)
      max = Math.max(max, (logits[r * classes + c] as number) / temperature);
    let z = 0;
    for (let c = 0; c < classes; c += 1)
      z += Math.exp((logits[r * classes + c] as number) / temperature - max);
    for (let c = 0; c < classes; c += 1)
      out[r * classes + c] = Math.exp((logits[r * classes + c] as number) / temperature - max) / z;
  }
  return out;
}

/**
 * A site's teachers. Each saw one disjoint partition of the site's records (PATE, Papernot et
 * al. 2017, arXiv:1610.05755, §2.1), so one record influences one teacher: the basis of
 * record-level privacy. Inputs are standardized with statistics fitted on the site's own
 * training records, which never leave the site.
 */
export class TeacherEnsemble {
  private constructor(
    private readonly predictors: Predictor[],
    private readonly standardizer: Standardizer | undefined,
    readonly inputShape: readonly number[],
    readonly classes: number,
    /** The teachers as inference-only ONNX models. */
    readonly models: readonly Uint8Array[],
  ) {}

  /** Trains `teachers` MLPs on disjoint IID partitions of `data`. */
  static async train(data: Dataset, o: TeacherTrainingOptions): Promise<TeacherEnsemble> {
    if (!Number.isInteger(o.teachers) || o.teachers < 1)
      throw new RangeError("'teachers' must be an integer >= 1");
    if (data.count < o.teachers)
      throw new RangeError(`cannot train ${o.teachers} teachers on ${data.count} records`);
    const standardizer = Standardizer.fit(data);
    const scaled = standardizer.apply(data);
    const parts = partition(scaled.labels, o.teachers, { kind: 'iid' }, o.seed);
    const models: Uint8Array[] = [];
    for (const [t, indices] of parts.entries()) {
      models.push(await trainOne(selectSamples(scaled, indices), o, t));
    }
    const predictors = await Promise.all(
      models.map((m) => Predictor.create(m, data.featureShape, { threads: o.threads, provider: o.provider })),
    );
    return new TeacherEnsemble(predictors, standardizer, data.featureShape, data.numClasses, models);
  }

  /**
   * Site-provided ONNX teachers: any model whose input takes [N, ...inputShape] and whose
   * `logits` output gives [N, classes]. A mismatch fails with a message naming the model.
   */
  static async load(
    models: readonly Uint8Array[],
    inputShape: readonly number[],
    classes: number,
    o: { threads?: number; provider?: ExecutionProvider } = {},
  ): Promise<TeacherEnsemble> {
    const predictors: Predictor[] = [];
    const probe = new Float32Array(inputShape.reduce((a, b) => a * b, 1));
    for (const [i, m] of models.entries()) {
      const p = await Predictor.create(m, inputShape, o).catch((err: Error) => {
        throw new RangeError(`teacher model ${i} cannot be opened: ${err.message}`);
      });
      const out = await p.logits(probe, 1).catch((err: Error) => {
        throw new RangeError(
          `teacher model ${i} does not take inputs of shape [N, ${inputShape.join(', ')}]: ${err.message}`,
        );
      });
      if (out.length !== classes)
        throw new RangeError(
          `teacher model ${i} gives ${out.length} outputs; the federation has ${classes} classes`,
        );
      predictors.push(p);
    }
    return new TeacherEnsemble(predictors, undefined, inputShape, classes, models);
  }

  get size(): number {
    return this.predictors.length;
  }

  /** Each teacher's class probabilities at `temperature` for `n` inputs: row-major [n, classes]. */
  async probabilities(x: Float32Array, n: number, temperature = 1): Promise<Float32Array[]> {
    if (!(temperature > 0)) throw new RangeError("'temperature' must be > 0");
    const input = this.standardizer
      ? this.standardizer.apply(datasetOf(x, n, this.inputShape, this.classes)).features
      : x;
    return Promise.all(
      this.predictors.map(async (p) => softmaxRows(await p.logits(input, n), this.classes, temperature)),
    );
  }

  async dispose(): Promise<void> {
    await Promise.all(this.predictors.map((p) => p.dispose()));
  }
}

function datasetOf(x: Float32Array, n: number, shape: readonly number[], classes: number): Dataset {
  return { features: x, labels: new Int32Array(n), count: n, featureShape: shape, numClasses: classes };
}

async function trainOne(data: Dataset, o: TeacherTrainingOptions, t: number): Promise<Uint8Array> {
  const batchSize = Math.max(1, Math.min(o.batchSize, data.count));
  const trainer = await Trainer.create({
    model: mlp({ inputShape: data.featureShape, hidden: o.hidden, outputs: data.numClasses }),
    loss: { kind: 'cross-entropy' },
    optimizer: { kind: 'adam', lr: o.learningRate ?? 1e-2 },
    batchSize,
    seed: o.seed * 1000 + t,
    threads: o.threads,
    provider: o.provider,
  });
  try {
    for (let epoch = 0; epoch < o.epochs; epoch += 1) {
      const batches = [...miniBatches(data, { batchSize, seed: o.seed * 1000 + t * 100 + epoch })].map(
        (b) => ({ x: b.x, y: b.y }),
      );
      const { meanLoss } = await trainer.trainEpoch(batches);
      o.onProgress?.({ teacher: t, epoch, loss: meanLoss });
    }
    return trainer.exportInference();
  } finally {
    await trainer.dispose();
  }
}
