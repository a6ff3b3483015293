/** The roles of the admin API: an operator may change state, an auditor only reads. */
export const ACCESS_ROLES = ['operator', 'auditor'] as const;
export type AccessRole = (typeof ACCESS_ROLES)[number];

/**
 * A named bearer token of the admin API, stored only as the SHA-256 of its secret. Names are
 * unique for ever (a revoked name is not reused), so a name in the transcript means one token.
 */
export interface AccessTokenRecord {
  readonly name: string;
  readonly role: AccessRole;
  /** SHA-256 of the secret, lower-case hex. */
  readonly tokenHash: string;
  /** Who created it (a token name, or "config:operator" for the configured operator token). */
  readonly createdBy: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
}

/** Access tokens of the admin API. */
export interface AccessTokenBook {
  /** Stores a new token; throws AccessTokenExistsError when the name was ever used. */
  create(token: Omit<AccessTokenRecord, 'revokedAt'>): Promise<void>;
  /** The token with this hash, revoked and expired ones included (the caller decides). */
  findByHash(tokenHash: string): Promise<AccessTokenRecord | undefined>;
  /** Every token, oldest first. */
  list(): Promise<AccessTokenRecord[]>;
  /**
   * Marks the token revoked at `at` and returns it; throws UnknownAccessTokenError or
   * AccessTokenAlreadyRevokedError (and changes nothing) otherwise.
   */
  revoke(name: string, at: number): Promise<AccessTokenRecord>;
}

export class AccessTokenExistsError extends Error {
  override readonly name = 'AccessTokenExistsError';
  constructor(readonly tokenName: string) {
    super(`access token '${tokenName}' already exists (names are never reused, even after revocation)`);
  }
}

export class UnknownAccessTokenError extends Error {
  override readonly name = 'UnknownAccessTokenError';
  constructor(readonly tokenName: string) {
    super(`access token '${tokenName}' does not exist`);
  }
}

export class AccessTokenAlreadyRevokedError extends Error {
  override readonly name = 'AccessTokenAlreadyRevokedError';
  constructor(readonly tokenName: string) {
    super(`access token '${tokenName}' is already revoked`);
  }
}
