/**
 * The cost of a whole schedule (queries per round x rounds) of one mechanism, as the CLI's
 * `fedistill privacy cost` reports it.
 */
import { RdpAccountant } from './accountant';
import type { EpsilonAtOrder } from './conversion';
import type { Mechanism } from './mechanisms';

/** Parameters of `privacyCost`. */
export interface CostRequest {
  readonly mechanism: 'gaussian' | 'skellam' | 'gnmax';
  /** Noise standard deviation σ (gaussian, gnmax; for skellam μ = σ²/2), > 0. */
  readonly sigma?: number;
  /** Skellam parameter μ (aggregate noise Poisson(μ) - Poisson(μ), variance 2μ), > 0. */
  readonly mu?: number;
  /**
   * L2 sensitivity of one query's answer (gaussian, skellam; default 1). For skellam the L1
   * sensitivity is taken as Δ2², valid for integer vectors (|x| <= x² for integers).
   */
  readonly sensitivity?: number;
  /** Queries per round, integer >= 1. */
  readonly queries: number;
  /** Rounds, integer >= 1 (default 1). */
  readonly rounds?: number;
  /** δ in (0, 1). */
  readonly delta: number;
}

/** The result: ε at δ, the best Rényi order, and the number of composed applications. */
export interface CostResult extends EpsilonAtOrder {
  readonly delta: number;
  readonly compositions: number;
  readonly mechanism: Mechanism;
}

/** Builds the mechanism from `req`, composes it queries x rounds times, converts to (ε, δ). */
export function privacyCost(req: CostRequest): CostResult {
  const rounds = req.rounds ?? 1;
  if (!Number.isInteger(req.queries) || req.queries < 1)
    throw new RangeError("'queries' must be an integer >= 1");
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError("'rounds' must be an integer >= 1");
  const mechanism = buildMechanism(req);
  const compositions = req.queries * rounds;
  const { epsilon, order } = new RdpAccountant().add(mechanism, compositions).epsilon(req.delta);
  return { epsilon, order, delta: req.delta, compositions, mechanism };
}

function buildMechanism(req: CostRequest): Mechanism {
  const l2 = req.sensitivity ?? 1;
  if (req.mechanism === 'skellam') {
    if (req.mu !== undefined && req.sigma !== undefined)
      throw new RangeError("give either 'sigma' or 'mu', not both");
    const mu = req.mu ?? (req.sigma !== undefined ? (req.sigma * req.sigma) / 2 : undefined);
    if (mu === undefined) throw new RangeError("'mu' (or 'sigma') is required for skellam");
    return { kind: 'skellam', mu, l2, l1: l2 * l2 };
  }
  if (req.mu !== undefined) throw new RangeError(`'mu' applies to skellam only, not ${req.mechanism}`);
  if (req.sigma === undefined) throw new RangeError(`'sigma' is required for ${req.mechanism}`);
  if (req.mechanism === 'gnmax') {
    // One changed vote moves two counts by 1: the sensitivity is fixed (Papernot et al. 2018, §4.1).
    if (req.sensitivity !== undefined) throw new RangeError("'sensitivity' is fixed for gnmax (one vote)");
    return { kind: 'gnmax', sigma: req.sigma };
  }
  if (req.mechanism !== 'gaussian') throw new RangeError(`'mechanism' must be gaussian, skellam or gnmax`);
  return { kind: 'gaussian', sigma: req.sigma, l2 };
}
