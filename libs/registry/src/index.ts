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
} from './ports';
export { type Migration, COORDINATOR_MIGRATIONS, migrate } from './sqlite/migrations';
export {
  SqliteSiteRegistry,
  SqliteEnrolmentBook,
  SqliteReplayGuard,
  openSqliteCoordinatorStore,
} from './sqlite/sqlite-store';
