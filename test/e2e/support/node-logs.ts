import * as path from 'node:path';
import Database from 'better-sqlite3';

/** One entry of a node's signed egress log (DIR/audit-log.db), as stored. */
export interface AuditRow {
  seq: number;
  event: string;
  kind: string;
  federation: string;
  round: string;
  epsilon: string;
  epsilon_total: string;
  epsilon_limit: string;
  /** The exact size of what left, in bytes (egress entries). */
  bytes: string;
  detail: string;
}

/** Every entry of a node's audit log, in order, read without going through the node. */
export function auditRows(dir: string): AuditRow[] {
  const db = new Database(path.join(dir, 'audit-log.db'), { readonly: true });
  try {
    return db.prepare('SELECT * FROM audit_log ORDER BY seq').all() as AuditRow[];
  } finally {
    db.close();
  }
}
