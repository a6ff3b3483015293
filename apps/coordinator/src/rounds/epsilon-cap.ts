import { decodeState } from '@fedistill/secagg';
import type { RoundRecord } from '@fedistill/store';
import { epsilonCapRefusal, type FederationSpec, type RoundPlan } from '@fedistill/protocol';
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
  const completed = previous
    .filter((r) => r.status === 'completed')
    .map((r) => decodeState<RoundSnapshot>(r.engine).plan);
  // The one composition of a federation's epsilon and its cap (libs/protocol federation-epsilon.ts).
  const refusal = epsilonCapRefusal(federation, completed, plan);
  if (refusal) throw new RequestInvalidError(refusal);
}
