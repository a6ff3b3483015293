export {
  type SiteRecord,
  type SiteRegistry,
  type EnrolmentTokenRecord,
  type RedeemRequest,
  type RedeemRefusal,
  type RedeemOutcome,
  type EnrolmentBook,
  type ReplayGuard,
  type CoordinatorStore,
  UnknownSiteError,
  SiteAlreadyRevokedError,
  SiteAlreadyEnrolledError,
  type FederationRecord,
  type FederationRegistry,
  type ArtifactRecord,
  type ArtifactStore,
  UnknownFederationError,
  FederationExistsError,
  type RoundRecord,
  type RoundStore,
  RoundExistsError,
  type StudentRecord,
  type StudentStore,
  StudentExistsError,
  type EvaluationSetRecord,
  type EvaluationSetStore,
  ACCESS_ROLES,
  type AccessRole,
  type AccessTokenRecord,
  type AccessTokenBook,
  AccessTokenExistsError,
  UnknownAccessTokenError,
  AccessTokenAlreadyRevokedError,
} from './ports';
export { isStoreUnavailable } from './unavailable';
export { SqliteSiteRegistry } from './sqlite/sites';
export { SqliteEnrolmentBook } from './sqlite/enrolment';
export { SqliteReplayGuard } from './sqlite/replay-guard';
export { SqliteFederationRegistry } from './sqlite/federations';
export { SqliteArtifactStore } from './sqlite/artifacts';
export { SqliteRoundStore } from './sqlite/rounds';
export { SqliteStudentStore } from './sqlite/students';
export { SqliteEvaluationSetStore } from './sqlite/evaluation-sets';
export { SqliteAccessTokenBook } from './sqlite/access-tokens';
export { type Migration, COORDINATOR_MIGRATIONS, migrate } from './sqlite/migrations';
export { openSqliteCoordinatorStore } from './sqlite/store';
export { openPostgresCoordinatorStore, type PostgresStoreOptions } from './postgres/store';
export { POSTGRES_MIGRATIONS } from './postgres/migrations';
