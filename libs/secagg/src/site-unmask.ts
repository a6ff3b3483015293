/**
 * The site's decisions in the last two rounds (Bonawitz et al. CCS 2017, Fig. 4, rounds 3 and 4):
 * whether to sign a survivor set, and which shares to reveal, with the checks that refuse a
 * request that would leak an input.
 */
import { type SecAggConfig, survivorFloor } from './config';
import { sharersBytes, survivorsBytes, verifiedSigners } from './consistency';
import { UnmaskRefusedError } from './errors';
import { wouldIsolate } from './masks';
import type { RevealedShare, SurvivorSet, UnmaskRequest, UnmaskResponse } from './messages';
import type { SiteState } from './site-state';
import type { SignatureChecks } from './signature-checks';

const sorted = (ids: Iterable<number>): number[] => [...ids].sort((a, b) => a - b);

function refuser(state: SiteState): (why: string) => never {
  return (why: string): never => {
    throw new UnmaskRefusedError(`site ${state.siteId} refuses to unmask: ${why}`);
  };
}

/**
 * Checks a survivor set (round 3) against what the site knows and returns the survivors sorted.
 * Refuses (UnmaskRefusedError) when: it is for another round or site; an id repeats or is in
 * both lists; survivors and dropped together are not exactly the sharer set U2 we masked
 * against (no invented ids, nobody left out: padding with invented ids would defeat the
 * survivor floor); we are not a survivor; fewer than max(t, minSurvivors) or than the
 * consistency quorum survive; or we already signed a different set.
 */
export function checkSurvivorSet(
  config: SecAggConfig,
  state: SiteState,
  set: Pick<SurvivorSet, 'roundId' | 'to' | 'survivors' | 'dropped'>,
  quorum: number,
): number[] {
  const refuse = refuser(state);
  if (set.roundId !== config.roundId) refuse(`request is for round '${set.roundId}'`);
  if (set.to !== state.siteId) refuse(`request is addressed to site ${set.to}`);
  const survivors = new Set(set.survivors);
  const dropped = new Set(set.dropped);
  if (survivors.size !== set.survivors.length || dropped.size !== set.dropped.length) refuse('duplicate ids');
  for (const id of dropped)
    if (survivors.has(id)) refuse(`site ${id} is listed as both survivor and dropped`);
  const u2 = new Set(state.sharers);
  const outside = sorted([...survivors, ...dropped].filter((id) => !u2.has(id)));
  if (outside.length > 0) refuse(`sites ${outside.join(', ')} are not in the sharer set we masked against`);
  const missing = state.sharers.filter((id) => !survivors.has(id) && !dropped.has(id));
  if (missing.length > 0) refuse(`sharers ${missing.join(', ')} are neither survivor nor dropped`);
  if (!survivors.has(state.siteId)) refuse('we are not listed as a survivor');
  const floor = survivorFloor(config);
  if (survivors.size < floor) refuse(`only ${survivors.size} survivors, threshold ${floor}`);
  if (survivors.size < quorum)
    refuse(`only ${survivors.size} survivors, fewer than the ${quorum} signatures a reveal needs`);
  const mine = sorted(survivors);
  const signed = state.signedSurvivors;
  if (signed && (signed.length !== mine.length || signed.some((id, i) => id !== mine[i])))
    refuse(`we already signed another survivor set (${signed.join(', ')}); a site signs one set per round`);
  return mine;
}

/** What `planUnmask` needs besides the state: the round, its graph, identity keys, quorum. */
export interface UnmaskContext {
  readonly config: SecAggConfig;
  readonly graph: ReadonlyMap<number, readonly number[]>;
  readonly identityKeys: ReadonlyMap<number, Uint8Array>;
  /** Consistency signatures needed (consistencyQuorum). */
  readonly quorum: number;
  /** How signatures are checked (default: each verified fresh). */
  readonly checks?: SignatureChecks;
}

/**
 * Checks `request` and returns the response and the updated record of revealed kinds. Refuses
 * (UnmaskRefusedError, nothing revealed) when: the survivor set is not the one we signed
 * (`checkSurvivorSet`, plus: we signed none); fewer than `quorum` distinct survivors signed it
 * validly, or any listed signature fails; a survivor whose seed we would reveal did not sign
 * the sharer set U2 we masked against (it may have been told another U2, and masked with fewer
 * pairwise masks than the others think); a peer would get the other kind of share than one we
 * already revealed for it (the both-shares attack); or revealing a survivor's seed would
 * isolate its input.
 */
export function planUnmask(
  ctx: UnmaskContext,
  state: SiteState,
  request: UnmaskRequest,
): { response: UnmaskResponse; revealed: Record<number, 'key' | 'seed'> } {
  const { config, graph, identityKeys, quorum } = ctx;
  const refuse = refuser(state);
  if (!state.signedSurvivors) refuse('we have not signed a survivor set');
  const survivorList = checkSurvivorSet(config, state, request, quorum);
  const survivors = new Set(survivorList);
  const dropped = new Set(request.dropped);
  const seed = state.graphSeed as Uint8Array;
  // Verification is the costly part of this step (an Ed25519 check each): a quorum of valid
  // signatures is what makes the set unique, so checking stops there.
  const consistency = verifiedSigners(
    request.signatures,
    survivorsBytes(config.roundId, seed, survivorList, sorted(dropped)),
    identityKeys,
    survivors,
    quorum,
    ctx.checks,
  );
  if (consistency.bad.length > 0)
    refuse(`survivor-set signatures of sites ${consistency.bad.join(', ')} do not verify`);
  if (consistency.good.size < quorum)
    refuse(`only ${consistency.good.size} survivors signed the survivor set; ${quorum} must`);
  // Only the surviving neighbours whose seed shares we hold need to have signed our U2.
  const heldSurvivors = new Set(
    Object.keys(state.held)
      .map(Number)
      .filter((v) => survivors.has(v)),
  );
  const attested = verifiedSigners(
    request.sharerSignatures.filter((x) => heldSurvivors.has(x.siteId)),
    sharersBytes(config.roundId, seed, state.sharers),
    identityKeys,
    heldSurvivors,
    Infinity,
    ctx.checks,
  ).good;
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
    if (kind === 'seed' && !attested.has(peer))
      refuse(`survivor ${peer} did not sign the sharer set we masked against`);
    if (kind === 'seed' && wouldIsolate(peer, graph, survivors))
      refuse(`revealing site ${peer}'s seed would isolate it`);
    revealed[peer] = kind as 'key' | 'seed';
    const list = kind === 'seed' ? seedShares : keyShares;
    list.push({ of: peer, x: held.x, share: kind === 'seed' ? held.seedShare : held.keyShare });
  }
  return { response: { roundId: config.roundId, from: state.siteId, keyShares, seedShares }, revealed };
}
