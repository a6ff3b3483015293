import type { Dataset } from '@fedistill/data';
import {
  type ClassificationMetrics,
  classificationMetrics,
  distillStudent,
  studentProbabilities,
} from '@fedistill/distill';
import { type ModelDefinition, smallCnn } from '@fedistill/engine';
import type { FederationSpec } from '@fedistill/protocol';
import type { DistillationData } from './distillation-targets';

export interface TrainedStudent {
  /** Inference ONNX taking raw inputs (the reference set's standardization is inside). */
  readonly onnx: Uint8Array;
  /** Metrics on the evaluation set, or null without one. */
  readonly metrics: ClassificationMetrics | null;
  readonly seconds: number;
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
 * loss of Hinton et al. 2015, arXiv:1503.02531) and measures it on the evaluation set, if any.
 * The evaluation set is not used for early stopping: the figures it gives stay unbiased.
 */
export async function trainStudent(
  spec: FederationSpec,
  reference: Dataset,
  data: DistillationData,
  evaluation: Dataset | null,
): Promise<TrainedStudent> {
  const d = spec.distillation;
  const classes = spec.labels.length;
  const started = process.hrtime.bigint();
  const student = await distillStudent(
    reference,
    data.rows,
    { probs: data.probs, answered: data.rows.map((_r, i) => i) },
    {
      hidden: spec.student.architecture === 'mlp' ? spec.student.hidden : [],
      model: networkOf(spec.student),
      embedStandardizer: true,
      classes,
      temperature: d.temperature,
      epochs: d.epochs,
      batchSize: d.batchSize,
      learningRate: d.learningRate,
      seed: d.seed,
      provider: d.executionProvider,
      threads: d.threads,
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const metrics = evaluation
    ? classificationMetrics(await studentProbabilities(student, evaluation), evaluation.labels, classes)
    : null;
  return { onnx: student.model, metrics, seconds };
}
