/**
 * Distributed noise shares: each of n sites adds independent integer noise with variance
 * V / (n - T - C), so the sum over any m >= n - T sites (at most T dropped) of which at most C
 * collude with the aggregator carries at least n - T - C honest shares, variance >= V.
 * Skellam shares sum to a Skellam exactly (Agarwal, Kairouz, Liu 2021, arXiv:2110.04995, §3);
 * discrete Gaussian shares sum to a near-discrete-Gaussian that the accountant bounds with
 * Kairouz, Liu, Steinke 2021 (arXiv:2102.06387, Theorem 1/Proposition 14). Extra sites only add
 * independent noise, which is post-processing, so the worst case is the fewest sites.
 */
import { DiscreteGaussianSampler } from './discrete-gaussian';
import type { Mechanism } from './mechanisms';
import { sampleSkellam } from './poisson';
import { cryptoRandom, type RandomSource } from './random-source';
import { UniformSampler } from './uniform';

/** How noise is split among sites. */
export interface NoiseShareSpec {
  /** 'skellam' (recommended: closed under sums) or 'discrete-gaussian'. */
  readonly kind: 'skellam' | 'discrete-gaussian';
  /** Target variance V of the aggregate noise per coordinate, in quantized units; > 0. */
  readonly variance: number;
  /** Number of invited sites n >= 1. */
  readonly sites: number;
  /** Dropouts T the noise must survive, 0 <= T < n. */
  readonly toleratedDropouts: number;
  /**
   * Colluders C the split assumes among the survivors: participants that may collude with the
   * aggregator and add no noise (or subtract what they added). Integer, 0 <= C < n - T; absent
   * means 0 (every survivor is trusted to add its share).
   */
  readonly assumedColluders?: number;
}

/**
 * The variance each site adds: V / (n - T - C), so that the shares of any n - T - C honest
 * survivors (the fewest the split relies on) sum to V. Throws RangeError naming a bad field.
 */
export function perSiteVariance(spec: NoiseShareSpec): number {
  return spec.variance / honestShares(spec);
}

/** n - T - C: the noise shares a split relies on (all honest survivors in the worst case). */
export function honestShares(spec: NoiseShareSpec): number {
  if (!(spec.variance > 0) || !Number.isFinite(spec.variance)) throw new RangeError("'variance' must be > 0");
  if (!Number.isInteger(spec.sites) || spec.sites < 1)
    throw new RangeError("'sites' must be an integer >= 1");
  const t = spec.toleratedDropouts;
  if (!Number.isInteger(t) || t < 0 || t >= spec.sites)
    throw new RangeError("'toleratedDropouts' must be in [0, sites)");
  const c = spec.assumedColluders ?? 0;
  if (!Number.isInteger(c) || c < 0 || c >= spec.sites - t)
    throw new RangeError("'assumedColluders' must be in [0, sites - toleratedDropouts)");
  return spec.sites - t - c;
}

/** One site's noise share: `length` independent integers with variance V/(n - T - C) each. */
export function sampleNoiseShare(
  length: number,
  spec: NoiseShareSpec,
  random: RandomSource = cryptoRandom,
): Int32Array {
  if (!Number.isInteger(length) || length < 0) throw new RangeError("'length' must be an integer >= 0");
  const variance = perSiteVariance(spec);
  if (variance > 1e15) throw new RangeError("'variance' per site must be <= 1e15 to fit 32-bit integers");
  const u = new UniformSampler(random);
  const out = new Int32Array(length);
  if (spec.kind === 'skellam') {
    const mu = variance / 2; // Sk(mu) has variance 2·mu
    for (let i = 0; i < length; i++) out[i] = sampleSkellam(u, mu);
  } else {
    const dg = new DiscreteGaussianSampler(u, variance);
    for (let i = 0; i < length; i++) out[i] = dg.sample();
  }
  return out;
}

/** Sensitivities of one site-round contribution, in quantized units. */
export interface Sensitivity {
  /** L2 sensitivity Δ2 (e.g. 2 x the rounded norm bound of one teacher's vector), > 0. */
  readonly l2: number;
  /** L1 sensitivity Δ1 (for integer vectors at most min(Δ2², √d·Δ2)), > 0. */
  readonly l1: number;
  /** Number of coordinates d released. */
  readonly dimension: number;
}

/**
 * The mechanism the accountant must charge for one release of the aggregate when `counted`
 * independent shares reach it unknown to the adversary. By default n - T - C: the worst case of
 * n - T survivors of which C collude (more honest sites only add independent noise, which is
 * post-processing). A site that trusts fewer of the others passes its own smaller count (1: only
 * its own share); shares a colluder knows are subtracted by the adversary, so they count for
 * nothing (Kairouz, Liu, Steinke 2021, arXiv:2102.06387, §1: the distributed noise is only as
 * large as the honest parties' part of it).
 */
export function aggregateMechanism(spec: NoiseShareSpec, s: Sensitivity, counted?: number): Mechanism {
  const perSite = perSiteVariance(spec);
  const summands = counted ?? honestShares(spec);
  if (!Number.isInteger(summands) || summands < 1) throw new RangeError("'counted' must be an integer >= 1");
  if (spec.kind === 'skellam') return { kind: 'skellam', mu: (perSite * summands) / 2, l2: s.l2, l1: s.l1 };
  return {
    kind: 'distributed-discrete-gaussian',
    sigma: Math.sqrt(perSite),
    summands,
    dimension: s.dimension,
    l2: s.l2,
    l1: s.l1,
  };
}
