import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { CoordinatorStore } from '../ports';
import { SqliteAccessTokenBook } from './access-tokens';
import { SqliteArtifactStore } from './artifacts';
import { SqliteEnrolmentBook } from './enrolment';
import { SqliteEvaluationSetStore } from './evaluation-sets';
import { SqliteFederationRegistry } from './federations';
import { COORDINATOR_MIGRATIONS, migrate } from './migrations';
import { SqliteReplayGuard } from './replay-guard';
import { SqliteRoundStore } from './rounds';
import { SqliteSiteRegistry } from './sites';
import { SqliteStudentStore } from './students';

/**
 * Opens (creating if needed) the coordinator's SQLite database at `file` (or ':memory:'),
 * in WAL mode with synchronous=FULL so that an acknowledged write survives a crash.
 */
export function openSqliteCoordinatorStore(file: string): CoordinatorStore {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, COORDINATOR_MIGRATIONS);
  return {
    sites: new SqliteSiteRegistry(db),
    enrolments: new SqliteEnrolmentBook(db),
    replayGuard: new SqliteReplayGuard(db),
    federations: new SqliteFederationRegistry(db),
    artifacts: new SqliteArtifactStore(db),
    rounds: new SqliteRoundStore(db),
    students: new SqliteStudentStore(db),
    evaluationSets: new SqliteEvaluationSetStore(db),
    accessTokens: new SqliteAccessTokenBook(db),
    close: () => {
      db.close();
    },
  };
}
