import { decodeState } from '@fedistill/secagg';
import type { RoundRecord } from '@fedistill/store';
import { federationEpsilon, type FederationSpec, releasePlanOf, type RoundPlan } from '@fedistill/protocol';
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
  if (cap === undefined || !releasePlanOf(plan).mechanism) return;
  const completed = previous
    .filter((r) => r.status === 'completed')
    .map((r) => decodeState<RoundSnapshot>(r.engine).plan);
  const delta = federation.privacy.delta;
  // The one composition of a federation's epsilon (libs/protocol federation-epsilon.ts).
  const before = federationEpsilon(completed, delta).epsilon;
  const after = federationEpsilon([...completed, plan], delta).epsilon;
  if (after > cap)
    throw new RequestInvalidError(
      `round ${plan.round} would bring federation '${federation.id}' from epsilon ${before.toFixed(4)} to ${after.toFixed(4)} (delta ${federation.privacy.delta}), past its privacy.epsilonCap ${cap}`,
    );
}
