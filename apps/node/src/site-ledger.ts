import * as fs from 'node:fs';
import * as path from 'node:path';
import { type LedgerState, PrivacyLedger, type Quote, type Release } from '@fedistill/dp';
import { chargesInLog, readNodeLog, rebuildCommand, uncoveredCharges } from './ledger-log';
import { NodeConfigError } from './node-config';
import { acquireNodeLock, type NodeLock } from './node-lock';

export const LEDGER_FILE = 'privacy-ledger.json';

/** The egress log shows releases that the ledger does not record: starting would forget spent budget. */
export class LedgerBehindLogError extends Error {
  override readonly name = 'LedgerBehindLogError';
}

/** What a read-only look at the ledger shows (`node ledger show`, the demo's summary). */
export interface LedgerSnapshot {
  readonly file: string;
  readonly exists: boolean;
  readonly epsilonLimit: number;
  readonly delta: number;
  readonly spent: number;
  readonly entries: LedgerState['entries'];
}

type Limits = { readonly epsilonLimit: number; readonly delta: number };

/** Reads DIR/privacy-ledger.json; undefined when absent; NodeConfigError when damaged. */
function readState(file: string): LedgerState | undefined {
  if (!fs.existsSync(file)) return undefined;
  let saved: LedgerState;
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8')) as LedgerState;
    if (
      !Array.isArray(saved.orders) ||
      !Array.isArray(saved.curve) ||
      saved.orders.length !== saved.curve.length ||
      !Array.isArray(saved.entries) ||
      !saved.curve.every((v) => v === null || (typeof v === 'number' && v >= 0))
    )
      throw new Error('orders, curve and entries are missing or inconsistent');
    // JSON has no Infinity: an order whose RDP is unbounded is stored as null.
    return { ...saved, curve: saved.curve.map((v) => (v === null ? Infinity : v)) };
  } catch (err) {
    throw new NodeConfigError(
      `${file} is damaged (${(err as Error).message}); restore it from a backup, or move it away and rebuild it from the egress log with \`${rebuildCommand(path.dirname(file))}\``,
    );
  }
}

/**
 * Writes the ledger durably: a temporary file, fsync, rename over the ledger, then fsync of the
 * directory, without which the rename itself may be lost on power failure (rename(2) is atomic
 * but not durable until the directory entry reaches the disk). A crash before the rename leaves
 * the previous ledger intact.
 */
export function writeLedgerFile(file: string, state: LedgerState): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    const curve = state.curve.map((v) => (Number.isFinite(v) ? v : null));
    fs.writeSync(fd, `${JSON.stringify({ ...state, curve }, null, 2)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

/**
 * The site's privacy budget, kept by the site (SPEC, privacy model item 4): one ledger for all
 * of the site's federations, since the same records answer every one of them. It is written to
 * DIR/privacy-ledger.json (write, fsync, rename, fsync the directory) before the release it
 * records leaves the node, so a crash can only over-count, never forget a release. One process at
 * a time holds it (DIR/node.lock), so two nodes started on one directory cannot each spend the
 * budget. A damaged file stops the node, and so does a missing or stale one when the signed
 * egress log shows releases it does not record (silently starting over would reset the budget).
 */
export class SiteLedger {
  private constructor(
    private readonly file: string,
    private ledger: PrivacyLedger,
    private readonly lock: NodeLock,
  ) {}

  /**
   * Takes the node directory's lock (NodeLockedError if another live process holds it), reads the
   * ledger and checks it against the egress log. Call close() to release the lock.
   */
  static async open(dir: string, limits: Limits): Promise<SiteLedger> {
    const file = path.join(dir, LEDGER_FILE);
    const lock = acquireNodeLock(dir);
    try {
      // A temporary file without its rename is a commit whose release never left (the rename
      // completes before the masked input is sent): the ledger it did not replace stands.
      fs.rmSync(`${file}.tmp`, { force: true });
      const saved = readState(file);
      const missing = uncoveredCharges(chargesInLog(await readNodeLog(dir)), saved);
      const first = missing[0];
      if (first) {
        const what = saved ? 'does not record' : 'is missing, but the egress log shows';
        throw new LedgerBehindLogError(
          `${file} ${what} ${missing.length} release(s) that spent privacy budget ` +
            `(first: round ${first.label}, egress log entry ${first.seq}, epsilon total then ${first.epsilonTotal}); ` +
            `starting would forget them. ${saved ? 'Move it away, then rebuild' : 'Rebuild'} the ledger from the signed egress log with \`${rebuildCommand(dir)}\`, or restore it from a backup`,
        );
      }
      // The limit and delta come from node.yaml (a privacy officer may change them); the RDP
      // curve of what was spent does not depend on either.
      const ledger = new PrivacyLedger(limits.epsilonLimit, limits.delta, saved);
      return new SiteLedger(file, ledger, lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** A read-only look, without the lock (the node may be running). */
  static read(dir: string, limits: Limits): LedgerSnapshot {
    const file = path.join(dir, LEDGER_FILE);
    const saved = readState(file);
    const ledger = new PrivacyLedger(limits.epsilonLimit, limits.delta, saved);
    return {
      file,
      exists: saved !== undefined,
      epsilonLimit: ledger.epsilonLimit,
      delta: ledger.delta,
      spent: ledger.spent.epsilon,
      entries: ledger.state.entries,
    };
  }

  get epsilonLimit(): number {
    return this.ledger.epsilonLimit;
  }

  get delta(): number {
    return this.ledger.delta;
  }

  /** Cumulative epsilon spent so far at the site's delta. */
  get spent(): number {
    return this.ledger.spent.epsilon;
  }

  get entries(): LedgerState['entries'] {
    return this.ledger.state.entries;
  }

  quote(release: Release): Quote {
    return this.ledger.quote(release);
  }

  /** Records a release and makes it durable; throws BudgetExceededError (recording nothing) past the limit. */
  commit(release: Release): Quote {
    const trial = PrivacyLedger.resume(this.ledger.state);
    const quote = trial.commit(release);
    writeLedgerFile(this.file, trial.state);
    this.ledger = trial;
    return quote;
  }

  /** Releases the node directory's lock. */
  close(): void {
    this.lock.release();
  }
}
