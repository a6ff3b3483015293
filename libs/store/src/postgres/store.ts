import { Pool } from 'pg';
import type { CoordinatorStore } from '../ports';
import { PgAccessTokenBook } from './access-tokens';
import { PgArtifactStore } from './artifacts';
import { PgEnrolmentBook } from './enrolment';
import { PgEvaluationSetStore } from './evaluation-sets';
import { PgFederationRegistry } from './federations';
import { migratePostgres } from './migrations';
import { PgReplayGuard } from './replay-guard';
import { PgRoundStore } from './rounds';
import { PgSiteRegistry } from './sites';
import { PgStudentStore } from './students';

/** Options of openPostgresCoordinatorStore. */
export interface PostgresStoreOptions {
  /** A postgres:// connection URL. */
  readonly url: string;
  /** Schema to use (created if missing); default "public". */
  readonly schema?: string;
  /** Pool size; default 10. */
  readonly maxConnections?: number;
  /**
   * Told when an idle pooled connection fails (PostgreSQL restarted, the network cut): the pool
   * drops that connection and the next query opens a new one. Without a listener, pg's pool would
   * raise the error as an unhandled 'error' event and end the process.
   */
  readonly onConnectionError?: (err: Error) => void;
}

/** Connects, migrates and returns the PostgreSQL adapters of every coordinator port. */
export async function openPostgresCoordinatorStore(options: PostgresStoreOptions): Promise<CoordinatorStore> {
  const schema = options.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new RangeError(`'schema' ${schema} must be a lower-case SQL identifier`);
  const pool = new Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    options: `-c search_path=${schema}`,
  });
  pool.on('error', (err) => options.onConnectionError?.(err));
  let closing: Promise<void> | undefined;
  const client = await pool.connect().catch(async (err: Error) => {
    await pool.end();
    throw new Error(`cannot connect to PostgreSQL: ${err.message}`);
  });
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await migratePostgres(client);
  } finally {
    client.release();
  }
  return {
    sites: new PgSiteRegistry(pool),
    enrolments: new PgEnrolmentBook(pool),
    replayGuard: new PgReplayGuard(pool),
    federations: new PgFederationRegistry(pool),
    artifacts: new PgArtifactStore(pool),
    rounds: new PgRoundStore(pool),
    students: new PgStudentStore(pool),
    evaluationSets: new PgEvaluationSetStore(pool),
    accessTokens: new PgAccessTokenBook(pool),
    // Idempotent: the coordinator's shutdown may close the store more than once.
    close: () => (closing ??= pool.end()),
  };
}
