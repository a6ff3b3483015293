export {
  type SimulationConfig,
  type SimulationDataset,
  type SimulationAggregation,
  type SimulationPrivacy,
  type SimulationSecAgg,
  type SimulatedDropStage,
  validateSimulationConfig,
} from './config';
export {
  runSimulation,
  type SimulationResult,
  type RoundMetrics,
  type SimulationProgress,
} from './run-simulation';
export type { BaselineResults } from './baselines';
export { lineChartSvg, type LineChart, type PlotSeries } from './plot';
export { parseSimulationConfig, SimulationConfigError } from './config-file';
export { writeRunFolder, simulationSummary, type SimulationSummary } from './run-folder';
export { federatedAveraging, type FedAvgOptions, type FedAvgResult } from './fedavg';
export {
  planSimulatedRelease,
  siteContribution,
  releaseSpecOf,
  secureSum,
  type SecureSum,
} from './private-sum';
