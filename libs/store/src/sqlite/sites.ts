import type Database from 'better-sqlite3';
import { SiteAlreadyRevokedError, type SiteRecord, type SiteRegistry, UnknownSiteError } from '../ports';

/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the ports are async for networked adapters. */

/** A row of the `sites` table. */
export interface SiteRow {
  name: string;
  signing_public_key: Buffer;
  box_public_key: Buffer;
  enrolled_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
  revoked_reason: string | null;
}

export const toSite = (row: SiteRow): SiteRecord => ({
  name: row.name,
  signingPublicKey: new Uint8Array(row.signing_public_key),
  boxPublicKey: new Uint8Array(row.box_public_key),
  enrolledAt: row.enrolled_at,
  lastSeenAt: row.last_seen_at,
  revokedAt: row.revoked_at,
  revokedReason: row.revoked_reason,
});

/** Enrolled sites in SQLite (see SiteRegistry). */
export class SqliteSiteRegistry implements SiteRegistry {
  constructor(private readonly db: Database.Database) {}

  async get(name: string): Promise<SiteRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM sites WHERE name = ?').get(name) as SiteRow | undefined;
    return row && toSite(row);
  }

  async list(): Promise<SiteRecord[]> {
    return (this.db.prepare('SELECT * FROM sites ORDER BY name').all() as SiteRow[]).map(toSite);
  }

  async recordSeen(name: string, at: number): Promise<void> {
    this.db
      .prepare('UPDATE sites SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) WHERE name = ?')
      .run(at, name);
  }

  async revoke(name: string, at: number, reason: string): Promise<SiteRecord> {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT * FROM sites WHERE name = ?').get(name) as SiteRow | undefined;
      if (!row) throw new UnknownSiteError(name);
      if (row.revoked_at !== null) throw new SiteAlreadyRevokedError(name);
      this.db
        .prepare('UPDATE sites SET revoked_at = ?, revoked_reason = ? WHERE name = ?')
        .run(at, reason, name);
      return toSite({ ...row, revoked_at: at, revoked_reason: reason });
    })();
  }
}
