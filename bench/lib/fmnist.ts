// The Fashion-MNIST federation that `fmnist-federation` and `fmnist-private-seeds` run: 10 sites,
// Dirichlet(0.5) label skew, 5,000 training images held out as the unlabelled reference set, the
// official test images; record level, delta = 1e-5. One definition, so that the two benchmarks
// measure the same arms.
import type { FeatureSpec } from '@fedistill/features';
import { parseFederationSpec, planNoise } from '@fedistill/protocol';
import { federationDefinition, type SimulationConfig } from '@fedistill/simulate';

export const FMNIST_DELTA = 1e-5;

export interface FmnistOptions {
  readonly quick: boolean;
  readonly directory: string;
  readonly seed: number;
  /** Seeds the test, reference and site split; the benchmarks' default is `seed`. */
  readonly partitionSeed?: number;
  readonly threads: number;
}

export const fmnistReferenceSize = (quick: boolean): number => (quick ? 2_000 : 5_000);

/** The non-private single-round arm; every other arm is this with changes. */
export function fmnistBase(o: FmnistOptions): SimulationConfig {
  const reference = fmnistReferenceSize(o.quick);
  return {
    dataset: o.quick
      ? { name: 'fashion-mnist', directory: o.directory, limit: 12_000 }
      : { name: 'fashion-mnist', directory: o.directory },
    sites: 10,
    partition: { kind: 'dirichlet', alpha: 0.5 },
    partitionSeed: o.partitionSeed ?? o.seed,
    teachers: { perSite: 1, hidden: [128], epochs: o.quick ? 5 : 10, batchSize: 64, schedule: 'cosine' },
    student: { hidden: [128], epochs: o.quick ? 15 : 30, batchSize: 64, schedule: 'cosine' },
    referenceSize: reference,
    testFraction: 0.2,
    rounds: 1,
    queries: { perRound: reference, strategy: 'random' },
    summary: 'soft-labels',
    aggregation: { kind: 'mean' },
    privacy: { kind: 'none' },
    // A 16-bit ring (a federation's smallest `modulusBits`) holds every arm's noisy sum here (10
    // sites x at most 101 units per soft-label entry, or votes plus 20 share deviations of noise;
    // checkRing refuses a ring too small), and masked vectors travel packed at the ring's width.
    secureAggregation: { threshold: 6, neighbours: 'all', bits: 16, toleratedDropouts: 1 },
    seed: o.seed,
    threads: o.threads,
  };
}

/**
 * Private arms: 10 teachers per site (one record influences one of 100 teachers), noisy argmax of
 * votes. Fewer queries at higher noise keep each answer readable: the aggregate noise per vote
 * count is z·sqrt(2q) (see docs/simulator.md), against 100 votes per query.
 */
export const fmnistPrivateArms = (quick: boolean): ReadonlyArray<{ z: number; queries: number }> =>
  quick
    ? [{ z: 1, queries: 200 }]
    : [
        { z: 2, queries: 100 },
        { z: 1, queries: 300 },
        { z: 0.5, queries: 1_000 },
      ];

/** One private arm: `queries` noisy-argmax answers at noise multiplier `z` (Skellam, clip 1). */
export function fmnistPrivate(
  base: SimulationConfig,
  z: number,
  queries: number,
  pseudoLabelThreshold: number | undefined,
): SimulationConfig {
  return {
    ...base,
    teachers: { ...base.teachers, perSite: 10 },
    queries: { perRound: queries, strategy: 'random' },
    summary: 'votes',
    aggregation: { kind: 'gnmax' },
    privacy: { kind: 'skellam', noiseMultiplier: z, clip: 1, delta: FMNIST_DELTA },
    student: { ...base.student, pseudoLabelThreshold },
  };
}

/**
 * An arm with the federation's feature extractor (issue 13): teachers and student become heads on
 * its output (linear teachers, as many per site as the arm has, cheap in stacked graphs).
 */
export function withFeatures(arm: SimulationConfig, features: FeatureSpec | undefined): SimulationConfig {
  if (!features) return arm;
  return { ...arm, features, teachers: { ...arm.teachers, hidden: [] } };
}

/**
 * The ε the coordinator's planner gives `arm`'s rounds (planNoise: `rounds` full rounds of every
 * site, composed in the RDP accountant as the coordinator charges completed rounds), for its
 * federation definition with inputs of `inputShape` and `classes` classes.
 */
export function plannedEpsilon(
  arm: SimulationConfig,
  inputShape: readonly number[],
  classes: number,
): number {
  const definition = federationDefinition(arm, { classes, inputShape, referenceSha256: '0'.repeat(64) });
  const parsed = parseFederationSpec(definition);
  if (!parsed.ok) throw new RangeError(`the arm's federation definition: ${parsed.problems.join('; ')}`);
  return planNoise(parsed.spec).epsilon;
}

/**
 * `arm` at the smallest noise multiplier (to 1e-4 relative, bisection on a log scale) whose planned
 * ε is at most `targetEpsilon` (ε falls as z grows): planning by epsilon, as a federation's
 * privacy.targetEpsilon, but for the arm's own rounds only (no budget set aside for evaluation
 * rounds), so that the arm spends its whole target.
 */
export function atEpsilon(
  arm: SimulationConfig,
  targetEpsilon: number,
  inputShape: readonly number[],
  classes: number,
): SimulationConfig {
  const p = arm.privacy;
  if (p.kind === 'none') throw new RangeError("'arm' has no privacy: there is no noise to choose");
  if (!(targetEpsilon > 0)) throw new RangeError(`'targetEpsilon' must be > 0, not ${targetEpsilon}`);
  const at = (z: number): SimulationConfig => ({ ...arm, privacy: { ...p, noiseMultiplier: z } });
  const fits = (z: number): boolean => plannedEpsilon(at(z), inputShape, classes) <= targetEpsilon;
  let lo = 0.01;
  let hi = 1_000;
  if (!fits(hi)) throw new RangeError(`'targetEpsilon' ${targetEpsilon} needs a noise multiplier over ${hi}`);
  // Invariant: lo misses the target (or is the floor), hi meets it.
  while (hi / lo > 1 + 1e-4) {
    const mid = Math.sqrt(lo * hi);
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return at(hi);
}
