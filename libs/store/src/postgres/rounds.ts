import type { Pool } from 'pg';
import { RoundExistsError, type RoundRecord, type RoundStore } from '../ports';
import { num, type Row } from './support';

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
