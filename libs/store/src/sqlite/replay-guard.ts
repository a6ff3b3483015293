import type Database from 'better-sqlite3';
import type { ReplayGuard } from '../ports';

/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the port is async for networked adapters. */

/** Request nonces in SQLite (see ReplayGuard). */
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
