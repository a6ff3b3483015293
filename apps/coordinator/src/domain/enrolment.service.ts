import {
  assertSiteName,
  generateEnrolmentToken,
  hashEnrolmentToken,
  isWellFormedToken,
  verifyEnrolmentProof,
} from '@fedistill/identity';
import type { CoordinatorStore, RedeemRefusal, SiteRecord } from '@fedistill/store';
import { AuthenticationError, ConflictError, PermissionError, RequestInvalidError } from './errors';
import type { Transcript } from './transcript';

export interface IssuedToken {
  readonly token: string;
  readonly site: string;
  readonly expiresAt: number;
}

export interface EnrolmentInput {
  readonly token: string;
  readonly siteName: string;
  readonly signingPublicKey: Uint8Array;
  readonly boxPublicKey: Uint8Array;
  readonly proof: Uint8Array;
}

const REFUSALS: Readonly<Record<RedeemRefusal, () => Error>> = {
  'unknown-token': () =>
    new AuthenticationError('enrolment token is unknown (forged, mistyped or from another coordinator)'),
  'expired-token': () =>
    new AuthenticationError('enrolment token has expired: ask the operator for a new one'),
  'used-token': () => new AuthenticationError('enrolment token was already used: tokens are one-time'),
  'wrong-site': () => new PermissionError('enrolment token was issued for another site name'),
  'site-exists': () => new ConflictError('a site with this name is already enrolled'),
  'key-in-use': () => new ConflictError('this signing key already belongs to an enrolled site'),
};

/** Issues one-time enrolment tokens and redeems them into enrolled sites. */
export class EnrolmentService {
  constructor(
    private readonly store: CoordinatorStore,
    private readonly ttl: { readonly defaultMs: number; readonly maxMs: number },
    private readonly transcript: Transcript,
    private readonly now: () => number = Date.now,
  ) {}

  async issueToken(site: string, ttlMs: number = this.ttl.defaultMs): Promise<IssuedToken> {
    try {
      assertSiteName(site);
    } catch (err) {
      throw new RequestInvalidError((err as Error).message);
    }
    if (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > this.ttl.maxMs) {
      throw new RequestInvalidError(`ttl must be between 1 ms and ${this.ttl.maxMs / 3_600_000} h`);
    }
    const token = generateEnrolmentToken();
    const createdAt = this.now();
    await this.store.enrolments.issue({
      tokenHash: hashEnrolmentToken(token),
      siteName: site,
      createdAt,
      expiresAt: createdAt + ttlMs,
    });
    const expiresAt = new Date(createdAt + ttlMs).toISOString();
    // The token itself never enters the transcript: only for whom and until when.
    await this.transcript.append({
      event: 'admin',
      peer: site,
      detail: `enrolment token issued, expires ${expiresAt}`,
    });
    return { token, site, expiresAt: createdAt + ttlMs };
  }

  async enroll(input: EnrolmentInput): Promise<SiteRecord> {
    if (!isWellFormedToken(input.token)) throw new AuthenticationError('enrolment token is malformed');
    try {
      assertSiteName(input.siteName);
    } catch (err) {
      throw new RequestInvalidError((err as Error).message);
    }
    if (
      !verifyEnrolmentProof(
        input.token,
        input.siteName,
        input.signingPublicKey,
        input.boxPublicKey,
        input.proof,
      )
    ) {
      throw new RequestInvalidError('proof of key possession does not verify for this token, site and keys');
    }
    const outcome = await this.store.enrolments.redeem({
      tokenHash: hashEnrolmentToken(input.token),
      siteName: input.siteName,
      signingPublicKey: input.signingPublicKey,
      boxPublicKey: input.boxPublicKey,
      now: this.now(),
    });
    if (!outcome.ok) throw REFUSALS[outcome.reason]();
    await this.transcript.append({
      event: 'enrolment',
      peer: outcome.site.name,
      detail: JSON.stringify({
        signingPublicKey: Buffer.from(outcome.site.signingPublicKey).toString('hex'),
        boxPublicKey: Buffer.from(outcome.site.boxPublicKey).toString('hex'),
      }),
    });
    return outcome.site;
  }
}
