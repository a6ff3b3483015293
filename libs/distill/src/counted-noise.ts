import { aggregateMechanism, honestShares, type Mechanism, type NoiseShareSpec } from '@fedistill/dp';
import type { ReleasePlan } from './release';

/**
 * What a site assumes about the other participants of a round (node.yaml `privacy.trust` and
 * `privacy.assumedColluders`). Distributed noise only protects a record as far as the noise the
 * adversary does not know: a participant that colludes with the coordinator (or is one of its
 * sybils) adds nothing, or tells the coordinator what it added (Kairouz, Liu, Steinke 2021,
 * arXiv:2102.06387, §1; Agarwal, Kairouz, Liu 2021, arXiv:2110.04995, §1).
 * - 'paranoid': count only the site's own share (needs no trust in anybody).
 * - 'colluders': also count the shares of the honest others: of the n - T survivors the sum is
 *   unmasked with, at most `colluders` collude, so n - T - C shares (the site's own included) are
 *   honest.
 */
export type TrustAssumption =
  { readonly kind: 'paranoid' } | { readonly kind: 'colluders'; readonly colluders: number };

/** The noise a site counts on in a round, and what its ledger charges for it. */
export interface CountedNoise {
  /** k: shares counted (the site's own plus honest others'), integer >= 1. */
  readonly shares: number;
  /** n - T - C of the plan: the shares the plan needs to reach the federation's target. */
  readonly planned: number;
  /** The release with k shares of the announced size: what the site's ledger charges. */
  readonly mechanism: Mechanism;
  /** The assumption in words, recorded with ε in the egress log. */
  readonly assumption: string;
}

/**
 * k = 1 when paranoid, else max(1, n - T - C): the site's own share plus those of at most
 * n - T - C - 1 honest others (never fewer than its own). Throws RangeError naming a bad field.
 */
export function countedShares(noise: NoiseShareSpec, trust: TrustAssumption): number {
  honestShares(noise); // validates the split itself
  if (trust.kind === 'paranoid') return 1;
  if (!Number.isInteger(trust.colluders) || trust.colluders < 0)
    throw new RangeError("'colluders' must be an integer >= 0");
  return Math.max(1, noise.sites - noise.toleratedDropouts - trust.colluders);
}

/**
 * What `trust` lets a site count of a round's noise. Each share has the announced variance
 * V/(n - T - C_plan), so the counted aggregate has variance k V/(n - T - C_plan): a Skellam of
 * μ = k v/2 (shares sum exactly, arXiv:2110.04995 §3) or k discrete Gaussian summands (KLS21
 * Theorem 1). With the plan's own assumption k = n - T - C_plan and the charge is the target.
 */
export function countedNoise(plan: ReleasePlan, trust: TrustAssumption): CountedNoise {
  if (!plan.noise) throw new RangeError("'plan' has no noise: there is nothing to count");
  const shares = countedShares(plan.noise, trust);
  const mechanism = aggregateMechanism(
    plan.noise,
    { l2: plan.l2, l1: plan.l1, dimension: plan.dimension },
    shares,
  );
  return {
    shares,
    planned: honestShares(plan.noise),
    mechanism,
    assumption: assumptionText(plan.noise, trust),
  };
}

/**
 * The assumption behind an epsilon, in words, e.g. "assuming at most 2 of 10 participants collude
 * with the coordinator and at most 1 drops out". Without `trust`, the plan's own assumption.
 */
export function assumptionText(
  noise: Pick<NoiseShareSpec, 'sites' | 'toleratedDropouts' | 'assumedColluders'>,
  trust?: TrustAssumption,
): string {
  const n = noise.sites;
  const t = noise.toleratedDropouts;
  // Paranoid counts one share whoever drops out, so the dropout tolerance does not enter it.
  if (trust?.kind === 'paranoid')
    return `assuming any of the other ${n - 1} participants may collude with the coordinator (paranoid: only this site's own noise share counts)`;
  const drop = `at most ${t} ${t === 1 ? 'drops' : 'drop'} out`;
  const c = trust ? trust.colluders : (noise.assumedColluders ?? 0);
  return `assuming at most ${c} of ${n} participants ${c === 1 ? 'colludes' : 'collude'} with the coordinator and ${drop}`;
}
