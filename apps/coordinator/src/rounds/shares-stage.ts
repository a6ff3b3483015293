import type { SealedShare, ShareDelivery } from '@fedistill/secagg';
import { PermissionError, StageNotReadyError } from '../domain/errors';
import { mutate } from './close-stage';
import { type EngineContext, expectOpenOr, expectStage } from './engine-context';

/** Stage 2: a site sends its sealed key shares, one per neighbour. */
export async function sendShares(
  ctx: EngineContext,
  site: string,
  federationId: string,
  roundNo: number,
  shares: readonly SealedShare[],
): Promise<void> {
  const { live, siteId } = ctx.find(federationId, roundNo, site);
  // A retried request (checked again inside the transition: the first copy may still wait its turn).
  const repeated = () => live.coordinator.state.sharers.includes(siteId);
  if (repeated()) return;
  expectStage(live, 'shares');
  if (shares.some((s) => s.from !== siteId))
    throw new PermissionError(`site '${site}' may only send shares from its own id ${siteId}`);
  await mutate(ctx, live, () => live.coordinator.receiveShares(siteId, shares), repeated);
}

/** The shares addressed to `site`, once the share stage closed. */
export function delivery(
  ctx: EngineContext,
  site: string,
  federationId: string,
  roundNo: number,
): ShareDelivery {
  const { live, siteId } = ctx.find(federationId, roundNo, site);
  const found = live.deliveries?.find((d) => d.to === siteId);
  expectOpenOr(live, live.deliveries);
  if (!live.deliveries) throw new StageNotReadyError(`the share stage of round ${roundNo} is still open`);
  if (!found) throw new PermissionError(`site '${site}' did not share keys in round ${roundNo}`);
  return found;
}
