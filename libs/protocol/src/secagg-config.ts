import type { SecAggConfig } from '@fedistill/secagg';
import { secaggRoundId } from './round-id';

/**
 * The secure-aggregation terms of a round, as announced: what both ends derive the round's
 * SecAggConfig from. The coordinator's planner fills them from the federation definition, a
 * site from the decoded announcement; `secaggConfigOf` is the one derivation both call.
 */
export interface SecAggTerms {
  readonly federationId: string;
  readonly round: number;
  readonly kind: 'distill' | 'evaluation';
  /** Queries asked (0 for an evaluation). */
  readonly queries: number;
  readonly classes: number;
  /**
   * Class-sum rounds only (privacy.summary 'class-sums', no queries): the feature extractor's
   * output size; each class's block then has features + 1 entries.
   */
  readonly features?: number;
  readonly participants: ReadonlyArray<{ readonly siteId: number }>;
  /** Shamir threshold t (a strict majority of a site's neighbours). */
  readonly threshold: number;
  /** Neighbours per site in the masking graph (SecAgg+), or 'all' for the full mesh. */
  readonly neighbours: number | 'all';
  /** Ring width b: values live in Z_{2^b}, b in [1, 32]. */
  readonly modulusBits: number;
  /** Largest |entry| of one site's signed input. */
  readonly maxInput: number;
  /** Fewest survivors the sum may be unmasked with (n - T). */
  readonly minSurvivors: number;
}

/**
 * Entries of each site's vector: queries x classes for a distillation round, classes x
 * (features + 1) for a class-sum round, and for an evaluation round, per class, correct
 * predictions then test records (2 x classes).
 */
export function vectorLength(t: Pick<SecAggTerms, 'kind' | 'queries' | 'classes' | 'features'>): number {
  if (t.kind === 'evaluation') return 2 * t.classes;
  return t.features !== undefined ? t.classes * (t.features + 1) : t.queries * t.classes;
}

/**
 * The round's SecAggConfig (identical at every site and the coordinator). Values are signed
 * integers mod 2^bits (noise makes them negative). No graph seed: every party derives it from
 * the key roster (libs/secagg graph-seed.ts). Not validated here: SecAggSite and
 * SecAggCoordinator check it when created (libs/secagg validateConfig), and decodeAnnouncement
 * has already checked the announced terms field by field.
 */
export function secaggConfigOf(t: SecAggTerms): SecAggConfig {
  const config: SecAggConfig = {
    roundId: secaggRoundId(t.federationId, t.round),
    siteIds: t.participants.map((p) => p.siteId),
    threshold: t.threshold,
    neighbours: t.neighbours,
    bits: t.modulusBits,
    maxInput: t.maxInput,
    signed: true,
    length: vectorLength(t),
    minSurvivors: t.minSurvivors,
  };
  return config;
}
