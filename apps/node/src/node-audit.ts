import * as path from 'node:path';
import { AuditChain, SqliteAuditLogStore } from '@fedistill/audit';
import type { SiteKeys } from '@fedistill/identity';
import { NODE_FILES } from './node-config';

/** The site's egress log (DIR/audit-log.db) and the chain that appends to it. */
export interface NodeAudit {
  readonly chain: AuditChain;
  close(): void;
}

export function openNodeAudit(dir: string, site: string, keys: SiteKeys): NodeAudit {
  const store = new SqliteAuditLogStore(path.join(dir, NODE_FILES.auditLog));
  return { chain: new AuditChain(store, site, keys), close: () => store.close() };
}
