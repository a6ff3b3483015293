import * as fs from 'node:fs';
import * as path from 'node:path';
import { type AuditEntry, SqliteAuditLogStore } from '@fedistill/audit';
import { type LedgerState, type Mechanism, type Release, validateMechanism } from '@fedistill/dp';
import { NODE_FILES } from './node-config';

/** One release that the site's egress log shows leaving the node, with what it was charged. */
export interface LoggedCharge {
  readonly seq: number;
  /** The ledger label (federation#round). */
  readonly label: string;
  /** SHA-256 of the masked input as sent: retries of one release carry the same bytes. */
  readonly sha256: string;
  /** ε of the release alone and the running total the node recorded, at its δ then. */
  readonly epsilon: number;
  readonly epsilonTotal: number;
  /** The ledger charge (mechanism and count), absent in entries written before it was recorded. */
  readonly release: Release | undefined;
}

/** The command that rebuilds DIR's ledger from its egress log. */
export const rebuildCommand = (dir: string): string => `fedistill node ledger rebuild --dir ${dir}`;

function releaseOf(detail: string): Release | undefined {
  if (!detail.startsWith('{')) return undefined;
  let charge: { label?: unknown; count?: unknown; mechanism?: unknown } | undefined;
  try {
    charge = (JSON.parse(detail) as { charge?: typeof charge }).charge;
  } catch {
    return undefined;
  }
  if (!charge || typeof charge.label !== 'string' || !Number.isInteger(charge.count)) return undefined;
  const mechanism = charge.mechanism as Mechanism;
  try {
    validateMechanism(mechanism);
  } catch {
    return undefined;
  }
  return { label: charge.label, count: charge.count as number, mechanism };
}

/**
 * The releases that left the node according to its egress log: egress entries that carry an
 * epsilon (only the masked input of a noised round does), one per distinct (label, payload)
 * since the participant re-sends the same bytes when the coordinator is unreachable; a round
 * answered twice (after a restart) sent two noise draws and counts twice, as the ledger did.
 */
export function chargesInLog(entries: readonly AuditEntry[]): LoggedCharge[] {
  const seen = new Set<string>();
  const out: LoggedCharge[] = [];
  for (const e of entries) {
    if (e.event !== 'egress' || e.epsilon === '') continue;
    const release = releaseOf(e.detail);
    const label = release?.label ?? `${e.federation}#${e.round}`;
    const key = `${label}\n${e.sha256}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      seq: Number(e.seq),
      label,
      sha256: e.sha256,
      epsilon: Number(e.epsilon),
      epsilonTotal: Number(e.epsilonTotal),
      release,
    });
  }
  return out;
}

/**
 * The releases in the log that the ledger has no entry for (counting per label): empty when the
 * ledger covers everything that left. A ledger may hold more than the log (a release committed
 * and then not sent), never less.
 */
export function uncoveredCharges(
  charges: readonly LoggedCharge[],
  ledger: Pick<LedgerState, 'entries'> | undefined,
): LoggedCharge[] {
  const committed = new Map<string, number>();
  for (const e of ledger?.entries ?? []) committed.set(e.label, (committed.get(e.label) ?? 0) + 1);
  const missing: LoggedCharge[] = [];
  for (const c of charges) {
    const left = committed.get(c.label) ?? 0;
    if (left > 0) committed.set(c.label, left - 1);
    else missing.push(c);
  }
  return missing;
}

/** The node's egress log entries, or none when the node has not written its log yet. */
export async function readNodeLog(dir: string): Promise<AuditEntry[]> {
  const file = path.join(dir, NODE_FILES.auditLog);
  if (!fs.existsSync(file)) return [];
  const store = new SqliteAuditLogStore(file, { forReading: true });
  try {
    return await store.all();
  } finally {
    store.close();
  }
}
