import { PrivacyLedger } from '@fedistill/dp';
import type { TrustAssumption } from '@fedistill/distill';
import type { FederationSpec } from './federation-spec';
import { planEvaluationRound, planRound, releasePlanOf, type RoundPlan } from './round-plan';
import { priceRound } from './round-price';
import { plannedQueries } from './round-policy';

/** What to price: the rounds a site takes part in, and the site's own settings (node.yaml privacy). */
export interface SiteCostOptions {
  /** Distillation rounds the site answers, integer >= 1 (a federation runs at most rounds.maxRounds). */
  readonly rounds: number;
  /** Evaluation rounds the site answers after them, integer >= 0 (default 0). */
  readonly evaluations?: number;
  /** Sites invited to each round, integer >= 1 (at least rounds.minSites when the coordinator opens one). */
  readonly sites: number;
  /** The site's node.yaml privacy.trust / privacy.assumedColluders. */
  readonly trust: TrustAssumption;
  /** The δ the site measures ε at (node.yaml privacy.delta), in (0, 1). */
  readonly delta: number;
  /** The site's node.yaml privacy.epsilonLimit, > 0: the round that would pass it is declined. */
  readonly epsilonLimit: number;
}

/** One priced round. */
export interface SiteCostRound {
  readonly round: number;
  readonly kind: 'distill' | 'evaluation';
  /** ε of this round alone at the site's δ. */
  readonly epsilon: number;
  /** The site's cumulative ε once it has answered this round (and every one before it). */
  readonly epsilonTotal: number;
  /** Whether a site at `epsilonLimit` answers it (false: it declines, as its ledger refuses). */
  readonly answered: boolean;
}

/** What one site's ledger charges for a federation's rounds. */
export interface SiteCost {
  readonly rounds: readonly SiteCostRound[];
  /** Cumulative ε of all the rounds priced (as if the limit allowed them all), at `delta`. */
  readonly epsilon: number;
  readonly delta: number;
  /** The first round the site declines at its limit, or null when it answers all of them. */
  readonly firstDeclined: number | null;
  /** The site's trust assumption in words, as its egress log records it. */
  readonly assumption: string;
}

const int = (name: string, v: number, min: number) => {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`'${name}' must be an integer >= ${min}`);
};

/**
 * What a site's privacy ledger charges for a federation's rounds, before any runs: each round is
 * planned as the coordinator plans it (planRound / planEvaluationRound, `rounds.queriesPerRound`
 * queries, `sites` participants), priced by the function a node's ledger charges with
 * (priceRound: the noise the site's own trust lets it count, libs/distill counted-noise.ts) and
 * composed in the RDP accountant of a PrivacyLedger, exactly as the node's SiteLedger commits
 * it. Throws RangeError naming a bad option, or when the definition has no noise.
 */
export function federationSiteCost(spec: FederationSpec, o: SiteCostOptions): SiteCost {
  int('rounds', o.rounds, 1);
  int('evaluations', o.evaluations ?? 0, 0);
  int('sites', o.sites, 1);
  if (spec.privacy.mechanism === 'none')
    throw new RangeError(
      "the federation's privacy.mechanism is 'none': its rounds have no noise and no epsilon",
    );
  const sites = Array.from({ length: o.sites }, (_v, i) => ({
    name: `site-${i + 1}`,
    signingPublicKey: '0'.repeat(64),
  }));
  const queries = plannedQueries(spec);
  const plans: RoundPlan[] = [];
  for (let r = 1; r <= o.rounds; r += 1) plans.push(planRound(spec, r, sites, queries, 0));
  for (let e = 1; e <= (o.evaluations ?? 0); e += 1)
    plans.push(planEvaluationRound(spec, o.rounds + e, sites, 1, 0));
  // The site's ledger, and the same ledger as if its limit allowed every round (for the total).
  const ledger = new PrivacyLedger(o.epsilonLimit, o.delta);
  const unlimited = new PrivacyLedger(Number.MAX_VALUE, o.delta);
  const rounds: SiteCostRound[] = [];
  let firstDeclined: number | null = null;
  let assumption = '';
  for (const plan of plans) {
    const label = `${spec.id}/${plan.round}`;
    const price = priceRound(releasePlanOf(plan), o.trust, ledger, label);
    if (!price) throw new RangeError(`round ${plan.round} has no noise to price`);
    assumption = price.assumption;
    const answered = price.refusal === null;
    if (answered) ledger.commit(price.release);
    else firstDeclined ??= plan.round;
    rounds.push({
      round: plan.round,
      kind: plan.kind ?? 'distill',
      epsilon: price.epsilon,
      epsilonTotal: unlimited.commit(price.release).epsilonAfter,
      answered,
    });
  }
  return { rounds, epsilon: unlimited.spent.epsilon, delta: o.delta, firstDeclined, assumption };
}
