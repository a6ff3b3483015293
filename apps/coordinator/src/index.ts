export { startCoordinator, type RunningCoordinator } from './start-coordinator';
export { RUNTIME_FILE, type RuntimeInfo } from './runtime-file';
export { loadCoordinatorConfig, ConfigError, type CoordinatorConfig } from './config/coordinator-config';
