import type { ReleasePlan, TrustAssumption } from '@fedistill/distill';
import { DeclineReason } from '@fedistill/wire';
import { RoundRefusal } from './announcement-checks';
import type { EgressContext } from './egress';
import { priceRound } from './round-price';
import type { SiteLedger } from './site-ledger';

/** What answering a round will cost the site, and how to make that spend durable. */
export interface RoundCharge {
  /** ε of this round alone, or null for a round without noise. */
  readonly epsilon: number | null;
  readonly assumption?: string;
  /** Recorded with the masked input in the egress log. */
  readonly context: EgressContext;
  /** Commits the spend to the ledger; called before the masked input (the release) leaves. */
  readonly commit: () => void;
}

/**
 * Prices the round's release with the site's own ledger and trust assumption (round-price.ts)
 * and refuses it (DECLINE_REASON_BUDGET_EXHAUSTED) when the site's epsilon limit would be passed.
 */
export function chargeRound(
  plan: ReleasePlan,
  trust: TrustAssumption,
  ledger: SiteLedger,
  label: string,
): RoundCharge {
  const price = priceRound(plan, trust, ledger, label);
  if (!price) return { epsilon: null, context: {}, commit: () => undefined };
  const { release, quote, refusal, epsilon, assumption } = price;
  if (refusal)
    throw new RoundRefusal(DeclineReason.DECLINE_REASON_BUDGET_EXHAUSTED, refusal, {
      spent: quote.epsilonBefore,
      limit: ledger.epsilonLimit,
      round: epsilon,
    });
  return {
    epsilon,
    assumption,
    context: {
      epsilon,
      epsilonTotal: quote.epsilonAfter,
      epsilonLimit: ledger.epsilonLimit,
      assumption,
      // Recorded in the egress entry: what `node ledger rebuild` recomposes (site-ledger.ts).
      charge: release,
    },
    commit: () => void ledger.commit(release),
  };
}
