import { planRelease } from '@fedistill/distill';
import type { FederationSpec } from './federation-spec';
import { effectiveNoiseMultiplier } from './noise-plan';
import { distillReleaseOf } from './round-policy';

/** The noise one released entry carries against the largest signal the teachers can put in it. */
export interface NoiseAgainstSignal {
  /** Standard deviation of the aggregate noise per released entry, in summary units. */
  readonly noiseStddev: number;
  /**
   * The largest value one entry's signal can reach: every teacher of the `sites` agreeing, each
   * site with secureAggregation.maxTeachersPerSite teachers, each adding at most one vote (votes)
   * or privacy.clipNorm of probability mass (soft labels).
   */
  readonly maxSignal: number;
  /** 'votes' or 'probability mass'. */
  readonly unit: string;
  /** Set when the noise exceeds the largest signal: what it means and what to change. */
  readonly warning: string | null;
}

/**
 * Compares a distillation round's noise with its largest possible signal, for `sites` answering
 * sites (rounds.minSites when a federation is created, the participants when a round is
 * planned). When the noise standard deviation exceeds even the signal of every teacher agreeing,
 * the released targets are mostly noise and a student learns about as much as the majority
 * class: the definition is legal, but almost certainly not what the operator meant, so it is a
 * warning, not a refusal. Null without privacy (mechanism none: nothing to compare).
 * Throws RangeError when `sites` is not an integer >= 1.
 */
export function noiseAgainstSignal(spec: FederationSpec, sites: number): NoiseAgainstSignal | null {
  if (!Number.isInteger(sites) || sites < 1) throw new RangeError("'sites' must be an integer >= 1");
  const p = spec.privacy;
  // Class sums carry no teachers' signal: their noise is measured against records (privacy plan).
  if (p.mechanism === 'none' || p.summary === 'class-sums') return null;
  const z = effectiveNoiseMultiplier(spec);
  const queries = spec.rounds.queriesPerRound;
  const release = planRelease(distillReleaseOf(spec, queries, sites, z));
  const votes = p.summary === 'votes';
  const perTeacher = votes ? 1 : p.clipNorm;
  const teachers = spec.secureAggregation.maxTeachersPerSite;
  // Integer units times the granularity: votes stay votes, soft labels become probability mass.
  const noiseStddev = z * release.l2 * release.granularity;
  const maxSignal = sites * teachers * perTeacher;
  const unit = votes ? 'votes' : 'probability mass';
  const fmt = (v: number) => (v >= 10 ? v.toFixed(1) : v.toPrecision(3));
  const warning =
    noiseStddev > maxSignal
      ? `the noise on each released entry (standard deviation ${fmt(noiseStddev)} ${unit}, noise multiplier ${fmt(z)} ` +
        `over ${queries} queries) exceeds the largest signal the teachers can give it ` +
        `(${sites} sites x ${teachers} teachers${votes ? '' : ` x clipNorm ${p.clipNorm}`} = ${fmt(maxSignal)} ${unit}, ` +
        'every teacher agreeing): the students will learn little more than the majority class. ' +
        'Lower rounds.queriesPerRound or rounds.maxRounds, raise privacy.targetEpsilon (or lower ' +
        "privacy.noiseMultiplier), use privacy.summary 'votes', or have more teachers per site " +
        "(secureAggregation.maxTeachersPerSite and each site's teachers.count); `fedistill privacy plan --file` shows the trade-off"
      : null;
  return { noiseStddev, maxSignal, unit, warning };
}
