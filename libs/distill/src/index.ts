export { type PartitionSpec, partition, proportionalSizes } from './partition';
export { ExperimentRandom } from './seeded';
export {
  type ClassificationMetrics,
  classificationMetrics,
  argmaxRows,
  softmaxRows,
  expectedCalibrationError,
  auroc,
} from './metrics';
export {
  type SummaryOptions,
  clippedSoftLabels,
  oneHotVotes,
  softLabelSummary,
  voteSummary,
  quantizedSoftLabelSummary,
} from './summaries';
export { type Targets, normalizedMean, eraSharpen, noisyArgmaxVotes } from './aggregation';
export { type QueryStrategy, selectQueries } from './query-selection';
export { TeacherEnsemble, type TeacherTrainingOptions } from './teachers';
export { AbstentionGates, type AbstentionOptions, nearestDistances } from './abstention';
export { OnnxTeacherError, type OnnxTeacherMismatch, type OnnxTeacherModel } from './onnx-teachers';
export { distillStudent, studentProbabilities, type StudentOptions, type DistilledStudent } from './student';
export { selfTrain } from './self-training';
export { type LearningRateSchedule } from './learning-rate';
export {
  DEFAULT_GRANULARITY,
  planRelease,
  checkRing,
  siteRelease,
  siteClassSumRelease,
  classSumTermsOf,
  targetsFromSum,
  planEvaluation,
  siteEvaluationRelease,
  type EvaluationSpec,
  type ReleasePlan,
  type ReleaseSpec,
  type TargetRule,
} from './release';
export { evaluationFromSum, type EvaluationEstimate } from './evaluation-estimate';
export {
  type TrustAssumption,
  type CountedNoise,
  countedShares,
  countedNoise,
  assumptionText,
} from './counted-noise';
export {
  CLASS_SUM_BIAS,
  classSumFeatures,
  classSumSizes,
  classSumTargets,
  type ClassSumTerms,
} from './class-sums';
