/**
 * An RDP accountant: composition adds ε(α) order by order (Mironov 2017, arXiv:1702.07476,
 * Proposition 1), over every query of every round; the total converts to (ε, δ) with the
 * improved conversion over the grid of orders.
 */
import { DEFAULT_ORDERS, type EpsilonAtOrder, epsilonFromRdp } from './conversion';
import { type Mechanism, rdp, validateMechanism } from './mechanisms';

/** The RDP curve of `count` compositions of `m` over `orders`. */
export function rdpCurve(m: Mechanism, count: number, orders: readonly number[] = DEFAULT_ORDERS): number[] {
  validateMechanism(m);
  if (!Number.isInteger(count) || count < 0) throw new RangeError("'count' must be an integer >= 0");
  return orders.map((a) => (count === 0 ? 0 : count * rdp(m, a)));
}

/** Accumulates RDP over releases. Plain numbers only, so its state can be persisted. */
export class RdpAccountant {
  private readonly totals: number[];

  /** `orders`: the Rényi orders to track (all > 1); `totals`: a previously saved curve. */
  constructor(
    readonly orders: readonly number[] = DEFAULT_ORDERS,
    totals?: readonly number[],
  ) {
    if (orders.length === 0 || orders.some((a) => !(a > 1)))
      throw new RangeError("'orders' must be non-empty, all > 1");
    if (totals && totals.length !== orders.length) throw new RangeError("'totals' must match 'orders'");
    this.totals = totals ? [...totals] : orders.map(() => 0);
  }

  /** Composes `count` applications of `m` (e.g. the queries of one round). */
  add(m: Mechanism, count = 1): this {
    rdpCurve(m, count, this.orders).forEach((r, i) => (this.totals[i] = (this.totals[i] as number) + r));
    return this;
  }

  /** The accumulated ε(α) per order. */
  get curve(): readonly number[] {
    return [...this.totals];
  }

  /** The (ε, δ) guarantee of everything added so far, with the best order. */
  epsilon(delta: number): EpsilonAtOrder {
    return epsilonFromRdp(this.orders, this.totals, delta);
  }
}
