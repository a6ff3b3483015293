import * as fs from 'node:fs';
import * as path from 'node:path';
import { type LedgerState, PrivacyLedger, type Quote, type Release } from '@fedistill/dp';
import { NodeConfigError } from './node-config';

export const LEDGER_FILE = 'privacy-ledger.json';

/**
 * The site's privacy budget, kept by the site (SPEC, privacy model item 4): one ledger for all
 * of the site's federations, since the same records answer every one of them. It is written to
 * DIR/privacy-ledger.json (write, fsync, rename) before the release it records leaves the node,
 * so a crash can only over-count, never forget a release. A missing file is a fresh budget; a
 * damaged one stops the node (silently starting over would reset the budget).
 */
export class SiteLedger {
  private constructor(
    private readonly file: string,
    private ledger: PrivacyLedger,
  ) {}

  static open(dir: string, limits: { epsilonLimit: number; delta: number }): SiteLedger {
    const file = path.join(dir, LEDGER_FILE);
    if (!fs.existsSync(file))
      return new SiteLedger(file, new PrivacyLedger(limits.epsilonLimit, limits.delta));
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
      saved = { ...saved, curve: saved.curve.map((v) => (v === null ? Infinity : v)) };
    } catch (err) {
      throw new NodeConfigError(
        `${file} is damaged (${(err as Error).message}); restore it from a backup: the site's spent budget cannot be reconstructed`,
      );
    }
    // The limit and delta come from node.yaml (a privacy officer may change them); the RDP curve
    // of what was spent does not depend on either.
    return new SiteLedger(file, new PrivacyLedger(limits.epsilonLimit, limits.delta, saved));
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
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      const state = trial.state;
      const curve = state.curve.map((v) => (Number.isFinite(v) ? v : null));
      fs.writeSync(fd, `${JSON.stringify({ ...state, curve }, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    this.ledger = trial;
    return quote;
  }
}
