import type { AuditEntryInput } from '@fedistill/audit';

/**
 * The coordinator's signed transcript of what it accepted, rejected and did (an AuditChain in
 * production). Domain services depend on this narrow port only.
 */
export interface Transcript {
  append(input: AuditEntryInput): Promise<unknown>;
}
