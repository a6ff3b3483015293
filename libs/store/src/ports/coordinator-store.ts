import type { AccessTokenBook } from './access-tokens';
import type { ArtifactStore } from './artifacts';
import type { EnrolmentBook } from './enrolment';
import type { EvaluationSetStore } from './evaluation-sets';
import type { FederationRegistry } from './federations';
import type { ReplayGuard } from './replay-guard';
import type { RoundStore } from './rounds';
import type { SiteRegistry } from './sites';
import type { StudentStore } from './students';

/** Everything the coordinator persists, with one owner of the database handle. */
export interface CoordinatorStore {
  readonly sites: SiteRegistry;
  readonly enrolments: EnrolmentBook;
  readonly replayGuard: ReplayGuard;
  readonly federations: FederationRegistry;
  readonly artifacts: ArtifactStore;
  readonly rounds: RoundStore;
  readonly students: StudentStore;
  readonly evaluationSets: EvaluationSetStore;
  /** Named bearer tokens of the admin API (operator, auditor). */
  readonly accessTokens: AccessTokenBook;
  /** Releases the database handle or connection pool. */
  close(): void | Promise<void>;
}
