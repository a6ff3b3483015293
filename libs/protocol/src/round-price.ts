import { PrivacyLedger, type Quote, type Release } from '@fedistill/dp';
import { assumptionText, countedNoise, type ReleasePlan, type TrustAssumption } from '@fedistill/distill';

/** What pricing needs of the site's ledger (SiteLedger), read-only. */
export interface LedgerQuote {
  readonly delta: number;
  readonly epsilonLimit: number;
  quote(release: Release): Quote;
}

/** What answering a round costs this site, under its own trust assumption. */
export interface RoundPrice {
  /** The release the ledger commits: the noise the site counts on, not the announced total. */
  readonly release: Release;
  readonly quote: Quote;
  /** ε of this round alone at the site's δ. */
  readonly epsilon: number;
  /** The site's assumption in words, recorded with ε in the egress log. */
  readonly assumption: string;
  /** Why the site must decline (its limit would be passed), or null. */
  readonly refusal: string | null;
}

/**
 * Prices a round's release with the noise the site can count on (SPEC, privacy model item 4):
 * its own share plus those of at most n - T - C - 1 honest others under node.yaml's
 * `privacy.assumedColluders` C, or its own share alone when `privacy.trust` is paranoid. The
 * announced aggregate assumes the plan's C; a participant colluding with the coordinator (or a
 * sybil of it) adds no noise the coordinator does not know (arXiv:2102.06387, §1), so charging
 * for the announced total would understate ε whenever the plan trusts more than the site does.
 * Returns null for a round without noise (nothing to charge).
 */
export function priceRound(
  plan: ReleasePlan,
  trust: TrustAssumption,
  ledger: LedgerQuote,
  label: string,
): RoundPrice | null {
  if (!plan.noise) return null;
  const counted = countedNoise(plan, trust);
  const release: Release = { label, mechanism: counted.mechanism, count: 1 };
  const quote = ledger.quote(release);
  const epsilon = new PrivacyLedger(Number.MAX_VALUE, ledger.delta).quote(release).epsilonAfter;
  let refusal: string | null = null;
  if (!quote.allowed) {
    const past = `answering would bring this site's epsilon from ${quote.epsilonBefore.toFixed(4)} to ${quote.epsilonAfter.toFixed(4)}, past its limit ${ledger.epsilonLimit} (delta ${ledger.delta})`;
    refusal =
      counted.shares < counted.planned
        ? `${past}: the round's noise plan counts on ${counted.planned} honest noise shares (${assumptionText(plan.noise)}), this site counts on ${counted.shares} (${counted.assumption}; node.yaml privacy.trust / privacy.assumedColluders)`
        : past;
  }
  return { release, quote, epsilon, assumption: counted.assumption, refusal };
}
