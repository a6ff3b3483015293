/**
 * The site's decision on an unmask request (Bonawitz et al. CCS 2017, §4, round 4): which shares
 * to reveal, and the checks that refuse a request that would leak an input.
 */
import { type SecAggConfig, survivorFloor } from './config';
import { UnmaskRefusedError } from './errors';
import { wouldIsolate } from './masks';
import type { RevealedShare, UnmaskRequest, UnmaskResponse } from './messages';
import type { SiteState } from './site-state';

/**
 * Checks `request` and returns the response and the updated record of revealed kinds. Refuses
 * (UnmaskRefusedError, nothing revealed) when: the request is for another round or site; a site
 * is listed both as survivor and dropped, or was not a sharer; we are not a survivor; fewer than
 * max(t, minSurvivors) survive (the noise floor of distributed DP); a peer would get the other kind of share than one we already revealed for it (the
 * both-shares attack); or revealing a survivor's seed would isolate its input.
 */
export function planUnmask(
  config: SecAggConfig,
  graph: ReadonlyMap<number, readonly number[]>,
  state: SiteState,
  request: UnmaskRequest,
): { response: UnmaskResponse; revealed: Record<number, 'key' | 'seed'> } {
  const refuse = (why: string): never => {
    throw new UnmaskRefusedError(`site ${state.siteId} refuses to unmask: ${why}`);
  };
  if (request.roundId !== config.roundId) refuse(`request is for round '${request.roundId}'`);
  if (request.to !== state.siteId) refuse(`request is addressed to site ${request.to}`);
  const survivors = new Set(request.survivors);
  const dropped = new Set(request.dropped);
  if (survivors.size !== request.survivors.length || dropped.size !== request.dropped.length)
    refuse('duplicate ids');
  for (const id of dropped)
    if (survivors.has(id)) refuse(`site ${id} is listed as both survivor and dropped`);
  if (!survivors.has(state.siteId)) refuse('we are not listed as a survivor');
  const floor = survivorFloor(config);
  if (survivors.size < floor) refuse(`only ${survivors.size} survivors, threshold ${floor}`);
  const revealed: Record<number, 'key' | 'seed'> = { ...state.revealed };
  const keyShares: RevealedShare[] = [];
  const seedShares: RevealedShare[] = [];
  for (const [peerKey, held] of Object.entries(state.held)) {
    const peer = Number(peerKey);
    const kind = survivors.has(peer) ? 'seed' : dropped.has(peer) ? 'key' : undefined;
    if (!kind) refuse(`neighbour ${peer} is neither survivor nor dropped`);
    if (revealed[peer] && revealed[peer] !== kind) {
      refuse(
        `the ${revealed[peer]} share of site ${peer} was already revealed; both kinds never leave a site`,
      );
    }
    if (kind === 'seed' && wouldIsolate(peer, graph, survivors))
      refuse(`revealing site ${peer}'s seed would isolate it`);
    revealed[peer] = kind as 'key' | 'seed';
    const list = kind === 'seed' ? seedShares : keyShares;
    list.push({ of: peer, x: held.x, share: kind === 'seed' ? held.seedShare : held.keyShare });
  }
  return { response: { roundId: config.roundId, from: state.siteId, keyShares, seedShares }, revealed };
}
