export {
  type SimulationConfig,
  type SimulationDataset,
  type SimulationDataFiles,
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
  type SimulationOptions,
  type SimulatedStudent,
} from './run-simulation';
export { InMemoryServer, InMemoryChannel } from './transport/in-memory-transport';
export type { BaselineResults } from './baselines';
export { lineChartSvg, type LineChart, type PlotSeries } from './plot';
export { parseSimulationConfig, SimulationConfigError } from './config-file';
export { loadSimulationData, SimulationDataError, type SimulationData } from './data';
export { writeRunFolder, simulationSummary, type SimulationSummary } from './run-folder';
export { federatedAveraging, type FedAvgOptions, type FedAvgResult } from './fedavg';
export { dpFederatedAveraging, type DpFedAvgOptions, type DpFedAvgResult } from './dp-fedavg';
export {
  dpFedAvgNoiseFor,
  dpFedAvgEpsilon,
  dpFedAvgRelease,
  dpFedAvgRingBits,
  dpFedAvgMaxInput,
  DP_FEDAVG_NOISE_RANGE,
  type DpFedAvgNoiseSetup,
  type DpFedAvgRelease,
} from './dp-fedavg-privacy';
export { secureNoisySum, type SecureNoisySum, type SecureRoundOptions } from './dp-fedavg-round';
export { federationDefinition, nodeSettings, SIMULATED_FEDERATION } from './product/federation-terms';
export { siteName } from './product/in-process-federation';
export { readDeployedRounds, egressBytes, type DeployedRounds } from './product/round-results';
