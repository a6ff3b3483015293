import type { Pool } from 'pg';
import {
  FederationExistsError,
  type FederationRecord,
  type FederationRegistry,
  UnknownFederationError,
  UnknownSiteError,
} from '../ports';
import { inTransaction, num, type Row } from './support';

/** Federations and their member sites in PostgreSQL (see FederationRegistry). */
export class PgFederationRegistry implements FederationRegistry {
  constructor(private readonly pool: Pool) {}

  async create(f: FederationRecord): Promise<void> {
    const res = await this.pool.query(
      'INSERT INTO federations (id, spec, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [f.id, JSON.stringify(f.spec), f.createdAt],
    );
    if (res.rowCount !== 1) throw new FederationExistsError(f.id);
  }

  async get(id: string): Promise<FederationRecord | undefined> {
    const row = (await this.pool.query('SELECT * FROM federations WHERE id = $1', [id])).rows[0] as
      Row | undefined;
    return row && { id: String(row.id), spec: row.spec, createdAt: num(row.created_at) };
  }

  async list(): Promise<FederationRecord[]> {
    return (await this.pool.query('SELECT * FROM federations ORDER BY id')).rows.map((r: Row) => ({
      id: String(r.id),
      spec: r.spec,
      createdAt: num(r.created_at),
    }));
  }

  addMember(federationId: string, site: string, at: number): Promise<void> {
    return inTransaction(this.pool, async (c) => {
      if (!(await c.query('SELECT 1 FROM federations WHERE id = $1', [federationId])).rowCount)
        throw new UnknownFederationError(federationId);
      if (!(await c.query('SELECT 1 FROM sites WHERE name = $1', [site])).rowCount)
        throw new UnknownSiteError(site);
      await c.query(
        'INSERT INTO federation_members (federation_id, site_name, joined_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [federationId, site, at],
      );
    });
  }

  async members(federationId: string): Promise<string[]> {
    const res = await this.pool.query(
      'SELECT site_name FROM federation_members WHERE federation_id = $1 ORDER BY site_name',
      [federationId],
    );
    return res.rows.map((r: Row) => String(r.site_name));
  }

  async federationsOf(site: string): Promise<string[]> {
    const res = await this.pool.query(
      'SELECT federation_id FROM federation_members WHERE site_name = $1 ORDER BY federation_id',
      [site],
    );
    return res.rows.map((r: Row) => String(r.federation_id));
  }
}
