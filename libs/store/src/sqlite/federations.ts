import type Database from 'better-sqlite3';
import {
  FederationExistsError,
  type FederationRecord,
  type FederationRegistry,
  UnknownFederationError,
  UnknownSiteError,
} from '../ports';

/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the ports are async. */

interface FederationRow {
  id: string;
  spec: string;
  created_at: number;
}

const toFederation = (r: FederationRow): FederationRecord => ({
  id: r.id,
  spec: JSON.parse(r.spec) as unknown,
  createdAt: r.created_at,
});

/** Federations and their member sites in SQLite (see FederationRegistry). */
export class SqliteFederationRegistry implements FederationRegistry {
  constructor(private readonly db: Database.Database) {}

  async create(record: FederationRecord): Promise<void> {
    this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM federations WHERE id = ?').get(record.id))
        throw new FederationExistsError(record.id);
      this.db
        .prepare('INSERT INTO federations (id, spec, created_at) VALUES (?, ?, ?)')
        .run(record.id, JSON.stringify(record.spec), record.createdAt);
    })();
  }

  async get(id: string): Promise<FederationRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM federations WHERE id = ?').get(id) as
      FederationRow | undefined;
    return row && toFederation(row);
  }

  async list(): Promise<FederationRecord[]> {
    return (this.db.prepare('SELECT * FROM federations ORDER BY id').all() as FederationRow[]).map(
      toFederation,
    );
  }

  async addMember(federationId: string, site: string, at: number): Promise<void> {
    this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM federations WHERE id = ?').get(federationId))
        throw new UnknownFederationError(federationId);
      if (!this.db.prepare('SELECT 1 FROM sites WHERE name = ?').get(site)) throw new UnknownSiteError(site);
      this.db
        .prepare(
          'INSERT OR IGNORE INTO federation_members (federation_id, site_name, joined_at) VALUES (?, ?, ?)',
        )
        .run(federationId, site, at);
    })();
  }

  async members(federationId: string): Promise<string[]> {
    const rows = this.db
      .prepare('SELECT site_name FROM federation_members WHERE federation_id = ? ORDER BY site_name')
      .all(federationId) as { site_name: string }[];
    return rows.map((r) => r.site_name);
  }

  async federationsOf(site: string): Promise<string[]> {
    const rows = this.db
      .prepare('SELECT federation_id FROM federation_members WHERE site_name = ? ORDER BY federation_id')
      .all(site) as {
      federation_id: string;
    }[];
    return rows.map((r) => r.federation_id);
  }
}
