import type { SurvivorSet } from '@fedistill/secagg';
import { PermissionError, StageNotReadyError } from '../domain/errors';
import { mutate } from './close-stage';
import { type EngineContext, expectOpenOr, expectStage } from './engine-context';

/** The survivor set a survivor is asked to sign (consistency round, Bonawitz et al. CCS 2017, Fig. 4, round 3). */
export function survivorSet(
  ctx: EngineContext,
  site: string,
  federationId: string,
  roundNo: number,
): SurvivorSet {
  const { live, siteId } = ctx.find(federationId, roundNo, site);
  expectOpenOr(live, live.survivorSets);
  if (!live.survivorSets) throw new StageNotReadyError(`the input stage of round ${roundNo} is still open`);
  const set = live.survivorSets.find((x) => x.to === siteId);
  if (!set) throw new PermissionError(`site '${site}' sent no masked input in round ${roundNo}`);
  return set;
}

/** A survivor's signature over the survivor set. */
export async function submitSurvivorSignature(
  ctx: EngineContext,
  site: string,
  federationId: string,
  roundNo: number,
  signature: Uint8Array,
): Promise<void> {
  const { live, siteId } = ctx.find(federationId, roundNo, site);
  // A retried request (checked again inside the transition: the first copy may still wait its turn).
  const repeated = () => {
    const earlier = live.coordinator.state.signatures.find((x) => x.siteId === siteId);
    return !!earlier && Buffer.from(earlier.signature).equals(Buffer.from(signature));
  };
  if (repeated()) return;
  expectStage(live, 'consistency');
  await mutate(
    ctx,
    live,
    () =>
      live.coordinator.receiveSurvivorSignature({
        roundId: live.plan.config.roundId,
        from: siteId,
        signature,
      }),
    repeated,
  );
}
