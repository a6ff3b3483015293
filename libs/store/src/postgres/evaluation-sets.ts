import type { Pool } from 'pg';
import type { EvaluationSetRecord, EvaluationSetStore } from '../ports';
import type { Row } from './support';

/** Evaluation sets in PostgreSQL (see EvaluationSetStore). */
export class PgEvaluationSetStore implements EvaluationSetStore {
  constructor(private readonly pool: Pool) {}

  async put(e: EvaluationSetRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO evaluation_sets (federation_id, inputs_sha256, labels_sha256, rows, created_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (federation_id) DO UPDATE SET inputs_sha256 = excluded.inputs_sha256,
         labels_sha256 = excluded.labels_sha256, rows = excluded.rows, created_at = excluded.created_at`,
      [e.federationId, e.inputsSha256, e.labelsSha256, e.rows, e.createdAt],
    );
  }

  async get(federationId: string): Promise<EvaluationSetRecord | undefined> {
    const r = (
      await this.pool.query('SELECT * FROM evaluation_sets WHERE federation_id = $1', [federationId])
    ).rows[0] as Row | undefined;
    return (
      r && {
        federationId: String(r.federation_id),
        inputsSha256: String(r.inputs_sha256),
        labelsSha256: String(r.labels_sha256),
        rows: Number(r.rows),
        createdAt: Number(r.created_at),
      }
    );
  }
}
