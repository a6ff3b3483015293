import type Database from 'better-sqlite3';
import { StudentExistsError, type StudentRecord, type StudentStore } from '../ports';

/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the ports are async. */

interface StudentRow {
  federation_id: string;
  version: number;
  sha256: string;
  rounds: string;
  model_card: string;
  created_at: number;
}

const toStudent = (r: StudentRow): StudentRecord => ({
  federationId: r.federation_id,
  version: r.version,
  sha256: r.sha256,
  rounds: JSON.parse(r.rounds) as number[],
  modelCard: JSON.parse(r.model_card) as unknown,
  createdAt: r.created_at,
});

/** Published students in SQLite (see StudentStore). */
export class SqliteStudentStore implements StudentStore {
  constructor(private readonly db: Database.Database) {}

  async create(s: StudentRecord): Promise<void> {
    this.db.transaction(() => {
      if (
        this.db
          .prepare('SELECT 1 FROM students WHERE federation_id = ? AND version = ?')
          .get(s.federationId, s.version)
      )
        throw new StudentExistsError(s.federationId, s.version);
      this.db
        .prepare(
          'INSERT INTO students (federation_id, version, sha256, rounds, model_card, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          s.federationId,
          s.version,
          s.sha256,
          JSON.stringify(s.rounds),
          JSON.stringify(s.modelCard),
          s.createdAt,
        );
    })();
  }

  async get(federationId: string, version: number): Promise<StudentRecord | undefined> {
    const row = this.db
      .prepare('SELECT * FROM students WHERE federation_id = ? AND version = ?')
      .get(federationId, version) as StudentRow | undefined;
    return row && toStudent(row);
  }

  async latest(federationId: string): Promise<StudentRecord | undefined> {
    const row = this.db
      .prepare('SELECT * FROM students WHERE federation_id = ? ORDER BY version DESC LIMIT 1')
      .get(federationId) as StudentRow | undefined;
    return row && toStudent(row);
  }

  async list(federationId: string): Promise<StudentRecord[]> {
    return (
      this.db
        .prepare('SELECT * FROM students WHERE federation_id = ? ORDER BY version')
        .all(federationId) as StudentRow[]
    ).map(toStudent);
  }
}
