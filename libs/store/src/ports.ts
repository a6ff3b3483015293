/**
 * Persistence ports of the coordinator, named after the domain. Adapters are named after the
 * technology (SqliteSiteRegistry, later PostgresSiteRegistry) and each passes the contract suite
 * in ./contracts. All methods are async so that a networked database fits the same ports.
 */

/** An enrolled site as the coordinator knows it. Times are Unix milliseconds. */
export interface SiteRecord {
  readonly name: string;
  /** Ed25519, 32 bytes: verifies the site's RPC signatures and log entries. */
  readonly signingPublicKey: Uint8Array;
  /** X25519, 32 bytes. */
  readonly boxPublicKey: Uint8Array;
  readonly enrolledAt: number;
  readonly lastSeenAt: number | null;
  readonly revokedAt: number | null;
  readonly revokedReason: string | null;
}

/** Enrolled sites. */
export interface SiteRegistry {
  get(name: string): Promise<SiteRecord | undefined>;
  /** All sites, ordered by name. */
  list(): Promise<SiteRecord[]>;
  /** Records an authenticated call from the site (used for online/offline). */
  recordSeen(name: string, at: number): Promise<void>;
  /** Revokes the site; throws UnknownSiteError or SiteAlreadyRevokedError. */
  revoke(name: string, at: number, reason: string): Promise<SiteRecord>;
}

/** A one-time enrolment token, stored only as its SHA-256. */
export interface EnrolmentTokenRecord {
  readonly tokenHash: string;
  readonly siteName: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface RedeemRequest {
  readonly tokenHash: string;
  readonly siteName: string;
  readonly signingPublicKey: Uint8Array;
  readonly boxPublicKey: Uint8Array;
  readonly now: number;
}

/** Why a token could not be redeemed. */
export type RedeemRefusal =
  'unknown-token' | 'expired-token' | 'used-token' | 'wrong-site' | 'site-exists' | 'key-in-use';

export type RedeemOutcome =
  { readonly ok: true; readonly site: SiteRecord } | { readonly ok: false; readonly reason: RedeemRefusal };

/** Enrolment tokens and their redemption into sites. */
export interface EnrolmentBook {
  /** Stores a new token; throws SiteAlreadyEnrolledError when the site is enrolled. */
  issue(token: EnrolmentTokenRecord): Promise<void>;
  /**
   * Atomically checks the token, marks it used and enrols the site: either all of it happens
   * or nothing does.
   */
  redeem(request: RedeemRequest): Promise<RedeemOutcome>;
}

/** Remembers request nonces so that a signed request is accepted at most once. */
export interface ReplayGuard {
  /**
   * Records (site, nonce); false when it was seen before. Forgets nonces older than
   * `now - windowMs`: requests that old are refused by their timestamp anyway.
   */
  admit(site: string, nonce: string, timestamp: number, now: number, windowMs: number): Promise<boolean>;
}

/** A federation: its definition is kept as the validated JSON the operator gave. */
export interface FederationRecord {
  readonly id: string;
  /** The federation's definition (validated by the coordinator before it is stored). */
  readonly spec: unknown;
  readonly createdAt: number;
}

/** Federations and which sites take part in each. */
export interface FederationRegistry {
  /** Throws FederationExistsError when the id is taken. */
  create(record: FederationRecord): Promise<void>;
  get(id: string): Promise<FederationRecord | undefined>;
  /** All federations, ordered by id. */
  list(): Promise<FederationRecord[]>;
  /** Adds an enrolled site; idempotent. Throws UnknownSiteError / UnknownFederationError. */
  addMember(federationId: string, site: string, at: number): Promise<void>;
  /** Member sites, ordered by name. */
  members(federationId: string): Promise<string[]>;
  /** Federations the site belongs to, ordered by id. */
  federationsOf(site: string): Promise<string[]>;
}

/** A content-addressed file kept in chunks (reference sets, published students). */
export interface ArtifactRecord {
  /** SHA-256 of the whole file, hex. */
  readonly sha256: string;
  readonly kind: 'reference-set' | 'student' | 'evaluation-set';
  readonly totalBytes: number;
  readonly chunkBytes: number;
  /** SHA-256 of each chunk, hex, in order. */
  readonly chunkSha256: readonly string[];
  readonly createdAt: number;
}

/** Content-addressed artifacts. */
export interface ArtifactStore {
  /** Stores the bytes (idempotent: the same content returns the existing record). */
  put(
    kind: ArtifactRecord['kind'],
    bytes: Uint8Array,
    chunkBytes: number,
    at: number,
  ): Promise<ArtifactRecord>;
  get(sha256: string): Promise<ArtifactRecord | undefined>;
  /** One chunk's bytes; undefined for an unknown artifact or index. */
  chunk(sha256: string, index: number): Promise<Uint8Array | undefined>;
}

/** One round of a federation as the round engine persists it after every transition. */
export interface RoundRecord {
  readonly federationId: string;
  readonly round: number;
  readonly status: 'open' | 'completed' | 'abandoned';
  /** The secure-aggregation stage (keys, shares, inputs, unmask, done, abandoned). */
  readonly stage: string;
  /** The engine's whole state as JSON text (configuration, the coordinator state machine, stage outputs). */
  readonly engine: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Rounds, written after every stage transition so a restarted coordinator resumes them. */
export interface RoundStore {
  /** Throws RoundExistsError when the federation already has this round number. */
  create(record: RoundRecord): Promise<void>;
  /** Replaces the stored record of (federationId, round). */
  save(record: RoundRecord): Promise<void>;
  get(federationId: string, round: number): Promise<RoundRecord | undefined>;
  /** The federation's rounds, oldest first. */
  list(federationId: string): Promise<RoundRecord[]>;
  /** Every open round of every federation. */
  open(): Promise<RoundRecord[]>;
}

export class RoundExistsError extends Error {
  override readonly name = 'RoundExistsError';
  constructor(
    readonly federation: string,
    readonly round: number,
  ) {
    super(`federation '${federation}' already has round ${round}`);
  }
}

/** A published student: its ONNX file is the artifact `sha256`. */
export interface StudentRecord {
  readonly federationId: string;
  /** 1, 2, ... per federation. */
  readonly version: number;
  /** SHA-256 of the student ONNX (an artifact of kind 'student'), hex. */
  readonly sha256: string;
  /** The rounds whose targets the student was distilled from, ascending. */
  readonly rounds: readonly number[];
  /** The model card (JSON value). */
  readonly modelCard: unknown;
  readonly createdAt: number;
}

/** Published students, versioned per federation. */
export interface StudentStore {
  /** Throws StudentExistsError when the federation already has this version. */
  create(record: StudentRecord): Promise<void>;
  get(federationId: string, version: number): Promise<StudentRecord | undefined>;
  /** The highest version, if any. */
  latest(federationId: string): Promise<StudentRecord | undefined>;
  /** The federation's students, oldest first. */
  list(federationId: string): Promise<StudentRecord[]>;
}

/** A federation's labelled evaluation set (kept by the coordinator, never served to sites). */
export interface EvaluationSetRecord {
  readonly federationId: string;
  /** SHA-256 of the inputs NPY and of the labels NPY (artifacts of kind 'evaluation-set'), hex. */
  readonly inputsSha256: string;
  readonly labelsSha256: string;
  readonly rows: number;
  readonly createdAt: number;
}

/** At most one evaluation set per federation; registering another replaces it. */
export interface EvaluationSetStore {
  put(record: EvaluationSetRecord): Promise<void>;
  get(federationId: string): Promise<EvaluationSetRecord | undefined>;
}

export class StudentExistsError extends Error {
  override readonly name = 'StudentExistsError';
  constructor(
    readonly federation: string,
    readonly version: number,
  ) {
    super(`federation '${federation}' already has student version ${version}`);
  }
}

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
  /** Releases the database handle or connection pool. */
  close(): void | Promise<void>;
}

export class UnknownFederationError extends Error {
  override readonly name = 'UnknownFederationError';
  constructor(readonly federation: string) {
    super(`federation '${federation}' does not exist`);
  }
}

export class FederationExistsError extends Error {
  override readonly name = 'FederationExistsError';
  constructor(readonly federation: string) {
    super(`federation '${federation}' already exists`);
  }
}

export class UnknownSiteError extends Error {
  override readonly name = 'UnknownSiteError';
  constructor(readonly site: string) {
    super(`site '${site}' is not enrolled`);
  }
}

export class SiteAlreadyRevokedError extends Error {
  override readonly name = 'SiteAlreadyRevokedError';
  constructor(readonly site: string) {
    super(`site '${site}' is already revoked`);
  }
}

export class SiteAlreadyEnrolledError extends Error {
  override readonly name = 'SiteAlreadyEnrolledError';
  constructor(readonly site: string) {
    super(`site '${site}' is already enrolled`);
  }
}
