import type { Pool } from 'pg';
import { StudentExistsError, type StudentRecord, type StudentStore } from '../ports';
import type { Row } from './support';

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
