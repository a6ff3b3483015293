import type { KeyAdvertisement, KeyRoster } from '@fedistill/secagg';
import { PermissionError, StageNotReadyError } from '../domain/errors';
import { mutate } from './close-stage';
import { type EngineContext, expectOpenOr, expectStage } from './engine-context';

/** Stage 1: a site advertises its two round keys, signed by its identity key. */
export async function advertiseKeys(
  ctx: EngineContext,
  site: string,
  federationId: string,
  roundNo: number,
  advert: KeyAdvertisement,
): Promise<void> {
  const { live, siteId } = ctx.find(federationId, roundNo, site);
  // A retry of a request whose answer was lost (a coordinator restart, or the site's deadline
  // passed while it waited its turn) is not an error: checked again inside the transition.
  const repeated = () => {
    const earlier = live.coordinator.state.adverts.find((a) => a.siteId === siteId);
    return !!earlier && Buffer.from(earlier.signature).equals(Buffer.from(advert.signature));
  };
  if (repeated()) return;
  expectStage(live, 'keys');
  if (advert.siteId !== siteId)
    throw new PermissionError(`site '${site}' has id ${siteId} in this round, not ${advert.siteId}`);
  await mutate(ctx, live, () => live.coordinator.receiveKeys(advert), repeated);
}

/** The accepted advertisements, once the key stage closed. */
export function roster(ctx: EngineContext, site: string, federationId: string, roundNo: number): KeyRoster {
  const { live } = ctx.find(federationId, roundNo, site);
  expectOpenOr(live, live.roster);
  if (!live.roster)
    throw new StageNotReadyError(
      `the key stage of round ${roundNo} is still open (deadline ${new Date(live.plan.deadlines.keys).toISOString()})`,
    );
  return live.roster;
}
