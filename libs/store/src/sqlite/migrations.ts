import type Database from 'better-sqlite3';

/** One schema step; `version` counts up from 1 and is kept in SQLite's user_version. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/** The coordinator's schema, in order. Never edit a released step: append a new one. */
export const COORDINATOR_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'sites, enrolment tokens, request nonces',
    sql: `
      CREATE TABLE sites (
        name TEXT PRIMARY KEY,
        signing_public_key BLOB NOT NULL UNIQUE,
        box_public_key BLOB NOT NULL,
        enrolled_at INTEGER NOT NULL,
        last_seen_at INTEGER,
        revoked_at INTEGER,
        revoked_reason TEXT
      );
      CREATE TABLE enrolment_tokens (
        token_hash TEXT PRIMARY KEY,
        site_name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      );
      CREATE TABLE request_nonces (
        site_name TEXT NOT NULL,
        nonce TEXT NOT NULL,
        request_timestamp INTEGER NOT NULL,
        PRIMARY KEY (site_name, nonce)
      );
      CREATE INDEX request_nonces_by_time ON request_nonces (request_timestamp);
    `,
  },
  {
    version: 2,
    description: 'federations, their member sites, content-addressed artifacts in chunks',
    sql: `
      CREATE TABLE federations (
        id TEXT PRIMARY KEY,
        spec TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE federation_members (
        federation_id TEXT NOT NULL REFERENCES federations (id),
        site_name TEXT NOT NULL REFERENCES sites (name),
        joined_at INTEGER NOT NULL,
        PRIMARY KEY (federation_id, site_name)
      );
      CREATE TABLE artifacts (
        sha256 TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        total_bytes INTEGER NOT NULL,
        chunk_bytes INTEGER NOT NULL,
        chunk_count INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE artifact_chunks (
        sha256 TEXT NOT NULL REFERENCES artifacts (sha256),
        idx INTEGER NOT NULL,
        chunk_sha256 TEXT NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (sha256, idx)
      );
    `,
  },
  {
    version: 3,
    description: 'rounds',
    sql: `
      CREATE TABLE rounds (
        federation_id TEXT NOT NULL REFERENCES federations (id),
        round INTEGER NOT NULL,
        status TEXT NOT NULL,
        stage TEXT NOT NULL,
        engine TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (federation_id, round)
      );
      CREATE INDEX rounds_open ON rounds (status);
    `,
  },
  {
    version: 4,
    description: 'published students, evaluation sets',
    sql: `
      CREATE TABLE students (
        federation_id TEXT NOT NULL REFERENCES federations (id),
        version INTEGER NOT NULL,
        sha256 TEXT NOT NULL REFERENCES artifacts (sha256),
        rounds TEXT NOT NULL,
        model_card TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (federation_id, version)
      );
      CREATE TABLE evaluation_sets (
        federation_id TEXT PRIMARY KEY REFERENCES federations (id),
        inputs_sha256 TEXT NOT NULL REFERENCES artifacts (sha256),
        labels_sha256 TEXT NOT NULL REFERENCES artifacts (sha256),
        rows INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 5,
    description: 'named access tokens of the admin API (operator, auditor), stored hashed',
    sql: `
      CREATE TABLE access_tokens (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('operator', 'auditor')),
        token_hash TEXT NOT NULL UNIQUE,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
    `,
  },
];

/** Applies the migrations newer than the database's user_version, each in its own transaction. */
export function migrate(db: Database.Database, migrations: readonly Migration[]): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(
      `database schema version ${current} is newer than this fedistill (${latest}): upgrade fedistill`,
    );
  }
  for (const step of migrations.filter((m) => m.version > current)) {
    db.transaction(() => {
      db.exec(step.sql);
      db.pragma(`user_version = ${step.version}`);
    })();
  }
  return latest;
}
