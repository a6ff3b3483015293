import type { Pool } from 'pg';
import {
  type EnrolmentBook,
  type EnrolmentTokenRecord,
  type RedeemOutcome,
  type RedeemRequest,
  SiteAlreadyEnrolledError,
} from '../ports';
import { toSite } from './sites';
import { inTransaction, num, type Row } from './support';

/** Enrolment tokens and their redemption into sites, in PostgreSQL (see EnrolmentBook). */
export class PgEnrolmentBook implements EnrolmentBook {
  constructor(private readonly pool: Pool) {}

  issue(t: EnrolmentTokenRecord): Promise<void> {
    return inTransaction(this.pool, async (c) => {
      if ((await c.query('SELECT 1 FROM sites WHERE name = $1', [t.siteName])).rowCount)
        throw new SiteAlreadyEnrolledError(t.siteName);
      await c.query(
        'INSERT INTO enrolment_tokens (token_hash, site_name, created_at, expires_at) VALUES ($1, $2, $3, $4)',
        [t.tokenHash, t.siteName, t.createdAt, t.expiresAt],
      );
    });
  }

  redeem(r: RedeemRequest): Promise<RedeemOutcome> {
    return inTransaction(this.pool, async (c): Promise<RedeemOutcome> => {
      // FOR UPDATE: two nodes racing with the same token serialize here; only one can use it.
      const token = (
        await c.query('SELECT * FROM enrolment_tokens WHERE token_hash = $1 FOR UPDATE', [r.tokenHash])
      ).rows[0] as Row | undefined;
      if (!token) return { ok: false, reason: 'unknown-token' };
      if (token.used_at !== null) return { ok: false, reason: 'used-token' };
      if (num(token.expires_at) <= r.now) return { ok: false, reason: 'expired-token' };
      if (token.site_name !== r.siteName) return { ok: false, reason: 'wrong-site' };
      if ((await c.query('SELECT 1 FROM sites WHERE name = $1', [r.siteName])).rowCount)
        return { ok: false, reason: 'site-exists' };
      const key = Buffer.from(r.signingPublicKey);
      if ((await c.query('SELECT 1 FROM sites WHERE signing_public_key = $1', [key])).rowCount)
        return { ok: false, reason: 'key-in-use' };
      await c.query('UPDATE enrolment_tokens SET used_at = $1 WHERE token_hash = $2', [r.now, r.tokenHash]);
      const row = (
        await c.query(
          'INSERT INTO sites (name, signing_public_key, box_public_key, enrolled_at) VALUES ($1, $2, $3, $4) RETURNING *',
          [r.siteName, key, Buffer.from(r.boxPublicKey), r.now],
        )
      ).rows[0] as Row;
      return { ok: true, site: toSite(row) };
    });
  }
}
