import { persist } from './close-stage';
import type { EngineContext } from './engine-context';
import { LiveRound } from './live-round';

/**
 * After a restart: loads every open round from the store. The open stage gets its whole length
 * again from now plus `graceMs` (LiveRound.restartOpenStage), so sites cut off by the outage,
 * whose reconnect backoff may have grown to its cap, can come back. Returns how many rounds are open.
 */
export async function resumeRounds(ctx: EngineContext, graceMs = 0): Promise<number> {
  const { store, transcript } = ctx.deps;
  for (const record of await store.rounds.open()) {
    const engineState = JSON.parse(record.engine) as { plan: LiveRound['plan'] };
    const round = LiveRound.fromRecord(record, await ctx.identityKeys(engineState.plan.participants));
    const shift = round.restartOpenStage(ctx.now(), graceMs);
    if (shift > 0) await persist(ctx, round);
    ctx.live.set(`${record.federationId}#${record.round}`, round);
    await transcript.append({
      event: 'round',
      federation: record.federationId,
      round: String(record.round),
      detail:
        `resumed at stage ${record.stage}` +
        (shift > 0 ? `; its deadline restarted from now (+${Math.round(shift / 1000)} s)` : ''),
    });
  }
  return ctx.live.size;
}
