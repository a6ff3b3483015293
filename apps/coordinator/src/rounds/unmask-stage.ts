import type { UnmaskRequest, UnmaskResponse } from '@fedistill/secagg';
import { PermissionError, StageNotReadyError } from '../domain/errors';
import { mutate } from './close-stage';
import { type EngineContext, expectOpenOr, expectStage } from './engine-context';

/** Stage 4: what `site` is asked to reveal, once the consistency stage closed. */
export function unmaskRequest(
  ctx: EngineContext,
  site: string,
  federationId: string,
  roundNo: number,
): UnmaskRequest {
  const { live, siteId } = ctx.find(federationId, roundNo, site);
  expectOpenOr(live, live.unmaskRequests);
  if (!live.unmaskRequests)
    throw new StageNotReadyError(`the consistency stage of round ${roundNo} is still open`);
  const request = live.unmaskRequests.find((r) => r.to === siteId);
  if (!request) throw new PermissionError(`site '${site}' did not sign the survivor set of round ${roundNo}`);
  return request;
}

/** Stage 4: the shares a site reveals (key shares of dropped neighbours, seed shares of survivors). */
export async function submitUnmask(
  ctx: EngineContext,
  site: string,
  federationId: string,
  roundNo: number,
  response: UnmaskResponse,
): Promise<void> {
  const { live, siteId } = ctx.find(federationId, roundNo, site);
  // A retried request (checked again inside the transition: the first copy may still wait its turn).
  const repeated = () => live.coordinator.state.responses.some((r) => r.from === siteId);
  if (repeated()) return;
  expectStage(live, 'unmask');
  if (response.from !== siteId)
    throw new PermissionError(`site '${site}' may only answer for its own id ${siteId}`);
  await mutate(ctx, live, () => live.coordinator.receiveUnmask(response), repeated);
}
