export { type PartitionSpec, partition, proportionalSizes } from './partition';
export { ExperimentRandom } from './seeded';
export {
  type ClassificationMetrics,
  classificationMetrics,
  argmaxRows,
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
export { distillStudent, studentProbabilities, type StudentOptions, type DistilledStudent } from './student';
