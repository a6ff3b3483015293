import * as path from 'node:path';
import { AuditChain, SqliteAuditLogStore } from '@fedistill/audit';
import type { SiteKeys } from '@fedistill/identity';
import type { WireChannel } from '@fedistill/wire';
import { NodeEgress } from './egress';
import { NODE_FILES, type NodeConfig } from './node-config';

/** The site's egress log (DIR/audit-log.db) and the chain that appends to it. */
export interface NodeAudit {
  readonly chain: AuditChain;
  close(): void;
}

export function openNodeAudit(dir: string, site: string, keys: SiteKeys): NodeAudit {
  const store = new SqliteAuditLogStore(path.join(dir, NODE_FILES.auditLog));
  return { chain: new AuditChain(store, site, keys), close: () => store.close() };
}

/**
 * The node's egress log and its one egress path to the coordinator, as node.yaml configures them;
 * `coordinatorKey` (hex, from enrolment.json) is what signed requests are bound to.
 */
export function openNodeEgress(
  config: NodeConfig,
  keys: SiteKeys,
  coordinatorKey?: string,
  channel?: WireChannel,
  onSent?: (kind: string, bytes: number) => void,
): { audit: NodeAudit; egress: NodeEgress } {
  const audit = openNodeAudit(config.dir, config.site, keys);
  const egress = new NodeEgress({
    audit: audit.chain,
    address: config.coordinator,
    caFile: config.caFile,
    site: config.site,
    keys,
    serverName: config.serverName,
    coordinatorKey,
    channel,
    onSent,
  });
  return { audit, egress };
}
