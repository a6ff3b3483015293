// Over the ~300-line guide: one PostgreSQL adapter per port, kept together so the transaction
// and schema helpers they share stay private to this file; each store mirrors its SQLite twin in
// ../sqlite/ and both pass the same contract suite (../contracts/).
import { createHash } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import type {
  ArtifactRecord,
  ArtifactStore,
  CoordinatorStore,
  EnrolmentBook,
  EnrolmentTokenRecord,
  FederationRecord,
  FederationRegistry,
  RedeemOutcome,
  RedeemRequest,
  ReplayGuard,
  RoundRecord,
  RoundStore,
  SiteRecord,
  SiteRegistry,
} from '../ports';
import {
  FederationExistsError,
  RoundExistsError,
  SiteAlreadyEnrolledError,
  SiteAlreadyRevokedError,
  UnknownFederationError,
  UnknownSiteError,
} from '../ports';
import { migratePostgres } from './pg-migrations';
import { PgEvaluationSetStore, PgStudentStore } from './pg-students';

type Row = Record<string, unknown>;
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const toSite = (r: Row): SiteRecord => ({
  name: String(r.name),
  signingPublicKey: new Uint8Array(r.signing_public_key as Buffer),
  boxPublicKey: new Uint8Array(r.box_public_key as Buffer),
  enrolledAt: num(r.enrolled_at),
  lastSeenAt: numOrNull(r.last_seen_at),
  revokedAt: numOrNull(r.revoked_at),
  revokedReason: r.revoked_reason === null ? null : String(r.revoked_reason),
});

/** Runs `fn` in one transaction on one pooled connection. */
async function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

class PgSiteRegistry implements SiteRegistry {
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

class PgEnrolmentBook implements EnrolmentBook {
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

class PgReplayGuard implements ReplayGuard {
  constructor(private readonly pool: Pool) {}

  async admit(
    site: string,
    nonce: string,
    timestamp: number,
    now: number,
    windowMs: number,
  ): Promise<boolean> {
    await this.pool.query('DELETE FROM request_nonces WHERE request_timestamp < $1', [now - windowMs]);
    const res = await this.pool.query(
      'INSERT INTO request_nonces (site_name, nonce, request_timestamp) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [site, nonce, timestamp],
    );
    return res.rowCount === 1;
  }
}

class PgFederationRegistry implements FederationRegistry {
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

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

class PgArtifactStore implements ArtifactStore {
  constructor(private readonly pool: Pool) {}

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
    await inTransaction(this.pool, async (c) => {
      const res = await c.query(
        'INSERT INTO artifacts (sha256, kind, total_bytes, chunk_bytes, chunk_count, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
        [digest, kind, bytes.length, chunkBytes, count, at],
      );
      if (res.rowCount !== 1) return; // stored meanwhile by a concurrent upload of the same content
      for (let i = 0; i < count; i += 1) {
        const part = Buffer.from(
          bytes.subarray(i * chunkBytes, Math.min(bytes.length, (i + 1) * chunkBytes)),
        );
        await c.query(
          'INSERT INTO artifact_chunks (sha256, idx, chunk_sha256, data) VALUES ($1, $2, $3, $4)',
          [digest, i, sha256(part), part],
        );
      }
    });
    return (await this.get(digest)) as ArtifactRecord;
  }

  async get(digest: string): Promise<ArtifactRecord | undefined> {
    const row = (await this.pool.query('SELECT * FROM artifacts WHERE sha256 = $1', [digest])).rows[0] as
      Row | undefined;
    if (!row) return undefined;
    const chunks = await this.pool.query(
      'SELECT chunk_sha256 FROM artifact_chunks WHERE sha256 = $1 ORDER BY idx',
      [digest],
    );
    return {
      sha256: String(row.sha256),
      kind: row.kind as ArtifactRecord['kind'],
      totalBytes: num(row.total_bytes),
      chunkBytes: num(row.chunk_bytes),
      chunkSha256: chunks.rows.map((c: Row) => String(c.chunk_sha256)),
      createdAt: num(row.created_at),
    };
  }

  async chunk(digest: string, index: number): Promise<Uint8Array | undefined> {
    const row = (
      await this.pool.query('SELECT data FROM artifact_chunks WHERE sha256 = $1 AND idx = $2', [
        digest,
        index,
      ])
    ).rows[0] as Row | undefined;
    return row && new Uint8Array(row.data as Buffer);
  }
}

/** Options of openPostgresCoordinatorStore. */
export interface PostgresStoreOptions {
  /** A postgres:// connection URL. */
  readonly url: string;
  /** Schema to use (created if missing); default "public". */
  readonly schema?: string;
  /** Pool size; default 10. */
  readonly maxConnections?: number;
}

/** Connects, migrates and returns the PostgreSQL adapters of every coordinator port. */
export async function openPostgresCoordinatorStore(options: PostgresStoreOptions): Promise<CoordinatorStore> {
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new RangeError(`'schema' ${schema} must be a lower-case SQL identifier`);
  const pool = new Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    options: `-c search_path=${schema}`,
  });
  const client = await pool.connect().catch(async (err: Error) => {
    await pool.end();
    throw new Error(`cannot connect to PostgreSQL: ${err.message}`);
  });
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await migratePostgres(client);
  } finally {
    client.release();
  }
  return {
    sites: new PgSiteRegistry(pool),
    enrolments: new PgEnrolmentBook(pool),
    replayGuard: new PgReplayGuard(pool),
    federations: new PgFederationRegistry(pool),
    artifacts: new PgArtifactStore(pool),
    rounds: new PgRoundStore(pool),
    students: new PgStudentStore(pool),
    evaluationSets: new PgEvaluationSetStore(pool),
    close: () => pool.end(),
  };
}

/** Rounds in PostgreSQL (see RoundStore). */
export class PgRoundStore implements RoundStore {
  constructor(private readonly pool: Pool) {}

  private static toRecord(r: Row): RoundRecord {
    return {
      federationId: String(r.federation_id),
      round: num(r.round),
      status: r.status as RoundRecord['status'],
      stage: String(r.stage),
      engine: String(r.engine),
      createdAt: num(r.created_at),
      updatedAt: num(r.updated_at),
    };
  }

  async create(r: RoundRecord): Promise<void> {
    const res = await this.pool.query(
      'INSERT INTO rounds (federation_id, round, status, stage, engine, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
      [r.federationId, r.round, r.status, r.stage, r.engine, r.createdAt, r.updatedAt],
    );
    if (res.rowCount !== 1) throw new RoundExistsError(r.federationId, r.round);
  }

  async save(r: RoundRecord): Promise<void> {
    await this.pool.query(
      'UPDATE rounds SET status = $1, stage = $2, engine = $3, updated_at = $4 WHERE federation_id = $5 AND round = $6',
      [r.status, r.stage, r.engine, r.updatedAt, r.federationId, r.round],
    );
  }

  async get(federationId: string, round: number): Promise<RoundRecord | undefined> {
    const row = (
      await this.pool.query('SELECT * FROM rounds WHERE federation_id = $1 AND round = $2', [
        federationId,
        round,
      ])
    ).rows[0] as Row | undefined;
    return row && PgRoundStore.toRecord(row);
  }

  async list(federationId: string): Promise<RoundRecord[]> {
    return (
      await this.pool.query('SELECT * FROM rounds WHERE federation_id = $1 ORDER BY round', [federationId])
    ).rows.map((r: Row) => PgRoundStore.toRecord(r));
  }

  async open(): Promise<RoundRecord[]> {
    return (
      await this.pool.query("SELECT * FROM rounds WHERE status = 'open' ORDER BY federation_id, round")
    ).rows.map((r: Row) => PgRoundStore.toRecord(r));
  }
}
