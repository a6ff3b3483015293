import type { Pool } from 'pg';
import {
  AccessTokenAlreadyRevokedError,
  type AccessTokenBook,
  AccessTokenExistsError,
  type AccessTokenRecord,
  type AccessRole,
  UnknownAccessTokenError,
} from '../ports';
import { inTransaction, num, numOrNull, type Row } from './support';

const toRecord = (r: Row): AccessTokenRecord => ({
  name: String(r.name),
  role: String(r.role) as AccessRole,
  tokenHash: String(r.token_hash),
  createdBy: String(r.created_by),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  revokedAt: numOrNull(r.revoked_at),
});

/** Admin API access tokens in PostgreSQL (see AccessTokenBook). */
export class PgAccessTokenBook implements AccessTokenBook {
  constructor(private readonly pool: Pool) {}

  async create(t: Omit<AccessTokenRecord, 'revokedAt'>): Promise<void> {
    // ON CONFLICT: two creations of one name racing end with one row and one error.
    const res = await this.pool.query(
      `INSERT INTO access_tokens (name, role, token_hash, created_by, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING`,
      [t.name, t.role, t.tokenHash, t.createdBy, t.createdAt, t.expiresAt],
    );
    if (res.rowCount === 0) throw new AccessTokenExistsError(t.name);
  }

  async findByHash(tokenHash: string): Promise<AccessTokenRecord | undefined> {
    const r = (await this.pool.query('SELECT * FROM access_tokens WHERE token_hash = $1', [tokenHash]))
      .rows[0] as Row | undefined;
    return r && toRecord(r);
  }

  async list(): Promise<AccessTokenRecord[]> {
    const res = await this.pool.query('SELECT * FROM access_tokens ORDER BY created_at, name');
    return (res.rows as Row[]).map(toRecord);
  }

  revoke(name: string, at: number): Promise<AccessTokenRecord> {
    return inTransaction(this.pool, async (c) => {
      const r = (await c.query('SELECT * FROM access_tokens WHERE name = $1 FOR UPDATE', [name])).rows[0] as
        Row | undefined;
      if (!r) throw new UnknownAccessTokenError(name);
      if (r.revoked_at !== null) throw new AccessTokenAlreadyRevokedError(name);
      await c.query('UPDATE access_tokens SET revoked_at = $1 WHERE name = $2', [at, name]);
      return toRecord({ ...r, revoked_at: at });
    });
  }
}
