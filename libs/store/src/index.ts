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
} from './ports';
export { SqliteStudentStore, SqliteEvaluationSetStore } from './sqlite/sqlite-students';
export { SqliteRoundStore } from './sqlite/sqlite-rounds';
export { SqliteFederationRegistry, SqliteArtifactStore } from './sqlite/sqlite-federations';
export { type Migration, COORDINATOR_MIGRATIONS, migrate } from './sqlite/migrations';
export {
  SqliteSiteRegistry,
  SqliteEnrolmentBook,
  SqliteReplayGuard,
  openSqliteCoordinatorStore,
} from './sqlite/sqlite-store';
export { openPostgresCoordinatorStore, type PostgresStoreOptions } from './postgres/pg-store';
export { POSTGRES_MIGRATIONS } from './postgres/pg-migrations';
