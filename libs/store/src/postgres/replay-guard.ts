import type { Pool } from 'pg';
import type { ReplayGuard } from '../ports';

/** Request nonces in PostgreSQL (see ReplayGuard). */
export class PgReplayGuard implements ReplayGuard {
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
