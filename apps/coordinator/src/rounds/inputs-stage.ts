import { createHash } from 'node:crypto';
import { maskedInputFromWire, type WireMaskedInput } from '@fedistill/protocol';
import { RequestInvalidError } from '../domain/errors';
import { mutate } from './close-stage';
import { type EngineContext, expectStage } from './engine-context';

/**
 * Stage 3: a site's masked input as sent (`length` entries packed at the round's ring width).
 * Returns the receipt, SHA-256 of the packed bytes: a retry of the same bytes gets it again.
 */
export async function submitInput(
  ctx: EngineContext,
  site: string,
  federationId: string,
  roundNo: number,
  sent: WireMaskedInput,
): Promise<string> {
  const { live, siteId } = ctx.find(federationId, roundNo, site);
  const receipt = createHash('sha256').update(sent.maskedVector).digest('hex');
  const earlier = live.receipts[siteId];
  if (earlier === receipt) return receipt; // a retried request
  if (earlier)
    throw new RequestInvalidError(`a different masked input was already accepted from site '${site}'`);
  expectStage(live, 'inputs');
  const c = live.plan.config;
  // WireFieldError (naming length or masked_vector) is mapped to INVALID_ARGUMENT in grpc/.
  const input = maskedInputFromWire(sent, {
    roundId: c.roundId,
    from: siteId,
    length: c.length,
    bits: c.bits ?? 32,
  });
  // The same bytes sent again while the first copy waited its turn get the same receipt; other
  // bytes are refused by the state machine (it already holds this site's input).
  await mutate(
    ctx,
    live,
    () => {
      live.coordinator.receiveMaskedInput(input);
      live.receipts[siteId] = receipt;
    },
    () => live.receipts[siteId] === receipt,
  );
  return receipt;
}
