import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyAuditLog } from '@fedistill/audit';
import { PrivacyLedger } from '@fedistill/dp';
import { readSiteKeyFile } from '@fedistill/identity';
import { chargesInLog, readNodeLog } from './ledger-log';
import { loadNodeConfig, NODE_FILES } from './node-config';
import { acquireNodeLock } from './node-lock';
import { LEDGER_FILE, writeLedgerFile } from './site-ledger';

/** The egress log cannot give back the ledger (it does not verify, or lacks what was charged). */
export class LedgerRebuildError extends Error {
  override readonly name = 'LedgerRebuildError';
}

export interface LedgerRebuildResult {
  readonly file: string;
  /** Entries of the log read and verified. */
  readonly logEntries: number;
  readonly releases: number;
  readonly epsilonSpent: number;
  readonly epsilonLimit: number;
  readonly delta: number;
  /** Releases whose recomputed running total differs from the one the log recorded (δ changed since, say). */
  readonly differences: readonly { label: string; logged: number; rebuilt: number }[];
}

/**
 * Rebuilds DIR/privacy-ledger.json from the node's signed egress log (issue 11, finding 7). The
 * log is verified first, its genesis key pinned to the node's own signing key, so a log that was
 * truncated, edited or forged cannot lower the budget; then every release it shows leaving is
 * recomposed from the mechanism recorded with it, in order, at node.yaml's delta and limit. The
 * node must be stopped (its directory lock is taken) and no ledger file may exist: rebuilding
 * never overwrites one.
 */
export async function rebuildLedger(dir: string): Promise<LedgerRebuildResult> {
  const config = loadNodeConfig(dir);
  const file = path.join(config.dir, LEDGER_FILE);
  const lock = acquireNodeLock(config.dir);
  try {
    if (fs.existsSync(file))
      throw new LedgerRebuildError(
        `${file} exists: rebuilding never overwrites a ledger; move it away first if the egress log shows releases it lacks`,
      );
    const entries = await readNodeLog(config.dir);
    if (entries.length === 0)
      throw new LedgerRebuildError(`${path.join(config.dir, NODE_FILES.auditLog)} holds no egress log`);
    const keys = readSiteKeyFile(path.join(config.dir, NODE_FILES.keys));
    const check = verifyAuditLog(entries, Buffer.from(keys.signingPublicKey).toString('hex'));
    if (!check.ok) {
      const p = check.problem;
      throw new LedgerRebuildError(
        `the egress log does not verify, so it cannot be trusted to rebuild the budget: entry ${p?.position ?? '?'} (seq ${p?.seq ?? '?'}), ${p?.field ?? '?'}: ${p?.reason ?? 'unknown'}`,
      );
    }
    const charges = chargesInLog(entries);
    // Composed without a limit: what was spent was spent, even past a limit lowered since.
    const ledger = new PrivacyLedger(Number.MAX_VALUE, config.privacy.delta);
    const differences: { label: string; logged: number; rebuilt: number }[] = [];
    for (const c of charges) {
      if (!c.release)
        throw new LedgerRebuildError(
          `egress log entry ${c.seq} (round ${c.label}) records epsilon ${c.epsilon} but not the mechanism it was charged for (written by an older node): the exact ledger cannot be rebuilt from this log; restore ${LEDGER_FILE} from a backup`,
        );
      const q = ledger.commit(c.release);
      if (Math.abs(q.epsilonAfter - c.epsilonTotal) > 1e-9 * Math.max(1, c.epsilonTotal))
        differences.push({ label: c.label, logged: c.epsilonTotal, rebuilt: q.epsilonAfter });
    }
    const state = { ...ledger.state, epsilonLimit: config.privacy.epsilonLimit, delta: config.privacy.delta };
    writeLedgerFile(file, state);
    return {
      file,
      logEntries: entries.length,
      releases: charges.length,
      epsilonSpent: ledger.spent.epsilon,
      epsilonLimit: config.privacy.epsilonLimit,
      delta: config.privacy.delta,
      differences,
    };
  } finally {
    lock.release();
  }
}
