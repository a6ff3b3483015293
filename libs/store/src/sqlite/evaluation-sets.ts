import type Database from 'better-sqlite3';
import type { EvaluationSetRecord, EvaluationSetStore } from '../ports';

/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the port is async. */

interface EvaluationRow {
  federation_id: string;
  inputs_sha256: string;
  labels_sha256: string;
  rows: number;
  created_at: number;
}

/** Evaluation sets in SQLite, one per federation (see EvaluationSetStore). */
export class SqliteEvaluationSetStore implements EvaluationSetStore {
  constructor(private readonly db: Database.Database) {}

  async put(e: EvaluationSetRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO evaluation_sets (federation_id, inputs_sha256, labels_sha256, rows, created_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (federation_id) DO UPDATE SET inputs_sha256 = excluded.inputs_sha256,
           labels_sha256 = excluded.labels_sha256, rows = excluded.rows, created_at = excluded.created_at`,
      )
      .run(e.federationId, e.inputsSha256, e.labelsSha256, e.rows, e.createdAt);
  }

  async get(federationId: string): Promise<EvaluationSetRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM evaluation_sets WHERE federation_id = ?').get(federationId) as
      EvaluationRow | undefined;
    return (
      r && {
        federationId: r.federation_id,
        inputsSha256: r.inputs_sha256,
        labelsSha256: r.labels_sha256,
        rows: r.rows,
        createdAt: r.created_at,
      }
    );
  }
}
