import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { AuditEntry } from './entry';
import { AuditSequenceError, type AuditLogStore } from './store';

const COLUMNS = [
  'v',
  'seq',
  'time',
  'actor',
  'event',
  'federation',
  'round',
  'kind',
  'peer',
  'bytes',
  'sha256',
  'epsilon',
  'epsilon_total',
  'epsilon_limit',
  'detail',
  'prev',
  'hash',
  'signature',
] as const;

type Row = Record<(typeof COLUMNS)[number], string | number>;

const toEntry = (r: Row): AuditEntry => ({
  v: String(r.v),
  seq: String(r.seq),
  time: String(r.time),
  actor: String(r.actor),
  event: String(r.event),
  federation: String(r.federation),
  round: String(r.round),
  kind: String(r.kind),
  peer: String(r.peer),
  bytes: String(r.bytes),
  sha256: String(r.sha256),
  epsilon: String(r.epsilon),
  epsilonTotal: String(r.epsilon_total),
  epsilonLimit: String(r.epsilon_limit),
  detail: String(r.detail),
  prev: String(r.prev),
  hash: String(r.hash),
  signature: String(r.signature),
});

/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the port is async. */

/**
 * An audit log in its own SQLite file. Durability: WAL with synchronous=FULL, so `append`
 * returns only after the entry's commit is fsynced; an entry that append acknowledged survives
 * a crash or power loss (SQLite's guarantee for synchronous=FULL in WAL mode).
 */
export class SqliteAuditLogStore implements AuditLogStore {
  private readonly db: Database.Database;

  /**
   * `forReading` opens an existing log for verification without creating or changing its schema.
   * The handle is still read-write at the SQLite level: after a crash, the first reader must
   * recover the WAL index, which a read-only handle cannot do. No row is ever written through it.
   */
  constructor(file: string, options: { forReading?: boolean } = {}) {
    if (file !== ':memory:' && !options.forReading) fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file, { fileMustExist: options.forReading ?? false });
    if (options.forReading) return;
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS audit_log (
      seq INTEGER PRIMARY KEY, v TEXT NOT NULL, time TEXT NOT NULL, actor TEXT NOT NULL, event TEXT NOT NULL,
      federation TEXT NOT NULL, round TEXT NOT NULL, kind TEXT NOT NULL, peer TEXT NOT NULL, bytes TEXT NOT NULL,
      sha256 TEXT NOT NULL, epsilon TEXT NOT NULL, epsilon_total TEXT NOT NULL, epsilon_limit TEXT NOT NULL,
      detail TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL, signature TEXT NOT NULL)`);
  }

  async append(e: AuditEntry): Promise<void> {
    // BEGIN IMMEDIATE: another process may append to the same log (a node's CLI commands while
    // the node runs). A deferred transaction that reads and then writes fails at once with
    // SQLITE_BUSY when the other wrote in between; an immediate one waits for the write lock.
    const append = this.db.transaction(() => {
      const last = this.db.prepare('SELECT MAX(seq) AS seq FROM audit_log').get() as { seq: number | null };
      const expected = (last.seq ?? 0) + 1;
      if (Number(e.seq) !== expected)
        throw new AuditSequenceError(`entry seq ${e.seq} is not the next one (${expected})`);
      this.db
        .prepare(
          `INSERT INTO audit_log (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
        )
        .run(
          e.v,
          Number(e.seq),
          e.time,
          e.actor,
          e.event,
          e.federation,
          e.round,
          e.kind,
          e.peer,
          e.bytes,
          e.sha256,
          e.epsilon,
          e.epsilonTotal,
          e.epsilonLimit,
          e.detail,
          e.prev,
          e.hash,
          e.signature,
        );
    });
    append.immediate();
  }

  async head(): Promise<AuditEntry | undefined> {
    const row = this.db.prepare('SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1').get() as Row | undefined;
    return row && toEntry(row);
  }

  async range(from: number, to: number): Promise<AuditEntry[]> {
    return (
      this.db.prepare('SELECT * FROM audit_log WHERE seq BETWEEN ? AND ? ORDER BY seq').all(from, to) as Row[]
    ).map(toEntry);
  }

  async all(): Promise<AuditEntry[]> {
    // Ordered by rowid as stored, not by seq: a verifier must see rows in their stored order to
    // notice a reordering.
    return (this.db.prepare('SELECT * FROM audit_log ORDER BY rowid').all() as Row[]).map(toEntry);
  }

  close(): void {
    this.db.close();
  }
}

/** An in-memory store with the same contract, for tests and simulations. */
export class MemoryAuditLogStore implements AuditLogStore {
  readonly entries: AuditEntry[] = [];

  async append(entry: AuditEntry): Promise<void> {
    if (Number(entry.seq) !== this.entries.length + 1) {
      throw new AuditSequenceError(`entry seq ${entry.seq} is not the next one (${this.entries.length + 1})`);
    }
    this.entries.push(entry);
  }

  async head(): Promise<AuditEntry | undefined> {
    return this.entries.at(-1);
  }

  async range(from: number, to: number): Promise<AuditEntry[]> {
    return this.entries.filter((e) => Number(e.seq) >= from && Number(e.seq) <= to);
  }

  async all(): Promise<AuditEntry[]> {
    return [...this.entries];
  }

  close(): void {}
}
