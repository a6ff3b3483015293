import { randomInt } from 'node:crypto';
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
}

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

/** The secure-aggregation round id bound into every signature and sealed share. */
export const secaggRoundId = (federationId: string, round: number): string => `${federationId}#${round}`;

/** k distinct indices from [0, n), uniformly at random (the CSPRNG: query choice is public anyway). */
function randomQueries(n: number, k: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(n, k)) chosen.add(randomInt(n));
  return [...chosen].sort((a, b) => a - b);
}

/**
 * Plans a round: queries, the release (the same calibration as the simulator's, libs/distill
 * release.ts), the secure-aggregation configuration and the stage deadlines. Values are signed
 * integers mod 2^bits (noise makes them negative); each site's bound is its teachers' largest
 * signal plus 20 standard deviations of its noise share, and the ring must hold n such inputs
 * (Bonawitz et al. CCS 2017, §3; checkRing throws, naming secureAggregation.bits), and the sum is only unmasked with at least n - dropoutTolerance survivors so
 * it always carries the target noise (arXiv:2110.04995, §4).
 */
export function planRound(
  spec: FederationSpec,
  round: number,
  sites: ReadonlyArray<{ readonly name: string; readonly signingPublicKey: string }>,
  referenceRows: number,
  now: number,
): DistillRoundPlan {
  const n = sites.length;
  const queries = randomQueries(referenceRows, spec.rounds.queriesPerRound);
  const p = spec.privacy;
  const release: ReleaseSpec = {
    summary: p.summary,
    queries: queries.length,
    classes: spec.labels.length,
    clipNorm: p.clipNorm,
    granularity: p.granularity,
    maxTeachers: spec.secureAggregation.maxTeachersPerSite,
    noise: noiseOf(spec, n),
  };
  const base = planBase(spec, round, sites, queries, planRelease(release), now);
  return { ...base, release };
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
    noise: noiseOf(spec, sites.length),
  };
  const base = planBase(spec, round, sites, [], planEvaluation(evaluation), now);
  return { ...base, kind: 'evaluation', studentVersion, evaluation };
}

/**
 * The round's noise plan. Of the n - T survivors the sum is unmasked with, privacy.assumedColluders
 * C may collude with the coordinator and add nothing it does not know, so each site adds
 * V/(n - T - C): the n - T - C honest shares reach the target (arXiv:2102.06387, §1). C is capped
 * at n - T - 1 ('all': each site adds V by itself, what a paranoid site counts on).
 */
function noiseOf(spec: FederationSpec, n: number): ReleaseSpec['noise'] {
  const p = spec.privacy;
  if (p.mechanism === 'none') return null;
  const toleratedDropouts = Math.min(spec.secureAggregation.dropoutTolerance, n - 1);
  const most = n - toleratedDropouts - 1;
  const assumed = p.assumedColluders;
  return {
    kind: p.mechanism,
    noiseMultiplier: p.noiseMultiplier ?? 1,
    sites: n,
    toleratedDropouts,
    assumedColluders: assumed === 'all' ? most : Math.min(assumed, most),
  };
}

function planBase(
  spec: FederationSpec,
  round: number,
  sites: ReadonlyArray<{ readonly name: string; readonly signingPublicKey: string }>,
  queries: readonly number[],
  release: ReleasePlan,
  now: number,
): RoundPlanBase {
  const n = sites.length;
  const participants = sites.map((site, siteId) => ({
    siteName: site.name,
    signingPublicKey: site.signingPublicKey,
    siteId,
  }));
  const bits = spec.secureAggregation.modulusBits;
  checkRing(release, n, bits);
  const degree =
    spec.secureAggregation.neighbours > 0 ? Math.min(spec.secureAggregation.neighbours, n - 1) : n - 1;
  const threshold = spec.secureAggregation.threshold ?? Math.floor(degree / 2) + 1;
  const d = spec.rounds.deadlines;
  const keys = now + d.advertiseKeys;
  const shares = keys + d.shareKeys;
  const inputs = shares + d.maskedInput;
  // The consistency round is as short as the unmask stage unless configured.
  const consistency = inputs + (d.consistency ?? d.unmask);
  const config: SecAggConfig = {
    roundId: secaggRoundId(spec.id, round),
    siteIds: participants.map((p) => p.siteId),
    threshold,
    neighbours: spec.secureAggregation.neighbours > 0 ? spec.secureAggregation.neighbours : 'all',
    bits,
    maxInput: release.maxInput,
    signed: true,
    length: release.dimension,
    minSurvivors: Math.max(threshold, n - spec.secureAggregation.dropoutTolerance),
    // No graph seed: every party derives it from the key roster (libs/secagg graph-seed.ts).
  };
  return {
    federationId: spec.id,
    round,
    participants,
    queries,
    config,
    deadlines: { keys, shares, inputs, consistency, unmask: consistency + d.unmask },
  };
}
