import { RdpAccountant } from '@fedistill/dp';
import { decodeState } from '@fedistill/secagg';
import type { RoundRecord } from '@fedistill/store';
import { type FederationSpec, releasePlanOf, type RoundPlan } from '@fedistill/protocol';
import { RequestInvalidError } from '../domain/errors';
import type { RoundSnapshot } from './live-round';

/**
 * Refuses a round that would take the federation past its privacy.epsilonCap: the releases of
 * every completed round (distillation and evaluation) and of the new one, composed in the RDP
 * accountant at the federation's delta. This is the operator's own cap; each site still
 * enforces its own limit on its own ledger, whatever the coordinator does.
 */
export function checkEpsilonCap(
  federation: FederationSpec,
  plan: RoundPlan,
  previous: readonly RoundRecord[],
): void {
  const cap = federation.privacy.epsilonCap;
  const next = releasePlanOf(plan).mechanism;
  if (cap === undefined || !next) return;
  const accountant = new RdpAccountant();
  for (const r of previous) {
    if (r.status !== 'completed') continue;
    const mechanism = releasePlanOf(decodeState<RoundSnapshot>(r.engine).plan).mechanism;
    if (mechanism) accountant.add(mechanism, 1);
  }
  const before = accountant.epsilon(federation.privacy.delta).epsilon;
  const after = accountant.add(next, 1).epsilon(federation.privacy.delta).epsilon;
  if (after > cap)
    throw new RequestInvalidError(
      `round ${plan.round} would bring federation '${federation.id}' from epsilon ${before.toFixed(4)} to ${after.toFixed(4)} (delta ${federation.privacy.delta}), past its privacy.epsilonCap ${cap}`,
    );
}
