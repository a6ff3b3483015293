import type Database from 'better-sqlite3';
import {
  AccessTokenAlreadyRevokedError,
  type AccessTokenBook,
  AccessTokenExistsError,
  type AccessTokenRecord,
  type AccessRole,
  UnknownAccessTokenError,
} from '../ports';

/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the port is async. */

interface AccessTokenRow {
  name: string;
  role: string;
  token_hash: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

const toRecord = (r: AccessTokenRow): AccessTokenRecord => ({
  name: r.name,
  role: r.role as AccessRole,
  tokenHash: r.token_hash,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
});

/** Admin API access tokens in SQLite (see AccessTokenBook). */
export class SqliteAccessTokenBook implements AccessTokenBook {
  constructor(private readonly db: Database.Database) {}

  async create(t: Omit<AccessTokenRecord, 'revokedAt'>): Promise<void> {
    this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM access_tokens WHERE name = ?').get(t.name))
        throw new AccessTokenExistsError(t.name);
      this.db
        .prepare(
          `INSERT INTO access_tokens (name, role, token_hash, created_by, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        .run(t.name, t.role, t.tokenHash, t.createdBy, t.createdAt, t.expiresAt);
    })();
  }

  async findByHash(tokenHash: string): Promise<AccessTokenRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM access_tokens WHERE token_hash = ?').get(tokenHash) as
      AccessTokenRow | undefined;
    return r && toRecord(r);
  }

  async list(): Promise<AccessTokenRecord[]> {
    const rows = this.db.prepare('SELECT * FROM access_tokens ORDER BY created_at, name').all();
    return (rows as AccessTokenRow[]).map(toRecord);
  }

  async revoke(name: string, at: number): Promise<AccessTokenRecord> {
    return this.db.transaction(() => {
      const r = this.db.prepare('SELECT * FROM access_tokens WHERE name = ?').get(name) as
        AccessTokenRow | undefined;
      if (!r) throw new UnknownAccessTokenError(name);
      if (r.revoked_at !== null) throw new AccessTokenAlreadyRevokedError(name);
      this.db.prepare('UPDATE access_tokens SET revoked_at = ? WHERE name = ?').run(at, name);
      return toRecord({ ...r, revoked_at: at });
    })();
  }
}
