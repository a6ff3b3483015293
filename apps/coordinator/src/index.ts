import type { RunningCoordinator, startCoordinator as StartCoordinator } from './start-coordinator';

export type { RunningCoordinator, StartCoordinatorOptions } from './start-coordinator';
export { RUNTIME_FILE, type RuntimeInfo } from './runtime-file';
export { loadCoordinatorConfig, ConfigError, type CoordinatorConfig } from './config/coordinator-config';
export type { RoundView } from './rounds/round-view';

/**
 * Starts the coordinator (./start-coordinator). Loaded on the first call so that this entry point
 * stays light: the CLI reads the coordinator's configuration through it on every admin command,
 * and NestJS, gRPC and the round engine load only when a coordinator really starts.
 */
export async function startCoordinator(
  ...args: Parameters<typeof StartCoordinator>
): Promise<RunningCoordinator> {
  const { startCoordinator: start } = await import('./start-coordinator');
  return start(...args);
}
/** A completed round's plan and unmasked sum, and the targets the student is trained on (read-only views of the store). */
export { completedRounds, type CompletedRound } from './students/completed-rounds';
export { accumulateTargets, targetRuleOf, type DistillationData } from './students/distillation-targets';
