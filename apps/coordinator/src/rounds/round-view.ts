import type { RoundRecord } from '@fedistill/store';
import { type EvaluationEstimate, evaluationFromSum } from '@fedistill/distill';
import { perSiteVariance } from '@fedistill/dp';
import { decodeSigned, decodeState } from '@fedistill/secagg';
import { type QuerySelection, releasePlanOf } from '@fedistill/protocol';
import type { RoundStudent } from '../students/student-publisher';
import { LiveRound, type RoundSnapshot } from './live-round';

/** A round as the operator sees it (admin API, `fedistill coordinator round status`). */
export interface RoundView {
  readonly federationId: string;
  readonly round: number;
  readonly status: RoundRecord['status'];
  readonly stage: string;
  readonly participants: readonly string[];
  readonly queries: number;
  readonly deadlines: Readonly<Record<string, string>>;
  /** Sites whose keys, shares and masked inputs arrived, by name. */
  readonly keysFrom: readonly string[];
  readonly sharesFrom: readonly string[];
  readonly inputsFrom: readonly string[];
  /** Sites the open stage still waits for (neither answered nor declined); empty once it closed. */
  readonly awaiting: readonly string[];
  readonly declines: RoundSnapshot['declines'];
  /** Why the round was abandoned. */
  readonly reason: string | null;
  /** For a completed round: the student published from it, or its training state. */
  readonly student?: RoundStudent | null;
  /** 'distill' (queries about the reference set) or 'evaluation' (of a published student). */
  readonly kind: 'distill' | 'evaluation';
  /**
   * How a distillation round's queries were chosen: 'random' (seeded, public) or 'least-confident'
   * by a published student; null for an evaluation round or one planned before it was recorded.
   */
  readonly querySelection: QuerySelection | null;
  /** An evaluation round's result once completed (see RoundEvaluation); null before. */
  readonly evaluation?: RoundEvaluation | null;
  /** In the answer to `round start` only: what the planner warns about (see noiseAgainstSignal). */
  readonly warnings?: readonly string[];
}

/** The views with each completed round's student state (null for rounds without one). */
export function withStudents(
  views: readonly RoundView[],
  students: ReadonlyMap<number, RoundStudent>,
): RoundView[] {
  return views.map((v) => ({ ...v, student: students.get(v.round) ?? null }));
}

export function viewOf(source: LiveRound | RoundRecord): RoundView {
  const s: Pick<RoundSnapshot, 'plan' | 'coordinator' | 'declines' | 'status' | 'reason'> =
    source instanceof LiveRound
      ? {
          plan: source.plan,
          coordinator: source.coordinator.state,
          declines: source.declines,
          status: source.status,
          reason: source.reason,
        }
      : decodeState<RoundSnapshot>(source.engine);
  const name = (id: number) => s.plan.participants.find((p) => p.siteId === id)?.siteName ?? String(id);
  return {
    federationId: s.plan.federationId,
    round: s.plan.round,
    status: s.status,
    stage: s.coordinator.stage,
    participants: s.plan.participants.map((p) => p.siteName),
    queries: s.plan.queries.length,
    deadlines: Object.fromEntries(
      Object.entries(s.plan.deadlines).map(([k, v]) => [k, new Date(v).toISOString()]),
    ),
    keysFrom: s.coordinator.adverts.map((a) => name(a.siteId)),
    sharesFrom: s.coordinator.sharers.map(name),
    inputsFrom: s.coordinator.inputs.map(name),
    awaiting: source instanceof LiveRound ? (source.awaiting() ?? []).map(name) : [],
    declines: s.declines,
    reason: s.reason ?? s.coordinator.reason,
    kind: s.plan.kind ?? 'distill',
    querySelection: s.plan.kind === 'evaluation' ? null : (s.plan.querySelection ?? null),
    ...(s.plan.kind === 'evaluation' ? { evaluation: evaluationOf(s) } : {}),
  };
}

/**
 * An evaluation round's result: the noisy, securely aggregated counts of the sites' local test
 * splits (no site's own figures are ever seen), clamped to possible values, and the accuracy
 * they give with a 95% interval for the noise (libs/distill evaluationFromSum). Clamping and the
 * interval are post-processing of the release: no privacy cost.
 */
export interface RoundEvaluation extends EvaluationEstimate {
  readonly studentVersion: number;
}

/** The evaluation of a completed evaluation round, or null (another kind, or not completed). */
export function evaluationOf(
  s: Pick<RoundSnapshot, 'plan' | 'coordinator' | 'status'>,
): RoundEvaluation | null {
  if (s.plan.kind !== 'evaluation' || s.status !== 'completed' || !s.coordinator.result) return null;
  // Each entry of the sum carries one noise share from every site whose input was summed.
  const noise = releasePlanOf(s.plan).noise;
  const entryVariance = noise ? s.coordinator.inputs.length * perSiteVariance(noise) : 0;
  return {
    studentVersion: s.plan.studentVersion,
    ...evaluationFromSum(
      decodeSigned(s.coordinator.result, s.plan.config.bits ?? 32),
      s.plan.evaluation.classes,
      entryVariance,
    ),
  };
}
