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
export {
  type SimulationConfig,
  type SimulationDataset,
  type SimulationAggregation,
  type SimulationPrivacy,
  type SimulationSecAgg,
  type SimulatedDropStage,
  validateSimulationConfig,
} from './simulate/config';
export {
  runSimulation,
  type SimulationResult,
  type RoundMetrics,
  type SimulationProgress,
} from './simulate/run-simulation';
export type { BaselineResults } from './simulate/baselines';
export { lineChartSvg, type LineChart, type PlotSeries } from './simulate/plot';
export { parseSimulationConfig, SimulationConfigError } from './simulate/config-file';
export { writeRunFolder, simulationSummary, type SimulationSummary } from './simulate/run-folder';
export { federatedAveraging, type FedAvgOptions, type FedAvgResult } from './simulate/fedavg';
export {
  DEFAULT_GRANULARITY,
  planRelease,
  checkRing,
  siteRelease,
  targetsFromSum,
  planEvaluation,
  siteEvaluationRelease,
  evaluationFromSum,
  type EvaluationSpec,
  type ReleaseSpec,
  type TargetRule,
} from './release';
export {
  type TrustAssumption,
  type CountedNoise,
  countedShares,
  countedNoise,
  assumptionText,
} from './counted-noise';
export {
  planSimulatedRelease,
  siteContribution,
  releaseSpecOf,
  secureSum,
  type ReleasePlan,
  type SecureSum,
} from './simulate/private-sum';
