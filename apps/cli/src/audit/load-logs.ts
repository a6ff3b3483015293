import * as fs from 'node:fs';
import * as path from 'node:path';
import { type AuditEntry, fromJsonLines, SqliteAuditLogStore } from '@fedistill/audit';
import { readSiteKeyFile } from '@fedistill/identity';
import { CliError } from '../cli-error';

/** Where a log comes from: an exported file or database, a node directory or the coordinator's data. */
export interface LogSource {
  readonly kind: 'file' | 'node' | 'coordinator';
  readonly path: string;
  readonly expectedKey?: string;
}

export interface LoadedLog {
  readonly source: string;
  readonly entries: AuditEntry[];
  /** The key the log must be signed with, when known independently of the log. */
  readonly expectedKey: string | undefined;
}

async function readDatabase(file: string): Promise<AuditEntry[]> {
  if (!fs.existsSync(file)) throw new CliError(`${file} does not exist`);
  const store = new SqliteAuditLogStore(file, { forReading: true });
  try {
    return await store.all();
  } catch (err) {
    throw new CliError(`${file} is not an audit log database: ${(err as Error).message}`);
  } finally {
    store.close();
  }
}

function keyFrom(file: string): string | undefined {
  if (!fs.existsSync(file)) return undefined;
  return Buffer.from(readSiteKeyFile(file).signingPublicKey).toString('hex');
}

/** Loads one log; a node directory's log is pinned to the node's own key. */
export async function loadLog(source: LogSource): Promise<LoadedLog> {
  if (source.kind === 'node') {
    return {
      source: source.path,
      entries: await readDatabase(path.join(source.path, 'audit-log.db')),
      expectedKey: keyFrom(path.join(source.path, 'site.key')),
    };
  }
  if (source.kind === 'coordinator') {
    return {
      source: source.path,
      entries: await readDatabase(path.join(source.path, 'audit-log.db')),
      expectedKey: keyFrom(path.join(source.path, 'coordinator-identity.key')),
    };
  }
  if (source.path.endsWith('.db'))
    return { source: source.path, entries: await readDatabase(source.path), expectedKey: source.expectedKey };
  let text: string;
  try {
    text = fs.readFileSync(source.path, 'utf8');
  } catch {
    throw new CliError(`${source.path} cannot be read`);
  }
  return { source: source.path, entries: fromJsonLines(text, source.path), expectedKey: source.expectedKey };
}

export async function loadLogs(sources: readonly LogSource[]): Promise<LoadedLog[]> {
  if (sources.length === 0)
    throw new CliError('give at least one log: a file, --node-dir DIR or --coordinator-data DIR', 2);
  return Promise.all(sources.map(loadLog));
}
