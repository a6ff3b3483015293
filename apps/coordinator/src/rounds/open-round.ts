import {
  evaluationRoundCap,
  type FederationView,
  noiseAgainstSignal,
  planEvaluationRound,
  planRound,
  type RoundPlan,
} from '@fedistill/protocol';
import { decodeState, SecAggCoordinator } from '@fedistill/secagg';
import type { RoundRecord } from '@fedistill/store';
import { RequestInvalidError } from '../domain/errors';
import type { EngineContext } from './engine-context';
import { checkEpsilonCap } from './epsilon-cap';
import { LiveRound, type RoundSnapshot } from './live-round';
import type { RoundAnnounced } from './round-events';
import { type RoundView, viewOf } from './round-view';

/** A round asked for: a distillation round, or an evaluation of a published student. */
export type RoundRequest = { readonly studentVersion?: number } | undefined;

/**
 * Federations whose next round is being opened, per engine: planning may wait for the student
 * (least-confident selection), and a second `round start` in that time must not pass the
 * "already has an open round" check too.
 */
const opening = new WeakMap<EngineContext, Set<string>>();

/**
 * Opens the federation's next round with its online member sites: a distillation round, or
 * with `evaluate`, a securely aggregated evaluation of a published student (the latest when
 * `evaluate.studentVersion` is not given) on the sites' local test splits. Emits RoundAnnounced.
 */
export async function openRound(
  ctx: EngineContext,
  federationId: string,
  evaluate: RoundRequest,
): Promise<RoundView> {
  const busy = opening.get(ctx) ?? new Set<string>();
  opening.set(ctx, busy);
  if (busy.has(federationId))
    throw new RequestInvalidError(
      `a round of federation '${federationId}' is being opened (its queries wait for the latest student); try again when it is announced`,
    );
  busy.add(federationId);
  try {
    return await open(ctx, federationId, evaluate);
  } finally {
    busy.delete(federationId);
  }
}

async function open(ctx: EngineContext, federationId: string, evaluate: RoundRequest): Promise<RoundView> {
  const { federations, sites: siteService, store, transcript } = ctx.deps;
  const federation = await federations.get(federationId);
  const online = (await siteService.list()).filter((s) => s.online && federation.members.includes(s.name));
  const previous = await checkCanOpen(
    ctx,
    federation,
    online.map((s) => s.name),
    evaluate,
  );
  const roundNumber = (previous.at(-1)?.round ?? 0) + 1;
  const plan = await planFor(ctx, federation, roundNumber, online, evaluate);
  checkEpsilonCap(federation, plan, previous);
  const round = new LiveRound(
    plan,
    SecAggCoordinator.create({
      config: plan.config,
      identityKeys: await ctx.identityKeys(plan.participants),
    }),
    {},
    ctx.now(),
  );
  const record = round.toRecord(ctx.now());
  await store.rounds.create(record);
  round.stored(record);
  ctx.live.set(plan.config.roundId, round);
  const sites = online.map((s) => s.name);
  // The noise against the signal of this round's participants (an evaluation asks no teachers).
  const warning =
    plan.kind === 'evaluation' ? null : noiseAgainstSignal(federation, plan.participants.length)?.warning;
  await transcript.append({
    event: 'round',
    federation: federationId,
    round: String(roundNumber),
    detail:
      (plan.kind === 'evaluation'
        ? `opened with ${sites.join(', ')}; evaluation of student v${plan.studentVersion}`
        : `opened with ${sites.join(', ')}; ${plan.queries.length} queries`) +
      (warning ? `; warning: ${warning}` : ''),
  });
  ctx.emit({ kind: 'RoundAnnounced', plan, federation });
  return warning ? { ...viewOf(round), warnings: [warning] } : viewOf(round);
}

/**
 * Refuses a round with too few sites online, while another is open, or past its cap: a
 * distillation round past rounds.maxRounds, an evaluation round past rounds.maxEvaluationRounds.
 * Caps count completed rounds of their own kind only (an abandoned round released nothing);
 * round numbers stay unique across all rounds. Returns the earlier rounds.
 */
async function checkCanOpen(
  ctx: EngineContext,
  federation: FederationView,
  sites: readonly string[],
  evaluate: RoundRequest,
): Promise<RoundRecord[]> {
  const federationId = federation.id;
  if (sites.length < federation.rounds.minSites) {
    throw new RequestInvalidError(
      `only ${sites.length} of the federation's sites are online (${sites.join(', ') || 'none'}); rounds.minSites is ${federation.rounds.minSites}`,
    );
  }
  const previous = await ctx.deps.store.rounds.list(federationId);
  if (previous.some((r) => r.status === 'open'))
    throw new RequestInvalidError(`federation '${federationId}' already has an open round`);
  const completed = completedByKind(previous);
  if (!evaluate && completed.distill >= federation.rounds.maxRounds)
    throw new RequestInvalidError(
      `federation '${federationId}' has had its ${federation.rounds.maxRounds} distillation rounds (rounds.maxRounds counts completed distillation rounds; abandoned and evaluation rounds do not count)`,
    );
  const evaluations = evaluationRoundCap(federation);
  if (evaluate && evaluations !== undefined && completed.evaluation >= evaluations)
    throw new RequestInvalidError(
      `federation '${federationId}' has had its ${evaluations} evaluation round(s) (rounds.maxEvaluationRounds counts completed evaluation rounds; abandoned ones do not count)`,
    );
  return previous;
}

/** Completed rounds by kind (a round planned before kinds were recorded is a distillation round). */
function completedByKind(records: readonly RoundRecord[]): { distill: number; evaluation: number } {
  const counts = { distill: 0, evaluation: 0 };
  for (const r of records)
    if (r.status === 'completed') counts[decodeState<RoundSnapshot>(r.engine).plan.kind ?? 'distill'] += 1;
  return counts;
}

/** The round's plan: an evaluation of the requested student, or distillation on the query planner's rows. */
async function planFor(
  ctx: EngineContext,
  federation: FederationView,
  roundNumber: number,
  online: ReadonlyArray<{ readonly name: string; readonly signingPublicKey: string }>,
  evaluate: RoundRequest,
): Promise<RoundPlan> {
  const federationId = federation.id;
  const { store, queryPlanner } = ctx.deps;
  if (evaluate) {
    const student =
      evaluate.studentVersion === undefined
        ? await store.students.latest(federationId)
        : await store.students.get(federationId, evaluate.studentVersion);
    if (!student)
      throw new RequestInvalidError(
        evaluate.studentVersion === undefined
          ? `federation '${federationId}' has no published student to evaluate yet`
          : `federation '${federationId}' has no student version ${evaluate.studentVersion}`,
      );
    return planEvaluationRound(federation, roundNumber, online, student.version, ctx.now());
  }
  // A class-sum round asks no queries: its release covers every reference row at once.
  if (federation.privacy.summary === 'class-sums')
    return planRound(federation, roundNumber, online, [], ctx.now());
  const chosen = await queryPlanner.choose(federation, roundNumber);
  return planRound(federation, roundNumber, online, chosen.queries, ctx.now(), chosen.selection);
}

/**
 * Announcements of the open rounds that still wait for `site`'s keys (it is invited, the key
 * stage is open, and it has neither advertised keys nor declined): a site that (re)connects
 * gets them again.
 */
export async function pendingAnnouncements(ctx: EngineContext, site: string): Promise<RoundAnnounced[]> {
  const events: RoundAnnounced[] = [];
  for (const live of ctx.live.values()) {
    const siteId = live.participant(site);
    if (siteId === undefined || live.stage !== 'keys') continue;
    if (live.coordinator.state.adverts.some((a) => a.siteId === siteId)) continue;
    if (live.declines.some((d) => d.site === site)) continue;
    const federation = await ctx.deps.federations.get(live.plan.federationId);
    events.push({ kind: 'RoundAnnounced', plan: live.plan, federation });
  }
  return events;
}
