/**
 * Persistence ports of the coordinator, named after the domain, one file per aggregate. Adapters
 * are named after the technology (SqliteSiteRegistry, PgSiteRegistry), one file per aggregate in
 * ../sqlite and ../postgres, and each passes the contract suite in ../contracts. All methods are
 * async so that a networked database fits the same ports.
 */
export {
  ACCESS_ROLES,
  AccessTokenAlreadyRevokedError,
  type AccessTokenBook,
  AccessTokenExistsError,
  type AccessTokenRecord,
  type AccessRole,
  UnknownAccessTokenError,
} from './access-tokens';
export type { ArtifactRecord, ArtifactStore } from './artifacts';
export type {
  EnrolmentBook,
  EnrolmentTokenRecord,
  RedeemOutcome,
  RedeemRefusal,
  RedeemRequest,
} from './enrolment';
export type { EvaluationSetRecord, EvaluationSetStore } from './evaluation-sets';
export {
  FederationExistsError,
  type FederationRecord,
  type FederationRegistry,
  UnknownFederationError,
} from './federations';
export type { ReplayGuard } from './replay-guard';
export { RoundExistsError, type RoundRecord, type RoundStore } from './rounds';
export {
  SiteAlreadyEnrolledError,
  SiteAlreadyRevokedError,
  type SiteRecord,
  type SiteRegistry,
  UnknownSiteError,
} from './sites';
export { StudentExistsError, type StudentRecord, type StudentStore } from './students';

export type { CoordinatorStore } from './coordinator-store';
