import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type {
  CoordinatorStore,
  EnrolmentBook,
  EnrolmentTokenRecord,
  RedeemOutcome,
  RedeemRequest,
  ReplayGuard,
  SiteRecord,
  SiteRegistry,
} from '../ports';
import { SiteAlreadyEnrolledError, SiteAlreadyRevokedError, UnknownSiteError } from '../ports';
import { COORDINATOR_MIGRATIONS, migrate } from './migrations';
import { SqliteArtifactStore, SqliteFederationRegistry } from './sqlite-federations';
import { SqliteRoundStore } from './sqlite-rounds';
import { SqliteEvaluationSetStore, SqliteStudentStore } from './sqlite-students';

interface SiteRow {
  name: string;
  signing_public_key: Buffer;
  box_public_key: Buffer;
  enrolled_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
  revoked_reason: string | null;
}

const toSite = (row: SiteRow): SiteRecord => ({
  name: row.name,
  signingPublicKey: new Uint8Array(row.signing_public_key),
  boxPublicKey: new Uint8Array(row.box_public_key),
  enrolledAt: row.enrolled_at,
  lastSeenAt: row.last_seen_at,
  revokedAt: row.revoked_at,
  revokedReason: row.revoked_reason,
});

/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the ports are async for networked adapters. */

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

export class SqliteEnrolmentBook implements EnrolmentBook {
  constructor(private readonly db: Database.Database) {}

  async issue(token: EnrolmentTokenRecord): Promise<void> {
    this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM sites WHERE name = ?').get(token.siteName)) {
        throw new SiteAlreadyEnrolledError(token.siteName);
      }
      this.db
        .prepare(
          'INSERT INTO enrolment_tokens (token_hash, site_name, created_at, expires_at) VALUES (?, ?, ?, ?)',
        )
        .run(token.tokenHash, token.siteName, token.createdAt, token.expiresAt);
    })();
  }

  async redeem(request: RedeemRequest): Promise<RedeemOutcome> {
    return this.db.transaction((): RedeemOutcome => {
      const token = this.db
        .prepare('SELECT * FROM enrolment_tokens WHERE token_hash = ?')
        .get(request.tokenHash) as
        { site_name: string; expires_at: number; used_at: number | null } | undefined;
      if (!token) return { ok: false, reason: 'unknown-token' };
      if (token.used_at !== null) return { ok: false, reason: 'used-token' };
      if (token.expires_at <= request.now) return { ok: false, reason: 'expired-token' };
      if (token.site_name !== request.siteName) return { ok: false, reason: 'wrong-site' };
      if (this.db.prepare('SELECT 1 FROM sites WHERE name = ?').get(request.siteName))
        return { ok: false, reason: 'site-exists' };
      const signingKey = Buffer.from(request.signingPublicKey);
      if (this.db.prepare('SELECT 1 FROM sites WHERE signing_public_key = ?').get(signingKey)) {
        return { ok: false, reason: 'key-in-use' };
      }
      this.db
        .prepare('UPDATE enrolment_tokens SET used_at = ? WHERE token_hash = ?')
        .run(request.now, request.tokenHash);
      this.db
        .prepare(
          'INSERT INTO sites (name, signing_public_key, box_public_key, enrolled_at) VALUES (?, ?, ?, ?)',
        )
        .run(request.siteName, signingKey, Buffer.from(request.boxPublicKey), request.now);
      const row = this.db.prepare('SELECT * FROM sites WHERE name = ?').get(request.siteName) as SiteRow;
      return { ok: true, site: toSite(row) };
    })();
  }
}

export class SqliteReplayGuard implements ReplayGuard {
  constructor(private readonly db: Database.Database) {}

  async admit(
    site: string,
    nonce: string,
    timestamp: number,
    now: number,
    windowMs: number,
  ): Promise<boolean> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM request_nonces WHERE request_timestamp < ?').run(now - windowMs);
      const res = this.db
        .prepare(
          'INSERT OR IGNORE INTO request_nonces (site_name, nonce, request_timestamp) VALUES (?, ?, ?)',
        )
        .run(site, nonce, timestamp);
      return res.changes === 1;
    })();
  }
}

/**
 * Opens (creating if needed) the coordinator's SQLite database at `file` (or ':memory:'),
 * in WAL mode with synchronous=FULL so that an acknowledged write survives a crash.
 */
export function openSqliteCoordinatorStore(file: string): CoordinatorStore {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, COORDINATOR_MIGRATIONS);
  return {
    sites: new SqliteSiteRegistry(db),
    enrolments: new SqliteEnrolmentBook(db),
    replayGuard: new SqliteReplayGuard(db),
    federations: new SqliteFederationRegistry(db),
    artifacts: new SqliteArtifactStore(db),
    rounds: new SqliteRoundStore(db),
    students: new SqliteStudentStore(db),
    evaluationSets: new SqliteEvaluationSetStore(db),
    close: () => {
      db.close();
    },
  };
}
