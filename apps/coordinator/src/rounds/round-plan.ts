import { randomBytes, randomInt } from 'node:crypto';
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
 * Plans a round: queries, the secure-aggregation configuration and the stage deadlines. Values
 * are signed integers mod 2^bits (noise makes them negative); each site's bound is the largest
 * that keeps the sum of all sites in range (Bonawitz et al. CCS 2017, §3: the ring must hold
 * the true sum), and the sum is only unmasked with at least n - dropoutTolerance survivors so
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
    maxInput: Math.floor((2 ** (bits - 1) - 1) / n),
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
    deadlines: { keys, shares, inputs, unmask: inputs + d.unmask },
  };
}
