import type { Pool } from 'pg';
import {
  type EvaluationSetRecord,
  type EvaluationSetStore,
  StudentExistsError,
  type StudentRecord,
  type StudentStore,
} from '../ports';

type Row = Record<string, unknown>;

const toStudent = (r: Row): StudentRecord => ({
  federationId: String(r.federation_id),
  version: Number(r.version),
  sha256: String(r.sha256),
  rounds: JSON.parse(String(r.rounds)) as number[],
  modelCard: JSON.parse(String(r.model_card)) as unknown,
  createdAt: Number(r.created_at),
});

/** Published students in PostgreSQL (see StudentStore). */
export class PgStudentStore implements StudentStore {
  constructor(private readonly pool: Pool) {}

  async create(s: StudentRecord): Promise<void> {
    const res = await this.pool.query(
      'INSERT INTO students (federation_id, version, sha256, rounds, model_card, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
      [
        s.federationId,
        s.version,
        s.sha256,
        JSON.stringify(s.rounds),
        JSON.stringify(s.modelCard),
        s.createdAt,
      ],
    );
    if (res.rowCount !== 1) throw new StudentExistsError(s.federationId, s.version);
  }

  async get(federationId: string, version: number): Promise<StudentRecord | undefined> {
    const row = (
      await this.pool.query('SELECT * FROM students WHERE federation_id = $1 AND version = $2', [
        federationId,
        version,
      ])
    ).rows[0] as Row | undefined;
    return row && toStudent(row);
  }

  async latest(federationId: string): Promise<StudentRecord | undefined> {
    const row = (
      await this.pool.query('SELECT * FROM students WHERE federation_id = $1 ORDER BY version DESC LIMIT 1', [
        federationId,
      ])
    ).rows[0] as Row | undefined;
    return row && toStudent(row);
  }

  async list(federationId: string): Promise<StudentRecord[]> {
    return (
      await this.pool.query('SELECT * FROM students WHERE federation_id = $1 ORDER BY version', [
        federationId,
      ])
    ).rows.map((r: Row) => toStudent(r));
  }
}

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
