import { randomBytes, randomInt } from 'node:crypto';
import { checkReleaseRing, planReleaseSpec, type ReleaseSpec } from '@fedistill/distill';
import type { SecAggConfig } from '@fedistill/secagg';
import type { FederationSpec } from '../federation/federation-spec';

export type StageName = 'keys' | 'shares' | 'inputs' | 'unmask';

export interface Participant {
  readonly siteName: string;
  /** Ed25519 identity key as enrolled (hex). */
  readonly signingPublicKey: string;
  /** The site's secure-aggregation id in this round (its position in the list). */
  readonly siteId: number;
}

/** What sites are told about a round (RoundAnnouncement on the wire). */
export interface RoundPlan {
  readonly federationId: string;
  readonly round: number;
  readonly participants: readonly Participant[];
  readonly queries: readonly number[];
  readonly config: SecAggConfig;
  /** What the round releases: summary, clipping, granularity, noise (the site recomputes its cost from it). */
  readonly release: ReleaseSpec;
  /** Absolute deadline (Unix ms) of each secure-aggregation stage. */
  readonly deadlines: Readonly<Record<StageName, number>>;
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
): RoundPlan {
  const n = sites.length;
  const participants = sites.map((site, siteId) => ({
    siteName: site.name,
    signingPublicKey: site.signingPublicKey,
    siteId,
  }));
  const bits = spec.secureAggregation.modulusBits;
  const degree =
    spec.secureAggregation.neighbours > 0 ? Math.min(spec.secureAggregation.neighbours, n - 1) : n - 1;
  const threshold = spec.secureAggregation.threshold ?? Math.floor(degree / 2) + 1;
  const queries = randomQueries(referenceRows, spec.rounds.queriesPerRound);
  const p = spec.privacy;
  const release: ReleaseSpec = {
    summary: p.summary,
    queries: queries.length,
    classes: spec.labels.length,
    clipNorm: p.clipNorm,
    granularity: p.granularity,
    maxTeachers: spec.secureAggregation.maxTeachersPerSite,
    noise:
      p.mechanism === 'none'
        ? null
        : {
            kind: p.mechanism,
            noiseMultiplier: p.noiseMultiplier ?? 1,
            sites: n,
            toleratedDropouts: Math.min(spec.secureAggregation.dropoutTolerance, n - 1),
          },
  };
  const releasePlan = planReleaseSpec(release);
  checkReleaseRing(releasePlan, n, bits);
  const d = spec.rounds.deadlines;
  const keys = now + d.advertiseKeys;
  const shares = keys + d.shareKeys;
  const inputs = shares + d.maskedInput;
  const config: SecAggConfig = {
    roundId: secaggRoundId(spec.id, round),
    siteIds: participants.map((p) => p.siteId),
    threshold,
    neighbours: spec.secureAggregation.neighbours > 0 ? spec.secureAggregation.neighbours : 'all',
    bits,
    maxInput: releasePlan.maxInput,
    signed: true,
    length: queries.length * spec.labels.length,
    minSurvivors: Math.max(threshold, n - spec.secureAggregation.dropoutTolerance),
    graphSeed: new Uint8Array(randomBytes(32)),
  };
  return {
    federationId: spec.id,
    round,
    participants,
    queries,
    config,
    release,
    deadlines: { keys, shares, inputs, unmask: inputs + d.unmask },
  };
}
