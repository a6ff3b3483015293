import { planEvaluation, planRelease, type ReleasePlan } from '@fedistill/distill';
import { DEFAULT_ORDERS, epsilonFromRdp, type Mechanism, RdpAccountant, rdpCurve } from '@fedistill/dp';
import type { FederationSpec } from './federation-spec';
import { distillReleaseOf, evaluationRoundCap, noiseSettingsOf } from './round-policy';

/** The range the planner searches for z: the schema's bounds on privacy.noiseMultiplier. */
export const NOISE_MULTIPLIER_RANGE = { min: 1e-3, max: 1e6 } as const;
/** Relative precision of the chosen z: z / (1 + PRECISION) would miss the target. */
const PRECISION = 1e-3;

/**
 * What a federation's noise buys over its whole life, as `fedistill privacy plan` shows it.
 * Every figure assumes rounds of rounds.minSites invited sites (see planNoise).
 */
export interface NoisePlan {
  /** The noise multiplier z of every round (aggregate noise stddev / L2 sensitivity). */
  readonly noiseMultiplier: number;
  /** True when z was chosen for privacy.targetEpsilon, false when privacy.noiseMultiplier set it. */
  readonly chosen: boolean;
  readonly targetEpsilon: number | null;
  readonly delta: number;
  readonly rounds: number;
  readonly queriesPerRound: number;
  readonly sites: number;
  /**
   * ε at δ of rounds.maxRounds full distillation rounds composed: what the one composition
   * (federationEpsilon) gives for the rounds planRound plans, once they have all run.
   */
  readonly epsilon: number;
  /** The Rényi order that gave `epsilon`. */
  readonly order: number;
  /**
   * ε at δ of rounds.maxRounds + rounds.maxEvaluationRounds rounds, each as costly as the
   * costliest round a federation can run (see worstRoundCurve); <= the target.
   */
  readonly worstEpsilon: number;
  /** The release of one full distillation round (sensitivities, noise, mechanism). */
  readonly release: ReleasePlan;
  /** Aggregate noise stddev per released entry in summary units: votes, or probability mass. */
  readonly noiseStddev: number;
  /** The largest value one entry's signal can reach: every teacher of minSites sites agreeing. */
  readonly maxSignal: number;
}

/**
 * The noise multiplier a federation's rounds use: privacy.noiseMultiplier when the operator set
 * it (experts), else the one noiseMultiplierFor chooses for privacy.targetEpsilon. Pure: the
 * coordinator, the simulator and the CLI all derive the same z from the stored definition.
 * Throws RangeError without privacy or without either field.
 */
export function effectiveNoiseMultiplier(spec: FederationSpec): number {
  return spec.privacy.noiseMultiplier ?? noiseMultiplierFor(spec);
}

/**
 * The smallest noise multiplier z (to 1e-3 relative precision, by bisection on a log scale) at
 * which rounds.maxRounds + rounds.maxEvaluationRounds rounds, each priced as the costliest round the federation can run,
 * compose in the RDP accountant to ε <= privacy.targetEpsilon at privacy.delta (the analogue of
 * Opacus' make_private_with_epsilon). ε decreases in z (every term of the Gaussian, Skellam and
 * distributed discrete Gaussian RDP bounds does), so bisection finds it. Throws RangeError naming
 * privacy.targetEpsilon when no z in NOISE_MULTIPLIER_RANGE reaches it.
 */
export function noiseMultiplierFor(spec: FederationSpec): number {
  const p = spec.privacy;
  if (p.mechanism === 'none') throw new RangeError("'privacy.targetEpsilon' needs a privacy mechanism");
  const target = p.targetEpsilon;
  if (target === undefined || !(target > 0))
    throw new RangeError("'privacy.targetEpsilon' must be > 0 (or give privacy.noiseMultiplier)");
  const fits = (z: number) => worstEpsilon(spec, z) <= target;
  const { min, max } = NOISE_MULTIPLIER_RANGE;
  if (!fits(max))
    throw new RangeError(
      `'privacy.targetEpsilon' ${target} cannot be reached with noise multiplier <= ${max}: raise it or lower rounds.maxRounds`,
    );
  if (fits(min)) return min;
  // Invariant: lo misses the target, hi meets it.
  let lo: number = min;
  let hi: number = max;
  while (hi / lo > 1 + PRECISION) {
    const mid = Math.sqrt(lo * hi);
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The per-round RDP curve the planner budgets for: the pointwise maximum, order by order, of
 * the three rounds that bound every round a federation can run at noise multiplier z, so any
 * mix of rounds.maxRounds rounds composes to at most maxRounds times it.
 * Why not just the full round: the noise is z times the round's own L2 sensitivity Δ2, so the
 * leading RDP term α/(2z²) is the same for every round whatever its queries; the remaining
 * terms are not. Skellam's (AKL21, arXiv:2110.04995, §3) shrink as Δ2 grows, so a round with
 * FEWER queries costs MORE (votes: Δ2 = sqrt(2q), the correction is about (2α + 5)/(8 q z⁴)),
 * for soft labels and votes alike; a full round is not the costliest. A one-query round has the
 * smallest Δ2 a distillation round can have, and an evaluation round (budgeted by
 * rounds.maxEvaluationRounds) has Δ2 = 2. For the distributed discrete Gaussian (KLS21,
 * arXiv:2102.06387, Theorem 1) with one summand ('all' colluders) all three are α/(2z²); with
 * several summands its τ·d term is not monotone in q, and rounds of other sizes are left to the
 * coordinator's epsilonCap, which prices every actual round.
 */
export function worstRoundCurve(spec: FederationSpec, z: number): number[] {
  const n = spec.rounds.minSites;
  const full = planRelease(distillReleaseOf(spec, spec.rounds.queriesPerRound, n, z));
  const one = planRelease(distillReleaseOf(spec, 1, n, z));
  const evaluation = planEvaluation({
    classes: spec.labels.length,
    maxRecords: spec.secureAggregation.maxEvaluationRecords,
    noise: noiseSettingsOf(spec, n, z),
  });
  const curves = [full, one, evaluation].map((r) => rdpCurve(r.mechanism as Mechanism, 1));
  return DEFAULT_ORDERS.map((_, i) => Math.max(...curves.map((c) => c[i] as number)));
}

/**
 * ε at privacy.delta of every round the federation may run, rounds.maxRounds distillation rounds
 * and rounds.maxEvaluationRounds evaluation rounds, each priced at worstRoundCurve(spec, z).
 */
export function worstEpsilon(spec: FederationSpec, z: number): number {
  const rounds = spec.rounds.maxRounds + (evaluationRoundCap(spec) ?? 0);
  const curve = worstRoundCurve(spec, z).map((r) => r * rounds);
  return epsilonFromRdp(DEFAULT_ORDERS, curve, spec.privacy.delta).epsilon;
}

/**
 * The federation's noise plan: z (set or chosen), what rounds.maxRounds full rounds of
 * rounds.minSites sites compose to, composed as federationEpsilon composes planned rounds (one
 * release per round in the RDP accountant), and the noise each released entry carries against
 * the largest signal it can have. Throws RangeError without privacy.
 * Assumption: rounds of rounds.minSites sites. More sites change nothing for Skellam or with
 * 'all' colluders; with the discrete Gaussian and a numeric assumedColluders, more honest
 * summands make each share smaller and KLS21's τ term larger, and the epsilonCap (which prices
 * every actual round) is what holds the line.
 */
export function planNoise(spec: FederationSpec): NoisePlan {
  const p = spec.privacy;
  if (p.mechanism === 'none')
    throw new RangeError("'privacy.mechanism' is 'none': there is no noise to plan");
  const z = effectiveNoiseMultiplier(spec);
  const n = spec.rounds.minSites;
  const release = planRelease(distillReleaseOf(spec, spec.rounds.queriesPerRound, n, z));
  const accountant = new RdpAccountant();
  for (let r = 0; r < spec.rounds.maxRounds; r += 1) accountant.add(release.mechanism as Mechanism, 1);
  const { epsilon, order } = accountant.epsilon(p.delta);
  const teachers = n * spec.secureAggregation.maxTeachersPerSite;
  return {
    noiseMultiplier: z,
    chosen: p.noiseMultiplier === undefined,
    targetEpsilon: p.targetEpsilon ?? null,
    delta: p.delta,
    rounds: spec.rounds.maxRounds,
    queriesPerRound: spec.rounds.queriesPerRound,
    sites: n,
    epsilon,
    order,
    worstEpsilon: worstEpsilon(spec, z),
    release,
    // Integer units times the granularity: votes stay votes, soft labels become probability mass.
    noiseStddev: z * release.l2 * release.granularity,
    // Class sums: every site's records in one class, each adding at most 1 to an entry.
    maxSignal:
      p.summary === 'class-sums'
        ? n * (release.maxSignal * release.granularity)
        : p.summary === 'votes'
          ? teachers
          : teachers * p.clipNorm,
  };
}
