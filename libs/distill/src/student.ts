import { type Dataset, Standardizer } from '@fedistill/data';
import {
  type ExecutionProvider,
  mlp,
  type ModelDefinition,
  type ModelValues,
  Predictor,
  Trainer,
} from '@fedistill/engine';
import { adam, type LearningRateSchedule } from './learning-rate';
import { softmaxRows } from './metrics';
import { ExperimentRandom } from './seeded';
import { standardizedModel } from './standardized-model';
import type { Targets } from './aggregation';

/** How the coordinator distils the student from the aggregated targets. */
export interface StudentOptions {
  readonly hidden: readonly number[];
  readonly classes: number;
  /** Distillation temperature T (the loss is KL at T scaled by T², Hinton et al. 2015, arXiv:1503.02531). */
  readonly temperature: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate?: number;
  /** Learning-rate schedule over the whole training (default 'constant'). */
  readonly schedule?: LearningRateSchedule;
  readonly seed: number;
  readonly threads?: number;
  readonly provider?: ExecutionProvider;
  /** Labelled data for early stopping (keeps the epoch with the best accuracy); optional. */
  readonly validation?: Dataset;
  /** The student network for the input shape (default: mlp with `hidden`), e.g. a smallCnn. */
  readonly model?: (inputShape: readonly number[], classes: number) => ModelDefinition;
  /**
   * Put the standardizer inside the model (its first operations), so the exported ONNX takes raw
   * inputs; `validation` is then given raw as well. Default false.
   */
  readonly embedStandardizer?: boolean;
  readonly onProgress?: (p: { epoch: number; loss: number; validationAccuracy: number | null }) => void;
}

export interface DistilledStudent {
  /** Inference-only ONNX: input [N, ...inputShape] of raw (unstandardized) inputs is standardized by `standardizer`. */
  readonly model: Uint8Array;
  readonly standardizer: Standardizer;
  /** True when the model standardizes its inputs itself (`embedStandardizer`). */
  readonly standardizerEmbedded: boolean;
  readonly history: ReadonlyArray<{ epoch: number; loss: number; validationAccuracy: number | null }>;
  readonly bestEpoch: number;
  /**
   * The network `model` was exported from (the standardizer inside when embedded) and its values
   * at `bestEpoch`, to export it composed with more graph: a feature extractor in front
   * (libs/features withFeatures), so that a student trained on features takes raw inputs.
   */
  readonly definition: ModelDefinition;
  readonly values: ModelValues;
}

/**
 * Trains the student on the reference inputs that got answers, with the aggregated soft labels
 * (or noisy-argmax one-hot labels) as targets. The reference set is public, so standardizing it
 * with its own statistics reveals nothing private.
 */
export async function distillStudent(
  reference: Dataset,
  queries: readonly number[],
  targets: Targets,
  o: StudentOptions,
): Promise<DistilledStudent> {
  const rows = targets.answered.map((a) => queries[a] as number);
  if (rows.length === 0) throw new RangeError('no answered queries to distil from');
  const standardizer = Standardizer.fit(reference);
  const embedded = o.embedStandardizer ?? false;
  const scaled = embedded ? reference : standardizer.apply(reference);
  const per = reference.featureShape.reduce((a, b) => a * b, 1);
  const batchSize = Math.max(1, Math.min(o.batchSize, rows.length));
  const network = o.model
    ? o.model(reference.featureShape, o.classes)
    : mlp({ inputShape: reference.featureShape, hidden: o.hidden, outputs: o.classes });
  const definition = embedded ? standardizedModel(network, standardizer) : network;
  const trainer = await Trainer.create({
    model: definition,
    loss: { kind: 'distillation', temperature: o.temperature },
    optimizer: adam(o.learningRate ?? 1e-2, o.schedule, o.epochs, Math.floor(rows.length / batchSize)),
    batchSize,
    seed: o.seed,
    threads: o.threads,
    provider: o.provider,
  });
  const validation = o.validation && (embedded ? o.validation : standardizer.apply(o.validation));
  const history: { epoch: number; loss: number; validationAccuracy: number | null }[] = [];
  let best: { epoch: number; accuracy: number; model: Uint8Array; values: ModelValues } = {
    epoch: -1,
    accuracy: -1,
    model: new Uint8Array(),
    values: { params: new Map(), buffers: new Map() },
  };
  const rng = new ExperimentRandom(o.seed);
  try {
    for (let epoch = 0; epoch < o.epochs; epoch += 1) {
      const order = rng.shuffle(Array.from({ length: rows.length }, (_, i) => i));
      const batches = [];
      for (let s = 0; s + batchSize <= order.length; s += batchSize) {
        const pick = order.slice(s, s + batchSize);
        const x = new Float32Array(batchSize * per);
        const y = new Float32Array(batchSize * o.classes);
        pick.forEach((i, j) => {
          x.set(
            scaled.features.subarray((rows[i] as number) * per, ((rows[i] as number) + 1) * per),
            j * per,
          );
          y.set(targets.probs.subarray(i * o.classes, (i + 1) * o.classes), j * o.classes);
        });
        batches.push({ x, y });
      }
      const { meanLoss } = await trainer.trainEpoch(batches);
      const model = trainer.exportInference();
      const accuracy = validation ? await accuracyOf(model, validation, o) : null;
      history.push({ epoch, loss: meanLoss, validationAccuracy: accuracy });
      o.onProgress?.({ epoch, loss: meanLoss, validationAccuracy: accuracy });
      if (accuracy === null || accuracy > best.accuracy)
        best = { epoch, accuracy: accuracy ?? 0, model, values: trainer.snapshot() };
    }
  } finally {
    await trainer.dispose();
  }
  return {
    model: best.model,
    standardizer,
    standardizerEmbedded: embedded,
    history,
    bestEpoch: best.epoch,
    definition,
    values: best.values,
  };
}

async function accuracyOf(model: Uint8Array, data: Dataset, o: StudentOptions): Promise<number> {
  const p = await Predictor.create(model, data.featureShape, { threads: o.threads, provider: o.provider });
  try {
    return await p.accuracy(data.features, data.labels);
  } finally {
    await p.dispose();
  }
}

/** The student's class probabilities for raw inputs (standardized as in training). */
export async function studentProbabilities(
  student: DistilledStudent,
  data: Dataset,
  o: { threads?: number } = {},
): Promise<Float32Array> {
  const scaled = student.standardizerEmbedded ? data : student.standardizer.apply(data);
  const p = await Predictor.create(student.model, data.featureShape, { threads: o.threads });
  try {
    const logits = await p.logits(scaled.features, data.count);
    return softmaxRows(logits, logits.length / data.count);
  } finally {
    await p.dispose();
  }
}
