import { closeStage, persist, transition } from './close-stage';
import type { EngineContext } from './engine-context';

/** A site's reported refusal (its budget, say): recorded, and the site is not waited for. */
export async function declineRound(
  ctx: EngineContext,
  site: string,
  federationId: string,
  roundNo: number,
  reason: string,
  detail: string,
): Promise<void> {
  const { live } = ctx.find(federationId, roundNo, site);
  await transition(ctx, live, async () => {
    // A decline sent again (its answer was lost) is recorded once.
    if (live.declines.some((d) => d.site === site)) return;
    live.declines.push({ site, reason, detail });
    await ctx.deps.transcript.append({
      event: 'received',
      federation: federationId,
      round: String(roundNo),
      peer: site,
      kind: 'Rounds/DeclineRound',
      detail: `${reason}: ${detail}`,
    });
    if (live.stage && live.everyoneAnswered()) await closeStage(ctx, live, 'everyone answered or declined');
    else await persist(ctx, live);
  });
}
