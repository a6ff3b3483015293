import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ArtifactRecord, ArtifactStore, FederationRecord, FederationRegistry } from '../ports';
import { FederationExistsError, UnknownFederationError, UnknownSiteError } from '../ports';

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

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export class SqliteArtifactStore implements ArtifactStore {
  constructor(private readonly db: Database.Database) {}

  async put(
    kind: ArtifactRecord['kind'],
    bytes: Uint8Array,
    chunkBytes: number,
    at: number,
  ): Promise<ArtifactRecord> {
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1)
      throw new RangeError("'chunkBytes' must be a positive integer");
    const digest = sha256(bytes);
    const existing = await this.get(digest);
    if (existing) return existing;
    const count = Math.max(1, Math.ceil(bytes.length / chunkBytes));
    const insertChunk = this.db.prepare(
      'INSERT INTO artifact_chunks (sha256, idx, chunk_sha256, data) VALUES (?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO artifacts (sha256, kind, total_bytes, chunk_bytes, chunk_count, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(digest, kind, bytes.length, chunkBytes, count, at);
      for (let i = 0; i < count; i += 1) {
        const part = bytes.subarray(i * chunkBytes, Math.min(bytes.length, (i + 1) * chunkBytes));
        insertChunk.run(digest, i, sha256(part), Buffer.from(part.buffer, part.byteOffset, part.byteLength));
      }
    })();
    return (await this.get(digest)) as ArtifactRecord;
  }

  async get(digest: string): Promise<ArtifactRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM artifacts WHERE sha256 = ?').get(digest) as
      | {
          sha256: string;
          kind: ArtifactRecord['kind'];
          total_bytes: number;
          chunk_bytes: number;
          created_at: number;
        }
      | undefined;
    if (!row) return undefined;
    const chunks = this.db
      .prepare('SELECT chunk_sha256 FROM artifact_chunks WHERE sha256 = ? ORDER BY idx')
      .all(digest) as { chunk_sha256: string }[];
    return {
      sha256: row.sha256,
      kind: row.kind,
      totalBytes: row.total_bytes,
      chunkBytes: row.chunk_bytes,
      chunkSha256: chunks.map((c) => c.chunk_sha256),
      createdAt: row.created_at,
    };
  }

  async chunk(digest: string, index: number): Promise<Uint8Array | undefined> {
    const row = this.db
      .prepare('SELECT data FROM artifact_chunks WHERE sha256 = ? AND idx = ?')
      .get(digest, index) as { data: Buffer } | undefined;
    return row && new Uint8Array(row.data);
  }
}
