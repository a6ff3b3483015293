import type Database from 'better-sqlite3';
import {
  type EnrolmentBook,
  type EnrolmentTokenRecord,
  type RedeemOutcome,
  type RedeemRequest,
  SiteAlreadyEnrolledError,
} from '../ports';
import { type SiteRow, toSite } from './sites';

/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the ports are async for networked adapters. */

/** Enrolment tokens and their redemption into sites, in SQLite (see EnrolmentBook). */
export class SqliteEnrolmentBook implements EnrolmentBook {
  constructor(private readonly db: Database.Database) {}

  async issue(token: EnrolmentTokenRecord): Promise<void> {
    this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM sites WHERE name = ?').get(token.siteName)) {
        throw new SiteAlreadyEnrolledError(token.siteName);
      }
      this.db
        .prepare(
          'INSERT INTO enrolment_tokens (token_hash, site_name, created_at, expires_at) VALUES (?, ?, ?, ?)',
        )
        .run(token.tokenHash, token.siteName, token.createdAt, token.expiresAt);
    })();
  }

  async redeem(request: RedeemRequest): Promise<RedeemOutcome> {
    return this.db.transaction((): RedeemOutcome => {
      const token = this.db
        .prepare('SELECT * FROM enrolment_tokens WHERE token_hash = ?')
        .get(request.tokenHash) as
        { site_name: string; expires_at: number; used_at: number | null } | undefined;
      if (!token) return { ok: false, reason: 'unknown-token' };
      if (token.used_at !== null) return { ok: false, reason: 'used-token' };
      if (token.expires_at <= request.now) return { ok: false, reason: 'expired-token' };
      if (token.site_name !== request.siteName) return { ok: false, reason: 'wrong-site' };
      if (this.db.prepare('SELECT 1 FROM sites WHERE name = ?').get(request.siteName))
        return { ok: false, reason: 'site-exists' };
      const signingKey = Buffer.from(request.signingPublicKey);
      if (this.db.prepare('SELECT 1 FROM sites WHERE signing_public_key = ?').get(signingKey)) {
        return { ok: false, reason: 'key-in-use' };
      }
      this.db
        .prepare('UPDATE enrolment_tokens SET used_at = ? WHERE token_hash = ?')
        .run(request.now, request.tokenHash);
      this.db
        .prepare(
          'INSERT INTO sites (name, signing_public_key, box_public_key, enrolled_at) VALUES (?, ?, ?, ?)',
        )
        .run(request.siteName, signingKey, Buffer.from(request.boxPublicKey), request.now);
      const row = this.db.prepare('SELECT * FROM sites WHERE name = ?').get(request.siteName) as SiteRow;
      return { ok: true, site: toSite(row) };
    })();
  }
}
