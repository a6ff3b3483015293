/**
 * A privacy budget ledger: it prices a release before it happens ("what would this cost?") and
 * refuses one that would take the cumulative ε past the limit. Each site keeps its own and
 * consults it before every round, whatever the coordinator says (SPEC, privacy model, item 4).
 */
import { RdpAccountant } from './accountant';
import { DEFAULT_ORDERS, type EpsilonAtOrder } from './conversion';
import type { Mechanism } from './mechanisms';

/** One release to price: `count` applications of `mechanism` (e.g. one round's queries). */
export interface Release {
  /** A label for the record (round id, purpose). */
  readonly label: string;
  readonly mechanism: Mechanism;
  /** Number of compositions, integer >= 0. */
  readonly count: number;
}

/** The answer to "what would this release cost?". */
export interface Quote {
  readonly label: string;
  /** Cumulative ε before the release, at δ. */
  readonly epsilonBefore: number;
  /** Cumulative ε after the release, at δ (RDP composes, so this is not before + cost). */
  readonly epsilonAfter: number;
  /** The Rényi order that gives `epsilonAfter`. */
  readonly order: number;
  /** Whether `epsilonAfter` <= the limit. */
  readonly allowed: boolean;
}

/** A release that the ledger refused because it would pass the budget. */
export class BudgetExceededError extends Error {
  constructor(
    readonly quote: Quote,
    readonly limit: number,
  ) {
    super(
      `release '${quote.label}' would bring epsilon to ${quote.epsilonAfter.toFixed(4)}, past the limit ${limit}`,
    );
    this.name = 'BudgetExceededError';
  }
}

/** The persisted ledger: limits, the RDP curve so far, and the committed releases. */
export interface LedgerState {
  readonly epsilonLimit: number;
  readonly delta: number;
  readonly orders: readonly number[];
  readonly curve: readonly number[];
  readonly entries: readonly {
    readonly label: string;
    readonly count: number;
    readonly epsilonAfter: number;
  }[];
}

export class PrivacyLedger {
  private accountant: RdpAccountant;
  private entries: LedgerState['entries'];

  /** `epsilonLimit` > 0: the most cumulative ε allowed; `delta` in (0, 1): the δ it is measured at. */
  constructor(
    readonly epsilonLimit: number,
    readonly delta: number,
    saved?: Pick<LedgerState, 'orders' | 'curve' | 'entries'>,
  ) {
    if (!(epsilonLimit > 0)) throw new RangeError("'epsilonLimit' must be > 0");
    if (!(delta > 0 && delta < 1)) throw new RangeError("'delta' must be in (0, 1)");
    this.accountant = new RdpAccountant(saved?.orders ?? DEFAULT_ORDERS, saved?.curve);
    this.entries = saved?.entries ?? [];
  }

  /** Restores a ledger from `state`. */
  static resume(state: LedgerState): PrivacyLedger {
    return new PrivacyLedger(state.epsilonLimit, state.delta, state);
  }

  /** What has been spent so far. */
  get spent(): EpsilonAtOrder {
    return this.accountant.epsilon(this.delta);
  }

  /** Prices `release` without recording it. */
  quote(release: Release): Quote {
    const before = this.spent.epsilon;
    const trial = new RdpAccountant(this.accountant.orders, this.accountant.curve).add(
      release.mechanism,
      release.count,
    );
    const after = trial.epsilon(this.delta);
    return {
      label: release.label,
      epsilonBefore: before,
      epsilonAfter: after.epsilon,
      order: after.order,
      allowed: after.epsilon <= this.epsilonLimit,
    };
  }

  /** Records `release` if it fits the budget; throws BudgetExceededError (recording nothing) if not. */
  commit(release: Release): Quote {
    const quote = this.quote(release);
    if (!quote.allowed) throw new BudgetExceededError(quote, this.epsilonLimit);
    this.accountant.add(release.mechanism, release.count);
    this.entries = [
      ...this.entries,
      { label: release.label, count: release.count, epsilonAfter: quote.epsilonAfter },
    ];
    return quote;
  }

  /** The state to persist. */
  get state(): LedgerState {
    return {
      epsilonLimit: this.epsilonLimit,
      delta: this.delta,
      orders: this.accountant.orders,
      curve: this.accountant.curve,
      entries: this.entries,
    };
  }
}
