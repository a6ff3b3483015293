import type { SiteRecord } from './sites';

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
