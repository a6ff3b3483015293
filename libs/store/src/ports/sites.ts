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
