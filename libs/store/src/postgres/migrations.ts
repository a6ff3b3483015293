import type { PoolClient } from 'pg';

/** The coordinator's PostgreSQL schema, step by step (same content as the SQLite migrations). */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{ readonly version: number; readonly sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE sites (
        name TEXT PRIMARY KEY,
        signing_public_key BYTEA NOT NULL UNIQUE,
        box_public_key BYTEA NOT NULL,
        enrolled_at BIGINT NOT NULL,
        last_seen_at BIGINT,
        revoked_at BIGINT,
        revoked_reason TEXT
      );
      CREATE TABLE enrolment_tokens (
        token_hash TEXT PRIMARY KEY,
        site_name TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT
      );
      CREATE TABLE request_nonces (
        site_name TEXT NOT NULL,
        nonce TEXT NOT NULL,
        request_timestamp BIGINT NOT NULL,
        PRIMARY KEY (site_name, nonce)
      );
      CREATE INDEX request_nonces_by_time ON request_nonces (request_timestamp);
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE federations (id TEXT PRIMARY KEY, spec JSONB NOT NULL, created_at BIGINT NOT NULL);
      CREATE TABLE federation_members (
        federation_id TEXT NOT NULL REFERENCES federations (id),
        site_name TEXT NOT NULL REFERENCES sites (name),
        joined_at BIGINT NOT NULL,
        PRIMARY KEY (federation_id, site_name)
      );
      CREATE TABLE artifacts (
        sha256 TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        total_bytes BIGINT NOT NULL,
        chunk_bytes INTEGER NOT NULL,
        chunk_count INTEGER NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE artifact_chunks (
        sha256 TEXT NOT NULL REFERENCES artifacts (sha256),
        idx INTEGER NOT NULL,
        chunk_sha256 TEXT NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (sha256, idx)
      );
    `,
  },
  {
    version: 3,
    sql: `
      CREATE TABLE rounds (
        federation_id TEXT NOT NULL REFERENCES federations (id),
        round INTEGER NOT NULL,
        status TEXT NOT NULL,
        stage TEXT NOT NULL,
        engine TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (federation_id, round)
      );
      CREATE INDEX rounds_open ON rounds (status);
    `,
  },
  {
    version: 4,
    sql: `
      CREATE TABLE students (
        federation_id TEXT NOT NULL REFERENCES federations (id),
        version INTEGER NOT NULL,
        sha256 TEXT NOT NULL REFERENCES artifacts (sha256),
        rounds TEXT NOT NULL,
        model_card TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (federation_id, version)
      );
      CREATE TABLE evaluation_sets (
        federation_id TEXT PRIMARY KEY REFERENCES federations (id),
        inputs_sha256 TEXT NOT NULL REFERENCES artifacts (sha256),
        labels_sha256 TEXT NOT NULL REFERENCES artifacts (sha256),
        rows INTEGER NOT NULL,
        created_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 5,
    sql: `
      CREATE TABLE access_tokens (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('operator', 'auditor')),
        token_hash TEXT NOT NULL UNIQUE,
        created_by TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked_at BIGINT
      );
    `,
  },
];

/** Applies missing steps under an advisory lock, so coordinators starting together do not race. */
export async function migratePostgres(client: PoolClient): Promise<number> {
  await client.query('SELECT pg_advisory_lock(74217)');
  try {
    await client.query('CREATE TABLE IF NOT EXISTS fedistill_schema (version INTEGER NOT NULL)');
    const res = await client.query<{ version: number }>(
      'SELECT MAX(version) AS version FROM fedistill_schema',
    );
    const current = res.rows[0]?.version ?? 0;
    const latest = POSTGRES_MIGRATIONS.at(-1)?.version ?? 0;
    if (current > latest)
      throw new Error(
        `database schema version ${current} is newer than this fedistill (${latest}): upgrade fedistill`,
      );
    for (const step of POSTGRES_MIGRATIONS.filter((m) => m.version > current)) {
      await client.query('BEGIN');
      try {
        await client.query(step.sql);
        await client.query('INSERT INTO fedistill_schema (version) VALUES ($1)', [step.version]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
    }
    return latest;
  } finally {
    await client.query('SELECT pg_advisory_unlock(74217)');
  }
}
