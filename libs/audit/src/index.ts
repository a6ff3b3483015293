export {
  type AuditEntry,
  type AuditEntryInput,
  AUDIT_EVENTS,
  HASHED_FIELDS,
  GENESIS_PREV,
  canonicalEntryBytes,
  entryHash,
  entrySignatureBytes,
} from './entry';
export { type AuditLogStore, AuditSequenceError } from './store';
export { SqliteAuditLogStore, MemoryAuditLogStore } from './sqlite-store';
export { AuditChain } from './audit-chain';
export {
  type SignedHead,
  signLogHead,
  verifyLogHead,
  logHeadSigningBytes,
  parseAnchorDetail,
} from './log-head';
export {
  type AuditProblem,
  type AuditVerification,
  type AuditVerifyOptions,
  type SignatureCheck,
  type VerifiedLog,
  verifyAuditLog,
  crossCheckAnchors,
} from './verify';
export { toJsonLines, fromJsonLines, AuditFormatError } from './jsonl';
export { buildAuditReport, renderAuditReport, type AuditReport, type ReportFormat } from './report';
export { formatEpsilon, COMPOSITION_NOTE } from './report-format';
export { headToWire, headFromWire } from './wire-head';
