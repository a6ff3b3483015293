import type { Dataset } from '@fedistill/data';
import {
  type ClassificationMetrics,
  classificationMetrics,
  distillStudent,
  selfTrain,
  type StudentOptions,
  studentProbabilities,
} from '@fedistill/distill';
import { exportInferenceModel, type ModelDefinition, Predictor, smallCnn } from '@fedistill/engine';
import { extractFeatures, type FeatureExtractor, withFeatures } from '@fedistill/features';
import type { FederationSpec } from '@fedistill/protocol';
import type { DistillationData } from './distillation-targets';

export interface TrainedStudent {
  /** Inference ONNX taking raw inputs (the reference set's standardization is inside). */
  readonly onnx: Uint8Array;
  /** Metrics on the evaluation set, or null without one. */
  readonly metrics: ClassificationMetrics | null;
  readonly seconds: number;
  /** Unanswered reference rows self-training pseudo-labelled; null when distillation.selfTraining is off. */
  readonly pseudoLabelled: number | null;
}

/** The federation's student network builder (mlp: distillStudent's default with `hidden`). */
function networkOf(
  student: FederationSpec['student'],
): ((inputShape: readonly number[], classes: number) => ModelDefinition) | undefined {
  if (student.architecture === 'mlp') return undefined;
  return (inputShape, classes) => {
    const [c, h, w] = inputShape;
    if (inputShape.length !== 3 || c === undefined || h === undefined || w === undefined)
      throw new RangeError(
        `a cnn student needs a [channels, height, width] input, not [${inputShape.join(', ')}]`,
      );
    return smallCnn({
      inputShape: [c, h, w],
      channels: student.channels,
      hidden: student.hidden,
      outputs: classes,
    });
  };
}

/**
 * Distils the student from the accumulated targets with the federation's settings (distillation
 * loss of Hinton et al. 2015, arXiv:1503.02531), then, with distillation.selfTraining, self-trains
 * it on the reference rows without targets (libs/distill selfTrain: the public reference inputs
 * and the released targets only, so post-processing at no privacy cost), and measures it on the
 * evaluation set, if any. The evaluation set is not used for early stopping: its figures stay
 * unbiased. The training seed is distillation.seed x 1000 + `round` (the latest completed round
 * the student covers, as the query planner seeds its choice): each publication draws its own
 * initialization and batch order, reproducibly.
 */
export async function trainStudent(
  spec: FederationSpec,
  raw: Dataset,
  data: DistillationData,
  evaluation: Dataset | null,
  round: number,
  /** The federation's feature extractor (null without `features`): the student is a head on its output. */
  extractor: FeatureExtractor | null = null,
): Promise<TrainedStudent> {
  const d = spec.distillation;
  const run = { threads: d.threads, provider: d.executionProvider };
  // With features, the head trains on the extracted reference features (computed once here, not
  // in every epoch) and the published model is extractor-then-head: it takes raw inputs.
  const reference = extractor ? await extractFeatures(extractor, raw, run) : raw;
  const classes = spec.labels.length;
  const started = process.hrtime.bigint();
  const options: StudentOptions = {
    hidden: spec.student.architecture === 'mlp' ? spec.student.hidden : [],
    model: networkOf(spec.student),
    embedStandardizer: true,
    classes,
    temperature: d.temperature,
    epochs: d.epochs,
    batchSize: d.batchSize,
    learningRate: d.learningRate,
    schedule: d.schedule,
    seed: d.seed * 1000 + round,
    provider: d.executionProvider,
    threads: d.threads,
  };
  let student = await distillStudent(
    reference,
    data.rows,
    { probs: data.probs, answered: data.rows.map((_r, i) => i) },
    options,
  );
  let pseudoLabelled: number | null = null;
  if (d.selfTraining) {
    const out = await selfTrain(student, reference, data.rows, data.probs, d.selfTraining.threshold, options);
    student = out.student;
    pseudoLabelled = out.pseudoLabelled;
  }
  const onnx = extractor
    ? exportInferenceModel(withFeatures(extractor, student.definition), student.values)
    : student.model;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // With features, measured as published: the composed model on the raw evaluation inputs.
  const metrics = !evaluation
    ? null
    : classificationMetrics(
        extractor
          ? await composedProbabilities(onnx, evaluation, d.threads)
          : await studentProbabilities(student, evaluation),
        evaluation.labels,
        classes,
      );
  return { onnx, metrics, seconds, pseudoLabelled };
}

/** Class probabilities of the published (composed) student for raw inputs. */
async function composedProbabilities(
  onnx: Uint8Array,
  data: Dataset,
  threads: number,
): Promise<Float32Array> {
  const p = await Predictor.create(onnx, data.featureShape, {
    threads,
    output: 'probabilities',
    outputKind: 'probabilities',
  });
  try {
    return await p.outputs(data.features, data.count);
  } finally {
    await p.dispose();
  }
}
