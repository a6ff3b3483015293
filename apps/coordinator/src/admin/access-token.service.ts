import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseDuration } from '@fedistill/identity';
import type { AccessRole, AccessTokenBook, AccessTokenRecord } from '@fedistill/store';
import { RequestInvalidError } from '../domain/errors';
import type { Transcript } from '../domain/transcript';
import type { AdminCaller } from './caller';

/** Prefix of access token secrets (so secret scanners and people recognise them). */
export const ACCESS_TOKEN_PREFIX = 'fdat_';

export interface AccessTokenView {
  readonly name: string;
  readonly role: AccessRole;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  readonly state: 'active' | 'expired' | 'revoked';
}

/** A new token: `token` is the secret, returned once and never stored. */
export interface IssuedAccessToken {
  readonly name: string;
  readonly role: AccessRole;
  readonly token: string;
  readonly expiresAt: string;
}

export type Authentication =
  { readonly ok: true; readonly caller: AdminCaller } | { readonly ok: false; readonly reason: string };

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
const iso = (ms: number) => new Date(ms).toISOString();

/** Creates, lists, revokes and checks the admin API's named access tokens. */
export class AccessTokenService {
  constructor(
    private readonly book: AccessTokenBook,
    private readonly transcript: Transcript,
    private readonly ttl: { readonly defaultMs: number; readonly maxMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  private view(t: AccessTokenRecord): AccessTokenView {
    const state = t.revokedAt !== null ? 'revoked' : t.expiresAt <= this.now() ? 'expired' : 'active';
    return {
      name: t.name,
      role: t.role,
      createdBy: t.createdBy,
      createdAt: iso(t.createdAt),
      expiresAt: iso(t.expiresAt),
      revokedAt: t.revokedAt === null ? null : iso(t.revokedAt),
      state,
    };
  }

  private ttlMs(ttl: string | undefined): number {
    if (ttl === undefined) return this.ttl.defaultMs;
    let ms: number;
    try {
      ms = parseDuration(ttl);
    } catch (err) {
      throw new RequestInvalidError(`ttl: ${(err as Error).message}`);
    }
    if (!(ms > 0) || ms > this.ttl.maxMs)
      throw new RequestInvalidError(
        `ttl: must be more than 0 and at most admin.accessTokens.maxTtl (${this.ttl.maxMs / 86_400_000} days)`,
      );
    return ms;
  }

  /** Issues a token (name unique for ever); the transcript records who created it, never the secret. */
  async create(
    input: { readonly name: string; readonly role: AccessRole; readonly ttl?: string },
    by: AdminCaller,
  ): Promise<IssuedAccessToken> {
    const ttlMs = this.ttlMs(input.ttl);
    const token = `${ACCESS_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const createdAt = this.now();
    await this.book.create({
      name: input.name,
      role: input.role,
      tokenHash: sha256(token).toString('hex'),
      createdBy: by.name,
      createdAt,
      expiresAt: createdAt + ttlMs,
    });
    await this.transcript.append({
      event: 'admin',
      peer: input.name,
      detail: `access token created: role ${input.role}, expires ${iso(createdAt + ttlMs)}, by ${by.name}`,
    });
    return { name: input.name, role: input.role, token, expiresAt: iso(createdAt + ttlMs) };
  }

  async list(): Promise<AccessTokenView[]> {
    return (await this.book.list()).map((t) => this.view(t));
  }

  async revoke(name: string, by: AdminCaller, reason?: string): Promise<AccessTokenView> {
    const revoked = await this.book.revoke(name, this.now());
    await this.transcript.append({
      event: 'admin',
      peer: name,
      detail: `access token revoked by ${by.name}${reason ? `: ${reason}` : ''}`,
    });
    return this.view(revoked);
  }

  /**
   * Finds the token whose SHA-256 matches `secret`. The lookup is keyed by the hash of a 256-bit
   * secret, so its timing reveals nothing about the secret; the final comparison is constant-time.
   */
  async authenticate(secret: string): Promise<Authentication> {
    const digest = sha256(secret);
    const found = await this.book.findByHash(digest.toString('hex'));
    if (!found || !timingSafeEqual(Buffer.from(found.tokenHash, 'hex'), digest))
      return { ok: false, reason: 'unknown access token' };
    if (found.revokedAt !== null)
      return { ok: false, reason: `access token '${found.name}' was revoked at ${iso(found.revokedAt)}` };
    if (found.expiresAt <= this.now())
      return { ok: false, reason: `access token '${found.name}' expired at ${iso(found.expiresAt)}` };
    return { ok: true, caller: { name: found.name, role: found.role, expiresAt: iso(found.expiresAt) } };
  }
}
