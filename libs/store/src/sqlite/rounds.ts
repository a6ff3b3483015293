import type Database from 'better-sqlite3';
import { RoundExistsError, type RoundRecord, type RoundStore } from '../ports';

/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the port is async. */

interface Row {
  federation_id: string;
  round: number;
  status: RoundRecord['status'];
  stage: string;
  engine: string;
  created_at: number;
  updated_at: number;
}

const toRecord = (r: Row): RoundRecord => ({
  federationId: r.federation_id,
  round: r.round,
  status: r.status,
  stage: r.stage,
  engine: r.engine,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Rounds in SQLite (see RoundStore). */
export class SqliteRoundStore implements RoundStore {
  constructor(private readonly db: Database.Database) {}

  async create(r: RoundRecord): Promise<void> {
    this.db.transaction(() => {
      if (
        this.db
          .prepare('SELECT 1 FROM rounds WHERE federation_id = ? AND round = ?')
          .get(r.federationId, r.round)
      ) {
        throw new RoundExistsError(r.federationId, r.round);
      }
      this.db
        .prepare(
          'INSERT INTO rounds (federation_id, round, status, stage, engine, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(r.federationId, r.round, r.status, r.stage, r.engine, r.createdAt, r.updatedAt);
    })();
  }

  async save(r: RoundRecord): Promise<void> {
    this.db
      .prepare(
        'UPDATE rounds SET status = ?, stage = ?, engine = ?, updated_at = ? WHERE federation_id = ? AND round = ?',
      )
      .run(r.status, r.stage, r.engine, r.updatedAt, r.federationId, r.round);
  }

  async get(federationId: string, round: number): Promise<RoundRecord | undefined> {
    const row = this.db
      .prepare('SELECT * FROM rounds WHERE federation_id = ? AND round = ?')
      .get(federationId, round) as Row | undefined;
    return row && toRecord(row);
  }

  async list(federationId: string): Promise<RoundRecord[]> {
    return (
      this.db
        .prepare('SELECT * FROM rounds WHERE federation_id = ? ORDER BY round')
        .all(federationId) as Row[]
    ).map(toRecord);
  }

  async open(): Promise<RoundRecord[]> {
    return (
      this.db
        .prepare("SELECT * FROM rounds WHERE status = 'open' ORDER BY federation_id, round")
        .all() as Row[]
    ).map(toRecord);
  }
}
