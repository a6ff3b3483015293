import type { AuditEntry } from './entry';

/**
 * Where an audit log is kept. Append-only: the only write is `append`, which must refuse an
 * entry whose seq is not the next one, so two writers cannot fork the chain. Adapters:
 * SqliteAuditLogStore (and an in-memory one for tests); each passes describeAuditLogStoreContract.
 */
export interface AuditLogStore {
  /** Stores the entry durably before resolving; throws AuditSequenceError if seq is not head + 1. */
  append(entry: AuditEntry): Promise<void>;
  /** The last entry, or undefined for an empty log. */
  head(): Promise<AuditEntry | undefined>;
  /** Entries with from <= seq <= to, in order. */
  range(from: number, to: number): Promise<AuditEntry[]>;
  /** Every entry in order. */
  all(): Promise<AuditEntry[]>;
  close(): void;
}

export class AuditSequenceError extends Error {
  override readonly name = 'AuditSequenceError';
}
