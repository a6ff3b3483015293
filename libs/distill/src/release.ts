import {
  aggregateMechanism,
  type Mechanism,
  type NoiseShareSpec,
  perSiteVariance,
  type RandomSource,
  roundedNormBound,
  sampleNoiseShare,
} from '@fedistill/dp';
import { eraSharpen, normalizedMean, noisyArgmaxVotes, type Targets } from './aggregation';
import { classSumSizes, siteClassSums } from './class-sums';
import { quantizedSoftLabelSummary, voteSummary } from './summaries';

/** Granularity used for soft labels when no privacy is configured (secure aggregation still needs integers). */
export const DEFAULT_GRANULARITY = 0.01;

/**
 * The public parameters of one round's release, as the coordinator announces them and as every
 * site recomputes them before answering. The simulator, the coordinator and the node all derive
 * the noise, the sensitivities and the ring bound from this one description, so a simulated round
 * and a real round with the same parameters release the same mechanism.
 */
export interface ReleaseSpec {
  readonly summary: 'soft-labels' | 'votes' | 'class-sums';
  /** Queried reference rows (0 in a class-sum release, which asks none). */
  readonly queries: number;
  readonly classes: number;
  /** L2 clip of one teacher's soft-label vector for one query, in (0, 1] (soft labels only). */
  readonly clipNorm: number;
  /** One integer unit in probability (soft labels); votes always use 1. */
  readonly granularity: number;
  /** The most teachers one site may contribute (bounds one site's input for the ring). */
  readonly maxTeachers: number;
  /** Class sums only (class-sums.ts): the feature extractor's output size. */
  readonly features?: number;
  /** Class sums only: the most records one site may count (bounds its input for the ring). */
  readonly maxRecords?: number;
  /** Distributed noise, or null when the federation runs without privacy. */
  readonly noise: {
    readonly kind: 'skellam' | 'discrete-gaussian';
    /** Aggregate noise standard deviation in units of the L2 sensitivity. */
    readonly noiseMultiplier: number;
    /** Invited sites n. */
    readonly sites: number;
    /** Dropouts T the noise must survive: the sum is only unmasked with >= n - T sites. */
    readonly toleratedDropouts: number;
    /**
     * Colluders C the plan assumes among the survivors (they add no noise the adversary does not
     * know): each site adds V/(n - T - C). Integer in [0, n - T); absent means 0.
     */
    readonly assumedColluders?: number;
  } | null;
}

/** What follows from a ReleaseSpec: sensitivities, noise shares, the charged mechanism, the input bound. */
export interface ReleasePlan {
  /** One integer unit in probability (soft labels) or vote units. */
  readonly granularity: number;
  /** Entries of the released vector: queries x classes. */
  readonly dimension: number;
  /** L2 and L1 sensitivity of the release to one record, in integer units. */
  readonly l2: number;
  readonly l1: number;
  /** Noise shares each site adds, or null without privacy. */
  readonly noise: NoiseShareSpec | null;
  /** The mechanism the accountant charges per round, or null without privacy. */
  readonly mechanism: Mechanism | null;
  /** Largest |entry| one site may send (its teachers' signal plus 20 standard deviations of its noise share). */
  readonly maxInput: number;
  /** Largest |entry| of one site's summary before noise (maxTeachers x one teacher's largest entry). */
  readonly maxSignal: number;
}

function check(s: ReleaseSpec): void {
  const int = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`'${name}' must be an integer >= ${min}`);
  };
  int(s.queries, 'queries', s.summary === 'class-sums' ? 0 : 1);
  int(s.classes, 'classes', 2);
  int(s.maxTeachers, 'maxTeachers', 1);
  if (s.summary === 'class-sums' && s.queries !== 0)
    throw new RangeError("a class-sum release asks no 'queries'");
  if (s.summary === 'soft-labels') {
    if (!(s.clipNorm > 0 && s.clipNorm <= 1)) throw new RangeError("'clipNorm' must be in (0, 1]");
    if (!(s.granularity > 0 && s.granularity <= 1)) throw new RangeError("'granularity' must be in (0, 1]");
  }
  if (s.noise) {
    if (!(s.noise.noiseMultiplier > 0) || !Number.isFinite(s.noise.noiseMultiplier))
      throw new RangeError("'noiseMultiplier' must be a finite number > 0");
    int(s.noise.sites, 'sites', 1);
    int(s.noise.toleratedDropouts, 'toleratedDropouts', 0);
    if (s.noise.toleratedDropouts >= s.noise.sites)
      throw new RangeError("'toleratedDropouts' must be smaller than 'sites'");
    const c = s.noise.assumedColluders ?? 0;
    if (!Number.isInteger(c) || c < 0 || c >= s.noise.sites - s.noise.toleratedDropouts)
      throw new RangeError("'assumedColluders' must be an integer in [0, sites - toleratedDropouts)");
  }
}

/**
 * Sensitivity and noise of one round. The privacy unit is one record at one site: a site's
 * teachers train on disjoint partitions (PATE, Papernot et al. 2017, arXiv:1610.05755, §2), so a
 * record changes one teacher's contribution only.
 * - Soft labels: one teacher's [queries x classes] vector, each query's row clipped to L2 norm C,
 *   has norm <= C sqrt(q); after conditional randomized rounding at granularity γ its integer
 *   norm is <= B = roundedNormBound(C sqrt(q), γ, d) (Kairouz, Liu, Steinke 2021,
 *   arXiv:2102.06387, §4). Replacing that vector moves the sum by at most Δ2 = 2B.
 * - Votes: each of the q votes of the teacher may move, each moving two counts by 1
 *   (Papernot et al. 2018, arXiv:1802.08908, §4.1): Δ2 = sqrt(2q), Δ1 = 2q.
 * Integer vectors have Δ1 <= min(Δ2², sqrt(d) Δ2). The aggregate noise has standard deviation
 * z Δ2, split as shares over the n - T - C honest sites that must survive when C of the n - T
 * survivors may collude with the coordinator (Agarwal, Kairouz, Liu 2021, arXiv:2110.04995, §3
 * for Skellam; KLS21 Theorem 1 for the discrete Gaussian). `mechanism` is the federation's
 * target under that assumption; what one site charges under its own is `countedNoise`.
 */
export function planRelease(s: ReleaseSpec): ReleasePlan {
  check(s);
  if (s.summary === 'class-sums') {
    const sizes = classSumSizes(classSumTermsOf(s));
    const base = { granularity: s.granularity, ...sizes };
    return s.noise
      ? withNoise(base, s.noise)
      : { ...base, noise: null, mechanism: null, maxInput: sizes.maxSignal };
  }
  const d = s.queries * s.classes;
  const votes = s.summary === 'votes';
  const granularity = votes ? 1 : s.granularity;
  const l2 = votes
    ? Math.sqrt(2 * s.queries)
    : 2 * roundedNormBound(s.clipNorm * Math.sqrt(s.queries), granularity, d);
  const l1 = votes ? 2 * s.queries : Math.min(l2 * l2, Math.sqrt(d) * l2);
  const perTeacher = votes ? 1 : Math.ceil(s.clipNorm / granularity) + 1;
  const maxSignal = s.maxTeachers * perTeacher;
  if (!s.noise)
    return {
      granularity,
      dimension: d,
      l2,
      l1,
      noise: null,
      mechanism: null,
      maxInput: maxSignal,
      maxSignal,
    };
  return withNoise({ granularity, dimension: d, l2, l1, maxSignal }, s.noise);
}

type NoiseSettings = NonNullable<ReleaseSpec['noise']>;

function withNoise(
  base: Pick<ReleasePlan, 'granularity' | 'dimension' | 'l2' | 'l1' | 'maxSignal'>,
  settings: NoiseSettings,
): ReleasePlan {
  const noise: NoiseShareSpec = {
    kind: settings.kind,
    variance: (settings.noiseMultiplier * base.l2) ** 2,
    sites: settings.sites,
    toleratedDropouts: settings.toleratedDropouts,
    assumedColluders: settings.assumedColluders ?? 0,
  };
  const mechanism = aggregateMechanism(noise, { l2: base.l2, l1: base.l1, dimension: base.dimension });
  // 20 standard deviations of one share: exceeding it has probability far below 2^-80.
  const tail = Math.ceil(20 * Math.sqrt(perSiteVariance(noise)));
  return { ...base, noise, mechanism, maxInput: base.maxSignal + tail };
}

/** The class-sum terms of a 'class-sums' release (its features and maxRecords are required). */
export function classSumTermsOf(s: ReleaseSpec): {
  classes: number;
  features: number;
  granularity: number;
  maxRecords: number;
} {
  if (s.summary !== 'class-sums') throw new RangeError(`a '${s.summary}' release has no class sums`);
  if (s.features === undefined || s.maxRecords === undefined)
    throw new RangeError("a class-sum release needs 'features' and 'maxRecords'");
  return { classes: s.classes, features: s.features, granularity: s.granularity, maxRecords: s.maxRecords };
}

/**
 * One site's class-sum release (class-sums.ts): `phi` is classSumFeatures of its records,
 * `labels` their classes; rounded per record, summed per class, plus the site's noise share.
 */
export function siteClassSumRelease(
  phi: Float64Array,
  labels: ArrayLike<number>,
  spec: ReleaseSpec,
  plan: ReleasePlan,
  random: RandomSource,
): Int32Array {
  return siteClassSums(phi, labels, classSumTermsOf(spec), plan.noise, random);
}

/** A securely aggregated evaluation of a published student on the sites' local test splits. */
export interface EvaluationSpec {
  readonly classes: number;
  /** The most test records one site counts (a larger split is truncated to it). */
  readonly maxRecords: number;
  readonly noise: ReleaseSpec['noise'];
}

/**
 * The release of an evaluation round: per class, correct predictions then test records (2k
 * integers). One record sits in one class and is either right or wrong, so replacing it moves
 * at most two totals and two correct counts by one: Δ2 = 2, Δ1 = 4. The counts are noised like
 * a summary and charged to each site's budget (the test records are patients too).
 */
export function planEvaluation(s: EvaluationSpec): ReleasePlan {
  if (!Number.isInteger(s.classes) || s.classes < 2)
    throw new RangeError("'classes' must be an integer >= 2");
  if (!Number.isInteger(s.maxRecords) || s.maxRecords < 1)
    throw new RangeError("'maxRecords' must be an integer >= 1");
  const base = { granularity: 1, dimension: 2 * s.classes, l2: 2, l1: 4, maxSignal: s.maxRecords };
  if (!s.noise) return { ...base, noise: null, mechanism: null, maxInput: s.maxRecords };
  return withNoise(base, s.noise);
}

/** A site's evaluation counts (its first `maxRecords` test records) plus its noise share. */
export function siteEvaluationRelease(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  spec: EvaluationSpec,
  plan: ReleasePlan,
  random: RandomSource,
): Int32Array {
  if (predicted.length !== labels.length)
    throw new RangeError(`${predicted.length} predictions for ${labels.length} labels`);
  const k = spec.classes;
  const counts = new Int32Array(2 * k);
  for (let i = 0; i < Math.min(labels.length, spec.maxRecords); i += 1) {
    const y = labels[i] as number;
    if (!Number.isInteger(y) || y < 0 || y >= k)
      throw new RangeError(`label ${y} is not a class in [0, ${k})`);
    if (predicted[i] === y) counts[y] = (counts[y] as number) + 1;
    counts[k + y] = (counts[k + y] as number) + 1;
  }
  if (!plan.noise) return counts;
  const share = sampleNoiseShare(counts.length, plan.noise, random);
  for (let i = 0; i < counts.length; i += 1) counts[i] = (counts[i] as number) + (share[i] as number);
  return counts;
}

/**
 * Refuses a ring that cannot hold the noisy sum of `sites` inputs (Bonawitz et al. CCS 2017, §3:
 * the modulus must exceed the true sum). The message names the federation's 'secureAggregation.modulusBits'.
 */
export function checkRing(plan: ReleasePlan, sites: number, bits: number): void {
  const room = 2 ** (bits - 1) - 1;
  if (sites * plan.maxInput > room)
    throw new RangeError(
      `'secureAggregation.modulusBits' ${bits} too small: ${sites} sites x ${plan.maxInput} exceeds ${room}; raise modulusBits or granularity`,
    );
}

/**
 * One site's integer summary plus its noise share, as the site sends it into secure aggregation:
 * soft labels are clipped and randomly rounded (KLS21, §4), votes are one-hot; then the site adds
 * its share of the distributed noise. `teacherProbs[t]` is teacher t's row-major [queries, classes].
 */
export function siteRelease(
  teacherProbs: readonly Float32Array[],
  spec: ReleaseSpec,
  plan: ReleasePlan,
  random: RandomSource,
): Int32Array {
  if (spec.summary === 'class-sums')
    throw new RangeError('a class-sum release is computed from records (siteClassSumRelease), not teachers');
  if (teacherProbs.length > spec.maxTeachers)
    throw new RangeError(
      `the site has ${teacherProbs.length} teachers; the federation allows at most ${spec.maxTeachers} per site`,
    );
  const o = { queries: spec.queries, classes: spec.classes };
  const summary =
    spec.summary === 'votes'
      ? voteSummary(teacherProbs, o)
      : quantizedSoftLabelSummary(
          teacherProbs,
          { ...o, clipNorm: spec.clipNorm, granularity: plan.granularity },
          random,
        );
  if (!plan.noise) return summary;
  const share = sampleNoiseShare(summary.length, plan.noise, random);
  for (let i = 0; i < summary.length; i += 1) summary[i] = (summary[i] as number) + (share[i] as number);
  return summary;
}

/** How the coordinator turns the noisy sum into distillation targets (all post-processing). */
export type TargetRule =
  | { readonly kind: 'mean' }
  | { readonly kind: 'era'; readonly temperature: number }
  | { readonly kind: 'gnmax'; readonly threshold?: number };

/** Distillation targets from the decoded (signed) sum of a round. */
export function targetsFromSum(
  sum: Int32Array,
  plan: ReleasePlan,
  rule: TargetRule,
  classes: number,
): Targets {
  const real = Float64Array.from(sum, (v) => v * plan.granularity);
  if (rule.kind === 'gnmax') return noisyArgmaxVotes(real, classes, rule.threshold);
  const mean = normalizedMean(real, classes);
  return rule.kind === 'era' ? eraSharpen(mean, classes, rule.temperature) : mean;
}
