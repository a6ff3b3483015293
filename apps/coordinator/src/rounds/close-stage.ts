import { isStoreUnavailable } from '@fedistill/store';
import { RequestInvalidError } from '../domain/errors';
import type { EngineContext } from './engine-context';
import type { LiveRound } from './live-round';

/**
 * Closing a stage: the one way a round moves on (deadline passed, or everyone still expected
 * answered or declined). It runs inside `live.serialized` (its callers hold the round), takes
 * the state machine's output for the next stage, persists the round, and emits StageClosed, or
 * RoundCompleted / RoundAbandoned when the round ended.
 */
export async function closeStage(ctx: EngineContext, live: LiveRound, why: string): Promise<void> {
  const c = live.coordinator;
  const stage = live.stage;
  if (stage === 'keys') live.roster = c.closeKeys() ?? null;
  else if (stage === 'shares') live.deliveries = c.closeShares() ?? null;
  else if (stage === 'inputs') live.survivorSets = c.closeInputs() ?? null;
  else if (stage === 'consistency') live.unmaskRequests = c.closeConsistency() ?? null;
  else if (stage === 'unmask') c.finish();
  const federation = live.plan.federationId;
  const round = String(live.plan.round);
  const { transcript } = ctx.deps;
  if (c.stage === 'done' || c.stage === 'abandoned') {
    live.status = c.stage === 'done' ? 'completed' : 'abandoned';
    live.reason = c.state.reason;
    const detail =
      c.stage === 'done'
        ? `completed with ${c.state.inputs.length} sites (${why})`
        : `abandoned: ${c.state.reason ?? ''} (${why}); nothing was revealed`;
    await transcript.append({ event: 'round', federation, round, detail });
    // Stored before anyone hears of it: the student publisher reads the completed round back.
    await persist(ctx, live);
    // Retired only once stored: a round whose end could not be written stays open and is retried.
    ctx.retire(live);
    const name = (id: number) => live.plan.participants.find((p) => p.siteId === id)?.siteName ?? String(id);
    ctx.emit({
      kind: c.stage === 'done' ? 'RoundCompleted' : 'RoundAbandoned',
      plan: live.plan,
      detail,
      contributors: c.state.inputs.map(name),
      declines: [...live.declines],
    });
    return;
  }
  await transcript.append({
    event: 'round',
    federation,
    round,
    detail: `stage ${stage} closed (${why}); now ${c.stage}`,
  });
  await persist(ctx, live);
  const next = live.stage;
  if (stage && next) ctx.emit({ kind: 'StageClosed', plan: live.plan, closed: stage, next, why });
}

/** Writes the round as it is now to the store, and remembers that record as the last stored. */
export async function persist(ctx: EngineContext, live: LiveRound): Promise<void> {
  const record = live.toRecord(ctx.now());
  await ctx.deps.store.rounds.save(record);
  live.stored(record);
}

/**
 * Runs `fn` inside `live.serialized` as one transition: if it throws (a refusal, or the round or
 * its transcript entry could not be written: the coordinator's disk full or read-only, its
 * database away), the round in memory is put back as it was before, so that it never runs ahead
 * of the store. The site that sent the message is told (UNAVAILABLE for storage, which it
 * retries); a stage close that failed is tried again at the next tick. A storage failure marks
 * the round (`storageOutage`): its open stage is not closed by a deadline that passed while the
 * sites were being refused (closeExpiredStages).
 */
export function transition<T>(ctx: EngineContext, live: LiveRound, fn: () => Promise<T>): Promise<T> {
  return live.serialized(async () => {
    // The round in memory equals the one last stored at the start of every transition.
    const before = live.lastRecord(ctx.now());
    try {
      return await fn();
    } catch (err) {
      live.restore(before, await ctx.identityKeys(live.plan.participants));
      if (isStoreUnavailable(err)) live.storageOutage = true;
      throw err;
    }
  });
}

/**
 * Applies one state-machine call for a site's message as a `transition`, then closes the stage
 * when everyone answered, else persists. A state machine refusal is the caller's fault.
 * `repeated` says, inside the transition, that the message was already applied: a site that
 * sends a message again (its answer was lost, or came after its deadline) while the first copy
 * still waits its turn is answered as the first was, and nothing changes. Returns whether `fn` ran.
 */
export function mutate(
  ctx: EngineContext,
  live: LiveRound,
  fn: () => void,
  repeated: () => boolean = () => false,
): Promise<boolean> {
  return transition(ctx, live, async () => {
    if (repeated()) return false;
    try {
      fn();
    } catch (err) {
      throw new RequestInvalidError((err as Error).message);
    }
    if (live.everyoneAnswered()) await closeStage(ctx, live, 'everyone answered');
    else await persist(ctx, live);
    return true;
  });
}

/**
 * Closes every stage whose deadline passed; called on a timer. A stage open while the
 * coordinator's storage failed (`live.storageOutage`: its disk full or read-only, its database
 * away) is not closed at that deadline: every site's message was refused UNAVAILABLE meanwhile,
 * and the sites, retrying with backoff, would become dropouts through no fault of theirs (and a
 * site that already charged its budget for a masked input would be charged for nothing). The
 * stage gets its whole length again from now plus `graceMs`, as after a restart
 * (LiveRound.restartOpenStage), once the round can be written again.
 */
export async function closeExpiredStages(ctx: EngineContext, graceMs = 0): Promise<void> {
  for (const live of [...ctx.live.values()]) {
    const stage = live.stage;
    if (stage && ctx.now() > live.plan.deadlines[stage]) {
      await transition(ctx, live, async () => {
        if (live.stage !== stage) return;
        if (!live.storageOutage) return closeStage(ctx, live, 'deadline passed');
        const shift = live.restartOpenStage(ctx.now(), graceMs);
        await ctx.deps.transcript.append({
          event: 'round',
          federation: live.plan.federationId,
          round: String(live.plan.round),
          detail: `stage ${stage}: deadline restarted from now (+${Math.round(shift / 1000)} s) after the coordinator's storage failed while it was open`,
        });
        await persist(ctx, live);
        live.storageOutage = false;
      });
    }
  }
}
