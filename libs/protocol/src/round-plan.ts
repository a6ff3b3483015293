import {
  checkRing,
  type EvaluationSpec,
  planEvaluation,
  planRelease,
  type ReleasePlan,
  type ReleaseSpec,
} from '@fedistill/distill';
import type { SecAggConfig } from '@fedistill/secagg';
import type { FederationSpec } from './federation-spec';
import { effectiveNoiseMultiplier } from './noise-plan';
import { distillReleaseOf, noiseSettingsOf, secaggPolicy } from './round-policy';
import { secaggConfigOf, type SecAggTerms, vectorLength } from './secagg-config';

/** The stages sites take part in, in order ('consistency': survivors sign the survivor set). */
export type StageName = 'keys' | 'shares' | 'inputs' | 'consistency' | 'unmask';

export interface Participant {
  readonly siteName: string;
  /** Ed25519 identity key as enrolled (hex). */
  readonly signingPublicKey: string;
  /** The site's secure-aggregation id in this round (its position in the list). */
  readonly siteId: number;
}

interface RoundPlanBase {
  readonly federationId: string;
  readonly round: number;
  readonly participants: readonly Participant[];
  readonly queries: readonly number[];
  readonly config: SecAggConfig;
  /** Absolute deadline (Unix ms) of each secure-aggregation stage. */
  readonly deadlines: Readonly<Record<StageName, number>>;
}

/** A distillation round: sites answer queries about the reference set (RoundAnnouncement on the wire). */
export interface DistillRoundPlan extends RoundPlanBase {
  readonly kind?: 'distill';
  /** What the round releases: summary, clipping, granularity, noise (the site recomputes its cost from it). */
  readonly release: ReleaseSpec;
  /** How the coordinator chose the queries (absent in rounds planned before it was recorded). */
  readonly querySelection?: QuerySelection;
}

/**
 * How a round's queries were chosen (rounds.querySelection): seeded random, or where the
 * published student `studentVersion` was least sure. Public, like the queries themselves.
 */
export type QuerySelection =
  { readonly strategy: 'random' } | { readonly strategy: 'least-confident'; readonly studentVersion: number };

/** A securely aggregated evaluation of a published student on the sites' local test splits. */
export interface EvaluationRoundPlan extends RoundPlanBase {
  readonly kind: 'evaluation';
  readonly studentVersion: number;
  readonly evaluation: EvaluationSpec;
}

/** What sites are told about a round (RoundAnnouncement on the wire). */
export type RoundPlan = DistillRoundPlan | EvaluationRoundPlan;

/** The release a round's plan describes (the same computation every site repeats). */
export function releasePlanOf(plan: RoundPlan): ReleasePlan {
  return plan.kind === 'evaluation' ? planEvaluation(plan.evaluation) : planRelease(plan.release);
}

/**
 * Plans a round asking `queries` (distinct reference rows, chosen by the coordinator's query
 * planner and recorded with `selection`): the release (the same calibration as the simulator's, libs/distill
 * release.ts), the secure-aggregation configuration and the stage deadlines. Values are signed
 * integers mod 2^bits (noise makes them negative); each site's bound is its teachers' largest
 * signal plus 20 standard deviations of its noise share, and the ring must hold n such inputs
 * (Bonawitz et al. CCS 2017, §3; checkRing throws, naming secureAggregation.modulusBits), and the sum is only unmasked with at least n - dropoutTolerance survivors so
 * it always carries the target noise (arXiv:2110.04995, §4).
 */
export function planRound(
  spec: FederationSpec,
  round: number,
  sites: ReadonlyArray<{ readonly name: string; readonly signingPublicKey: string }>,
  queries: readonly number[],
  now: number,
  selection?: QuerySelection,
): DistillRoundPlan {
  const n = sites.length;
  if (spec.privacy.summary === 'class-sums') {
    if (queries.length > 0) throw new RangeError("a 'class-sums' round asks no 'queries'");
  } else if (queries.length === 0 || new Set(queries).size !== queries.length)
    throw new RangeError("'queries' must be a non-empty list of distinct reference rows");
  const release: ReleaseSpec = distillReleaseOf(spec, queries.length, n, noiseMultiplierOf(spec));
  const base = planBase(spec, round, sites, queries, 'distill', planRelease(release), now, release.features);
  return { ...base, release, ...(selection ? { querySelection: selection } : {}) };
}

/**
 * Plans an evaluation round of student `studentVersion`: no queries; each site releases, per
 * class, its correct predictions and test records, noised like a summary (libs/distill
 * planEvaluation) and bounded by secureAggregation.maxEvaluationRecords.
 */
export function planEvaluationRound(
  spec: FederationSpec,
  round: number,
  sites: ReadonlyArray<{ readonly name: string; readonly signingPublicKey: string }>,
  studentVersion: number,
  now: number,
): EvaluationRoundPlan {
  const evaluation: EvaluationSpec = {
    classes: spec.labels.length,
    maxRecords: spec.secureAggregation.maxEvaluationRecords,
    noise: noiseSettingsOf(spec, sites.length, noiseMultiplierOf(spec)),
  };
  const base = planBase(spec, round, sites, [], 'evaluation', planEvaluation(evaluation), now);
  return { ...base, kind: 'evaluation', studentVersion, evaluation };
}

/**
 * The noise multiplier of the federation's rounds: privacy.noiseMultiplier, or the one the noise
 * planner chooses for privacy.targetEpsilon (noise-plan.ts). Unused without privacy.
 */
function noiseMultiplierOf(spec: FederationSpec): number {
  return spec.privacy.mechanism === 'none' ? 1 : effectiveNoiseMultiplier(spec);
}

function planBase(
  spec: FederationSpec,
  round: number,
  sites: ReadonlyArray<{ readonly name: string; readonly signingPublicKey: string }>,
  queries: readonly number[],
  kind: SecAggTerms['kind'],
  release: ReleasePlan,
  now: number,
  /** Class-sum rounds: the values per record (the SecAgg vector is classes x (features + 1)). */
  features?: number,
): RoundPlanBase {
  const n = sites.length;
  const participants = sites.map((site, siteId) => ({
    siteName: site.name,
    signingPublicKey: site.signingPublicKey,
    siteId,
  }));
  const policy = secaggPolicy(spec, n);
  checkRing(release, n, policy.modulusBits);
  const terms: SecAggTerms = {
    ...policy,
    federationId: spec.id,
    round,
    kind,
    queries: queries.length,
    classes: spec.labels.length,
    ...(features === undefined ? {} : { features }),
    participants,
    maxInput: release.maxInput,
  };
  // The release and the secure-aggregation vector are the same thing counted twice: say so loudly.
  if (vectorLength(terms) !== release.dimension)
    throw new Error(
      `release has ${release.dimension} entries; the secure-aggregation terms ${vectorLength(terms)}`,
    );
  const d = spec.rounds.deadlines;
  const keys = now + d.advertiseKeys;
  const shares = keys + d.shareKeys;
  const inputs = shares + d.maskedInput;
  // The consistency round is as short as the unmask stage unless configured.
  const consistency = inputs + (d.consistency ?? d.unmask);
  const config: SecAggConfig = secaggConfigOf(terms);
  return {
    federationId: spec.id,
    round,
    participants,
    queries,
    config,
    deadlines: { keys, shares, inputs, consistency, unmask: consistency + d.unmask },
  };
}
