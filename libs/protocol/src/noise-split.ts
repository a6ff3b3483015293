import { type NoiseShareSpec, perSiteVariance } from '@fedistill/dp';

/** How a round's distributed noise is split, as its terms imply it. */
export interface NoiseSplit {
  /** Invited sites n. */
  readonly sites: number;
  /** T = n - minSurvivors: the sum is never unmasked with fewer than n - T survivors. */
  readonly toleratedDropouts: number;
  /** C: survivors the split assumes may collude with the coordinator (their shares count for nothing). */
  readonly assumedColluders: number;
}

/**
 * The noise split of a round with `sites` invited, unmasked with at least `minSurvivors`
 * survivors of which `assumedColluders` may collude: each site adds V/(n - T - C) with
 * T = n - minSurvivors, so the n - T - C honest shares reach the target V (Kairouz, Liu,
 * Steinke 2021, arXiv:2102.06387, §1; Agarwal, Kairouz, Liu 2021, arXiv:2110.04995, §4). The
 * coordinator's planner and every site derive it here, from the same announced terms.
 * Throws RangeError naming the bad argument (C must leave one honest survivor: C < minSurvivors).
 */
export function noiseSplitOf(sites: number, minSurvivors: number, assumedColluders: number): NoiseSplit {
  if (!Number.isInteger(sites) || sites < 1) throw new RangeError("'sites' must be an integer >= 1");
  if (!Number.isInteger(minSurvivors) || minSurvivors < 1 || minSurvivors > sites)
    throw new RangeError(`'minSurvivors' ${minSurvivors} is outside [1, ${sites}]`);
  if (!Number.isInteger(assumedColluders) || assumedColluders < 0 || assumedColluders >= minSurvivors)
    throw new RangeError(
      `'assumedColluders' ${assumedColluders} leaves no honest survivor of ${minSurvivors} (it must be in [0, ${minSurvivors - 1}])`,
    );
  return { sites, toleratedDropouts: sites - minSurvivors, assumedColluders };
}

/** The most colluders a split can assume ('all' in a federation definition): all survivors but one. */
export const mostColluders = (minSurvivors: number): number => minSurvivors - 1;

/**
 * One site's noise share as a standard deviation, sqrt(V/(n - T - C)) in quantized units: what
 * the announcement states (site_noise_stddev) and what each site recomputes and compares.
 */
export function siteNoiseStddev(noise: NoiseShareSpec): number {
  return Math.sqrt(perSiteVariance(noise));
}
