import { RdpAccountant } from '@fedistill/dp';
import type { FederationSpec } from './federation-spec';
import { releasePlanOf, type RoundPlan } from './round-plan';

/** What a federation's rounds cost, composed. */
export interface FederationEpsilon {
  /** ε at `delta` of the noised releases composed (0 when there are none). */
  readonly epsilon: number;
  /** The Rényi order that gave ε, or null when no noised release was composed. */
  readonly order: number | null;
  /** Rounds composed (each released once, with noise). */
  readonly noised: number;
  /** Rounds that released without noise: no finite ε holds for them. */
  readonly unnoised: number;
}

/**
 * The one composition of a federation's epsilon: the release of every given round (distillation
 * and evaluation alike: both release noised counts of records), once per round, composed in the
 * RDP accountant (Mironov 2017, arXiv:1702.07476) and converted to (ε, δ) (Canonne, Kamath,
 * Steinke 2020, arXiv:2004.00010, Prop. 12). This is the federation-level statement under the
 * plans' own noise assumption; each site still charges its own ledger for the noise its own
 * trust lets it count (libs/distill counted-noise.ts). Rounds without noise are counted in
 * `unnoised` and add nothing to ε: a caller decides what they mean (the cap ignores them, a
 * student's privacy statement becomes 'none').
 */
export function federationEpsilon(plans: readonly RoundPlan[], delta: number): FederationEpsilon {
  if (!(delta > 0 && delta < 1)) throw new RangeError("'delta' must be in (0, 1)");
  const accountant = new RdpAccountant();
  let noised = 0;
  let unnoised = 0;
  for (const plan of plans) {
    const mechanism = releasePlanOf(plan).mechanism;
    if (!mechanism) {
      unnoised += 1;
      continue;
    }
    accountant.add(mechanism, 1);
    noised += 1;
  }
  if (noised === 0) return { epsilon: 0, order: null, noised, unnoised };
  const { epsilon, order } = accountant.epsilon(delta);
  return { epsilon, order, noised, unnoised };
}

/**
 * Why the federation's privacy.epsilonCap refuses round `plan` after the `completed` rounds, or
 * null: their releases and the new one composed by federationEpsilon at privacy.delta. The
 * coordinator refuses to open such a round with this message, and the simulator a configuration
 * whose rounds would reach it.
 */
export function epsilonCapRefusal(
  federation: Pick<FederationSpec, 'id' | 'privacy'>,
  completed: readonly RoundPlan[],
  plan: RoundPlan,
): string | null {
  const cap = federation.privacy.epsilonCap;
  if (cap === undefined || !releasePlanOf(plan).mechanism) return null;
  const delta = federation.privacy.delta;
  const before = federationEpsilon(completed, delta).epsilon;
  const after = federationEpsilon([...completed, plan], delta).epsilon;
  if (after <= cap) return null;
  return `round ${plan.round} would bring federation '${federation.id}' from epsilon ${before.toFixed(4)} to ${after.toFixed(4)} (delta ${delta}), past its privacy.epsilonCap ${cap}`;
}
