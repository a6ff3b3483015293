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
  const { transcript, store } = ctx.deps;
  if (c.stage === 'done' || c.stage === 'abandoned') {
    live.status = c.stage === 'done' ? 'completed' : 'abandoned';
    live.reason = c.state.reason;
    const detail =
      c.stage === 'done'
        ? `completed with ${c.state.inputs.length} sites (${why})`
        : `abandoned: ${c.state.reason ?? ''} (${why}); nothing was revealed`;
    await transcript.append({ event: 'round', federation, round, detail });
    // Stored before anyone hears of it: the student publisher reads the completed round back.
    await store.rounds.save(live.toRecord(ctx.now()));
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
  await store.rounds.save(live.toRecord(ctx.now()));
  const next = live.stage;
  if (stage && next) ctx.emit({ kind: 'StageClosed', plan: live.plan, closed: stage, next, why });
}

/**
 * Runs `fn` inside `live.serialized` as one transition: if it throws (a refusal, or the round or
 * its transcript entry could not be written: the coordinator's disk full or read-only, its
 * database away), the round in memory is put back as it was before, so that it never runs ahead
 * of the store. The site that sent the message is told (UNAVAILABLE for storage, which it
 * retries); a stage close that failed is tried again at the next tick.
 */
export function transition<T>(ctx: EngineContext, live: LiveRound, fn: () => Promise<T>): Promise<T> {
  return live.serialized(async () => {
    const before = live.toRecord(ctx.now());
    try {
      return await fn();
    } catch (err) {
      live.restore(before, await ctx.identityKeys(live.plan.participants));
      throw err;
    }
  });
}

/**
 * Applies one state-machine call for a site's message as a `transition`, then closes the stage
 * when everyone answered, else persists. A state machine refusal is the caller's fault.
 */
export function mutate<T>(ctx: EngineContext, live: LiveRound, fn: () => T): Promise<T> {
  return transition(ctx, live, async () => {
    let result: T;
    try {
      result = fn();
    } catch (err) {
      throw new RequestInvalidError((err as Error).message);
    }
    if (live.everyoneAnswered()) await closeStage(ctx, live, 'everyone answered');
    else await ctx.deps.store.rounds.save(live.toRecord(ctx.now()));
    return result;
  });
}

/** Closes every stage whose deadline passed; called on a timer. */
export async function closeExpiredStages(ctx: EngineContext): Promise<void> {
  for (const live of [...ctx.live.values()]) {
    const stage = live.stage;
    if (stage && ctx.now() > live.plan.deadlines[stage]) {
      await transition(ctx, live, () =>
        live.stage === stage ? closeStage(ctx, live, 'deadline passed') : Promise.resolve(),
      );
    }
  }
}
