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
