import type { ReleaseSpec } from '@fedistill/distill';
import type { FederationSpec } from './federation-spec';
import { mostColluders, noiseSplitOf } from './noise-split';
import type { SecAggTerms } from './secagg-config';

/**
 * The secure-aggregation terms the federation definition sets for n sites: the threshold (a
 * strict majority of a site's neighbours unless configured) and the survivor floor n - T, never
 * below the threshold (the sum is only unmasked with at least n - T survivors, so it always
 * carries the target noise, arXiv:2110.04995, §4).
 */
export function secaggPolicy(
  spec: FederationSpec,
  n: number,
): Pick<SecAggTerms, 'threshold' | 'neighbours' | 'minSurvivors' | 'modulusBits'> {
  const sa = spec.secureAggregation;
  const degree = sa.neighbours > 0 ? Math.min(sa.neighbours, n - 1) : n - 1;
  const threshold = sa.threshold ?? Math.floor(degree / 2) + 1;
  return {
    threshold,
    neighbours: sa.neighbours > 0 ? sa.neighbours : 'all',
    modulusBits: sa.modulusBits,
    minSurvivors: Math.max(threshold, n - sa.dropoutTolerance),
  };
}

/**
 * A round's noise at noise multiplier `z` for `n` invited sites, split by noiseSplitOf from the
 * same survivor floor the sites are told (T = n - minSurvivors). privacy.assumedColluders C is
 * capped at minSurvivors - 1 ('all': each site adds V by itself, what a paranoid site counts
 * on). Null without privacy.
 */
export function noiseSettingsOf(spec: FederationSpec, n: number, z: number): ReleaseSpec['noise'] {
  const p = spec.privacy;
  if (p.mechanism === 'none') return null;
  const { minSurvivors } = secaggPolicy(spec, n);
  const most = mostColluders(minSurvivors);
  const assumed = p.assumedColluders === 'all' ? most : Math.min(p.assumedColluders, most);
  return { kind: p.mechanism, noiseMultiplier: z, ...noiseSplitOf(n, minSurvivors, assumed) };
}

/**
 * The release of a distillation round asking `queries` rows of `n` invited sites at noise
 * multiplier `z`: what planRound announces and what the noise planner prices (one description,
 * so the two cannot drift apart).
 */
export function distillReleaseOf(spec: FederationSpec, queries: number, n: number, z: number): ReleaseSpec {
  const p = spec.privacy;
  if (p.summary === 'class-sums') {
    return {
      summary: 'class-sums',
      queries: 0,
      classes: spec.labels.length,
      clipNorm: 1, // unused: each record's features are normalized to norm 1 (class-sums.ts)
      granularity: p.granularity,
      maxTeachers: 1, // no teacher answers a class-sum round
      features: classSumFeatureCount(spec),
      maxRecords: classSumRecordCap(spec),
      noise: noiseSettingsOf(spec, n, z),
    };
  }
  return {
    summary: p.summary,
    queries,
    classes: spec.labels.length,
    clipNorm: p.clipNorm,
    granularity: p.granularity,
    maxTeachers: spec.secureAggregation.maxTeachersPerSite,
    noise: noiseSettingsOf(spec, n, z),
  };
}

/**
 * rounds.maxEvaluationRounds of a stored definition. The coordinator stores definitions as they
 * were parsed, so one stored before the setting existed has none: undefined (no count cap on its
 * evaluations beyond the epsilon cap, and none in its noise plan, whose z must not change).
 */
export function evaluationRoundCap(spec: FederationSpec): number | undefined {
  return (spec.rounds as { maxEvaluationRounds?: number }).maxEvaluationRounds;
}

/**
 * secureAggregation.maxClassSumRecords of a stored definition (one stored before the setting
 * existed has its default, 100,000).
 */
export function classSumRecordCap(spec: FederationSpec): number {
  return (spec.secureAggregation as { maxClassSumRecords?: number }).maxClassSumRecords ?? 100_000;
}

/**
 * The values per record a class-sum round sums (privacy.summary 'class-sums'): the PCA's
 * components with features, else the input's values (input.shape flattened).
 */
export function classSumFeatureCount(spec: FederationSpec): number {
  if (spec.features) {
    const k = spec.features.pca?.components;
    if (k === undefined) throw new RangeError("privacy.summary 'class-sums' needs features.pca");
    return k;
  }
  return spec.input.shape.reduce((a, b) => a * b, 1);
}

/**
 * The queries a full round of the federation asks, as a planner that prices rounds before they
 * run assumes them: rows 0 .. rounds.queriesPerRound - 1, or none for class sums (a class-sum
 * round asks no queries).
 */
export function plannedQueries(spec: FederationSpec): number[] {
  if (spec.privacy.summary === 'class-sums') return [];
  return Array.from({ length: spec.rounds.queriesPerRound }, (_v, i) => i);
}
