export {
  startCoordinator,
  RUNTIME_FILE,
  type RuntimeInfo,
  type RunningCoordinator,
} from './start-coordinator';
export { loadCoordinatorConfig, ConfigError, type CoordinatorConfig } from './config/coordinator-config';
