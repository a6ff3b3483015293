// Just over the ~300-line guide: one class, the ensemble of a site's teachers (training on disjoint
// partitions, inference, digest and revisit); ONNX loading lives in onnx-teachers.ts, training
// in train-one-teacher.ts and (many teachers per graph) stacked-teachers.ts, stacked-inference.ts,
// the abstention gates in abstention.ts.
import { type Dataset, selectSamples, Standardizer } from '@fedistill/data';
import { type ExecutionProvider, mlp, type ModelValues, Predictor, Trainer } from '@fedistill/engine';
import { type AbstentionOptions, AbstentionGates } from './abstention';
import type { LearningRateSchedule } from './learning-rate';
import { softmaxRows } from './metrics';
import { type OnnxTeacherModel, openOnnxTeacher } from './onnx-teachers';
import { partition } from './partition';
import { ExperimentRandom } from './seeded';
import { openStackedTeachers, type StackedTeacherPredictor } from './stacked-inference';
import { DEFAULT_TEACHERS_PER_GRAPH, trainStackedTeachers, type TrainedTeacher } from './stacked-teachers';
import { trainOne } from './train-one-teacher';

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
  /** Learning-rate schedule over each teacher's training (default 'constant'). */
  readonly schedule?: LearningRateSchedule;
  readonly seed: number;
  readonly threads?: number;
  readonly provider?: ExecutionProvider;
  /**
   * Teachers trained together in one ONNX graph and session (stacked-teachers.ts), >= 1; default
   * 64. Each still depends on its own partition only, and ends as it would alone up to float
   * rounding; 1 trains them one by one, each in its own session (the former path).
   */
  readonly teachersPerGraph?: number;
  /** Called after each teacher's epoch (teacher by teacher within each graph's epoch). */
  readonly onProgress?: (p: { teacher: number; epoch: number; loss: number }) => void;
  /**
   * Keep each teacher's weights and partition so that {@link TeacherEnsemble.digestAndRevisit}
   * can fine-tune them between rounds (costs the memory of the weights); default false.
   */
  readonly keepTrainingState?: boolean;
  /**
   * Teachers abstain on queries unlike their own partition (abstention.ts): keeps each
   * teacher's partition (its records, as given) for {@link TeacherEnsemble.abstentionGates}.
   * Absent: every teacher answers every query.
   */
  readonly abstain?: AbstentionOptions;
}

/** How {@link TeacherEnsemble.digestAndRevisit} fine-tunes the teachers between rounds. */
export interface RevisitOptions {
  /** Epochs on the released targets of the public reference inputs (FedMD's digest), >= 0. */
  readonly digestEpochs: number;
  /** Epochs on each teacher's own partition afterwards (FedMD's revisit), >= 0. */
  readonly localEpochs: number;
  /** Samples per step; capped at the smaller of the two training sets. */
  readonly batchSize: number;
  /** Adam learning rate; default 1e-3 (fine-tuning, ten times below training's default). */
  readonly learningRate?: number;
  readonly seed: number;
  readonly threads?: number;
  readonly provider?: ExecutionProvider;
}

/** What a site keeps to fine-tune its teachers: their weights and (standardized) partitions. */
interface TrainingState {
  readonly hidden: readonly number[];
  readonly parts: readonly Dataset[];
  readonly values: ModelValues[];
}

/**
 * A site's teachers. Each saw one disjoint partition of the site's records (PATE, Papernot et
 * al. 2017, arXiv:1610.05755, §2.1), so one record influences one teacher: the basis of
 * record-level privacy. Each teacher standardizes its inputs with the mean and standard
 * deviation of its OWN partition, and applies that same transform to the reference queries it
 * answers.
 *
 * Why per partition: statistics fitted on all the site's records would be shared by every
 * teacher, so replacing one record would move every teacher's inputs and answers, and the
 * sensitivities the release charges (one teacher's contribution: 2B for soft labels, sqrt(2q)
 * for votes, release.ts) would be wrong by up to the number of teachers (the PATE argument,
 * Papernot et al. 2017, arXiv:1610.05755, §2.1, needs a teacher to depend on its partition
 * only). Statistics of the public reference set would be as safe; the partition's need nothing
 * beyond the records the teacher already sees (`train` takes no reference set, and the node,
 * the simulator and the baselines all train this way), and are the distribution the teacher
 * learns. Cost, measured on small partitions: breast cancer, 20 teachers of ~10 records, vote
 * accuracy 0.965 -> 0.954; digits, 10 teachers of 19, 0.813 -> 0.810. With one teacher (the
 * baselines) this is exactly the former whole-data standardizer.
 */
export class TeacherEnsemble {
  private constructor(
    private readonly predictors: Predictor[],
    /** Teacher t's standardizer, fitted on partition t only; undefined for loaded ONNX teachers. */
    private readonly standardizers: readonly Standardizer[] | undefined,
    readonly inputShape: readonly number[],
    readonly classes: number,
    private readonly teacherModels: Uint8Array[],
    private readonly training?: TrainingState,
    /** Teachers trained stacked answer through these (one session per graph), in teacher order. */
    private stacked: readonly StackedTeacherPredictor[] = [],
  ) {}

  /** The teachers as inference-only ONNX models. */
  get models(): readonly Uint8Array[] {
    return this.teacherModels;
  }

  /** Trains `teachers` MLPs on disjoint IID partitions of `data`. */
  static async train(data: Dataset, o: TeacherTrainingOptions): Promise<TeacherEnsemble> {
    if (!Number.isInteger(o.teachers) || o.teachers < 1)
      throw new RangeError("'teachers' must be an integer >= 1");
    if (data.count < o.teachers)
      throw new RangeError(`cannot train ${o.teachers} teachers on ${data.count} records`);
    const perGraph = o.teachersPerGraph ?? DEFAULT_TEACHERS_PER_GRAPH;
    if (!Number.isInteger(perGraph) || perGraph < 1)
      throw new RangeError("'teachersPerGraph' must be an integer >= 1");
    // The IID split depends on the record count and the seed only, so replacing a record keeps
    // every other record in its partition.
    const parts = partition(data.labels, o.teachers, { kind: 'iid' }, o.seed);
    const raw = parts.map((indices) => selectSamples(data, indices));
    const standardizers = raw.map((part) => Standardizer.fit(part));
    const partData = raw.map((part, t) => (standardizers[t] as Standardizer).apply(part));
    const trained: TrainedTeacher[] = [];
    if (perGraph > 1) trained.push(...(await trainStackedTeachers(partData, o, perGraph)));
    else for (const [t, part] of partData.entries()) trained.push(await trainOne(part, o, t));
    const models = trained.map((x) => x.model);
    const values = trained.map((x) => x.values);
    const session = { threads: o.threads, provider: o.provider };
    const net = { inputShape: data.featureShape, hidden: o.hidden, outputs: data.numClasses };
    const stacked =
      perGraph > 1 ? await openStackedTeachers(net, values, standardizers, perGraph, session) : [];
    const predictors =
      perGraph > 1
        ? []
        : await Promise.all(models.map((m) => Predictor.create(m, data.featureShape, session)));
    const training = o.keepTrainingState ? { hidden: o.hidden, parts: partData, values } : undefined;
    const ensemble = new TeacherEnsemble(
      predictors,
      standardizers,
      data.featureShape,
      data.numClasses,
      models,
      training,
      stacked,
    );
    if (o.abstain) ensemble.abstention = { parts: raw, options: o.abstain };
    return ensemble;
  }

  /** Each teacher's partition as given (not standardized) when trained with `abstain`. */
  private abstention: { parts: readonly Dataset[]; options: AbstentionOptions } | undefined;

  /**
   * The teachers' abstention gates (abstention.ts), fitted on each teacher's own partition and
   * the `n` PUBLIC reference inputs `reference` (row-major, in the space the teachers were
   * trained in). Needs `abstain` at training.
   */
  abstentionGates(reference: Float32Array, n: number): AbstentionGates {
    if (!this.abstention)
      throw new RangeError('abstention needs teachers trained here with the abstain option');
    return AbstentionGates.fit(this.abstention.parts, reference, n, this.abstention.options);
  }

  /**
   * Site-provided ONNX teachers (bytes, or {@link OnnxTeacherModel} with the input and output to
   * use and whether the output is logits or probabilities): any model with one float32 input
   * [N, ...inputShape] and one output [N, classes], whatever their names. A model that does not
   * fit fails with an {@link OnnxTeacherError} naming it, its inputs and outputs, and what was
   * expected (see openOnnxTeacher). Their privacy rests on the site: each must have been trained
   * on its own disjoint partition of the site's records, preprocessing included.
   */
  static async load(
    models: readonly (Uint8Array | OnnxTeacherModel)[],
    inputShape: readonly number[],
    classes: number,
    o: { threads?: number; provider?: ExecutionProvider } = {},
  ): Promise<TeacherEnsemble> {
    const teachers = models.map((m) => (ArrayBuffer.isView(m) ? { model: m } : m));
    const predictors: Predictor[] = [];
    try {
      for (const [i, t] of teachers.entries())
        predictors.push(await openOnnxTeacher(t, i, inputShape, classes, o));
    } catch (err) {
      await Promise.all(predictors.map((p) => p.dispose()));
      throw err;
    }
    const bytes = teachers.map((t) => t.model);
    return new TeacherEnsemble(predictors, undefined, inputShape, classes, bytes);
  }

  get size(): number {
    return this.teacherModels.length;
  }

  /** Each teacher's class probabilities at `temperature` for `n` inputs: row-major [n, classes]. */
  async probabilities(x: Float32Array, n: number, temperature = 1): Promise<Float32Array[]> {
    if (!(temperature > 0)) throw new RangeError("'temperature' must be > 0");
    if (this.stacked.length > 0) {
      const logits = await Promise.all(this.stacked.map((s) => s.logits(x, n)));
      return logits.flat().map((l) => softmaxRows(l, this.classes, temperature));
    }
    const raw = datasetOf(x, n, this.inputShape, this.classes);
    return Promise.all(
      this.predictors.map(async (p, t) => {
        const s = this.standardizers?.[t];
        const input = s ? s.apply(raw).features : x;
        return softmaxRows(await p.logits(input, n), this.classes, temperature);
      }),
    );
  }

  /**
   * FedMD's digest and revisit (Li and Wang 2019, arXiv:1910.03581, §2 "Communicate, Digest,
   * Revisit"; DS-FL's local update on the shared soft targets, Itahara et al., arXiv:2008.06180,
   * §III): each teacher is fine-tuned `digestEpochs` on the `n` public reference inputs `x` (raw,
   * row-major) towards the released `targets` ([n, classes] probabilities), then `localEpochs` on
   * its own partition, and replaces its predictor. Needs `keepTrainingState` at training.
   *
   * Privacy: `targets` must be a released (noised) aggregate; fine-tuning on it is
   * post-processing. The revisit touches only the teacher's own partition, and partitions stay
   * disjoint, so in the next round a record still changes one teacher's contribution, given the
   * earlier releases (adaptive composition; the accountant charges every round).
   */
  async digestAndRevisit(
    x: Float32Array,
    n: number,
    targets: Float32Array,
    o: RevisitOptions,
  ): Promise<void> {
    const training = this.training;
    const standardizers = this.standardizers;
    if (!training || !standardizers)
      throw new RangeError('digest and revisit need teachers trained here with keepTrainingState');
    for (const [field, v] of [
      ['digestEpochs', o.digestEpochs],
      ['localEpochs', o.localEpochs],
    ] as const)
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`'${field}' must be an integer >= 0`);
    const per = this.inputShape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(n) || n < 0 || x.length !== n * per)
      throw new RangeError(`'x' must hold ${n} inputs of ${per} features`);
    if (targets.length !== n * this.classes)
      throw new RangeError(`'targets' must hold ${n} rows of ${this.classes} probabilities`);
    await this.unstack(o);
    const raw = datasetOf(x, n, this.inputShape, this.classes);
    const k = this.classes;
    for (const [t, part] of training.parts.entries()) {
      // Each teacher sees the reference inputs through its own partition's standardizer.
      const reference = (standardizers[t] as Standardizer).apply(raw).features;
      const batchSize = Math.max(1, Math.min(o.batchSize, n > 0 ? n : part.count, part.count));
      // The distillation loss at T = 1 with one-hot rows is the cross-entropy, so one trainer
      // serves both phases.
      const trainer = await Trainer.create({
        model: mlp({ inputShape: this.inputShape, hidden: training.hidden, outputs: k }),
        loss: { kind: 'distillation', temperature: 1 },
        optimizer: { kind: 'adam', lr: o.learningRate ?? 1e-3 },
        batchSize,
        seed: o.seed * 1000 + t,
        threads: o.threads,
        provider: o.provider,
        initial: training.values[t],
      });
      try {
        const rng = new ExperimentRandom(o.seed * 1000 + t);
        for (let e = 0; e < o.digestEpochs && n > 0; e += 1)
          await trainer.trainEpoch(softBatches(reference, targets, n, per, k, batchSize, rng));
        const oneHot = new Float32Array(part.count * k);
        part.labels.forEach((label, i) => (oneHot[i * k + label] = 1));
        for (let e = 0; e < o.localEpochs; e += 1)
          await trainer.trainEpoch(softBatches(part.features, oneHot, part.count, per, k, batchSize, rng));
        const snapshot = trainer.snapshot();
        training.values[t] = { params: snapshot.params, buffers: snapshot.buffers };
        const model = trainer.exportInference();
        const predictor = await Predictor.create(model, this.inputShape, {
          threads: o.threads,
          provider: o.provider,
        });
        await this.predictors[t]?.dispose();
        this.predictors[t] = predictor;
        this.teacherModels[t] = model;
      } finally {
        await trainer.dispose();
      }
    }
  }

  /** Stacked teachers get one predictor each before revisit replaces them one by one. */
  private async unstack(o: RevisitOptions): Promise<void> {
    if (this.stacked.length === 0) return;
    const session = { threads: o.threads, provider: o.provider };
    for (const m of this.teacherModels)
      this.predictors.push(await Predictor.create(m, this.inputShape, session));
    await Promise.all(this.stacked.map((s) => s.dispose()));
    this.stacked = [];
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.predictors, ...this.stacked].map((p) => p.dispose()));
  }
}

function datasetOf(x: Float32Array, n: number, shape: readonly number[], classes: number): Dataset {
  return { features: x, labels: new Int32Array(n), count: n, featureShape: shape, numClasses: classes };
}

// Shuffled full batches of (x, soft target) rows; the last partial batch is dropped.
function softBatches(
  x: Float32Array,
  y: Float32Array,
  n: number,
  per: number,
  classes: number,
  batchSize: number,
  rng: ExperimentRandom,
): Array<{ x: Float32Array; y: Float32Array }> {
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const batches = [];
  for (let s = 0; s + batchSize <= n; s += batchSize) {
    const bx = new Float32Array(batchSize * per);
    const by = new Float32Array(batchSize * classes);
    order.slice(s, s + batchSize).forEach((i, j) => {
      bx.set(x.subarray(i * per, (i + 1) * per), j * per);
      by.set(y.subarray(i * classes, (i + 1) * classes), j * classes);
    });
    batches.push({ x: bx, y: by });
  }
  return batches;
}
