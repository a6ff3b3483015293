import type { Pool } from 'pg';
import { SiteAlreadyRevokedError, type SiteRecord, type SiteRegistry, UnknownSiteError } from '../ports';
import { inTransaction, num, numOrNull, type Row } from './support';

export const toSite = (r: Row): SiteRecord => ({
  name: String(r.name),
  signingPublicKey: new Uint8Array(r.signing_public_key as Buffer),
  boxPublicKey: new Uint8Array(r.box_public_key as Buffer),
  enrolledAt: num(r.enrolled_at),
  lastSeenAt: numOrNull(r.last_seen_at),
  revokedAt: numOrNull(r.revoked_at),
  revokedReason: r.revoked_reason === null ? null : String(r.revoked_reason),
});

/** Enrolled sites in PostgreSQL (see SiteRegistry). */
export class PgSiteRegistry implements SiteRegistry {
  constructor(private readonly pool: Pool) {}

  async get(name: string): Promise<SiteRecord | undefined> {
    const res = await this.pool.query('SELECT * FROM sites WHERE name = $1', [name]);
    return res.rows[0] ? toSite(res.rows[0] as Row) : undefined;
  }

  async list(): Promise<SiteRecord[]> {
    return (await this.pool.query('SELECT * FROM sites ORDER BY name')).rows.map((r) => toSite(r as Row));
  }

  async recordSeen(name: string, at: number): Promise<void> {
    await this.pool.query(
      'UPDATE sites SET last_seen_at = GREATEST(COALESCE(last_seen_at, 0), $1) WHERE name = $2',
      [at, name],
    );
  }

  revoke(name: string, at: number, reason: string): Promise<SiteRecord> {
    return inTransaction(this.pool, async (c) => {
      const row = (await c.query('SELECT * FROM sites WHERE name = $1 FOR UPDATE', [name])).rows[0] as
        Row | undefined;
      if (!row) throw new UnknownSiteError(name);
      if (row.revoked_at !== null) throw new SiteAlreadyRevokedError(name);
      await c.query('UPDATE sites SET revoked_at = $1, revoked_reason = $2 WHERE name = $3', [
        at,
        reason,
        name,
      ]);
      return toSite({ ...row, revoked_at: at, revoked_reason: reason });
    });
  }
}
