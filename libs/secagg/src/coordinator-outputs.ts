/**
 * What each closed stage of the coordinator publishes to the sites, as pure functions of the
 * coordinator's state once that stage closed: the roster (after 'keys'), one share delivery per
 * sharer (after 'shares'), one survivor set per survivor (after 'inputs') and one unmask request
 * per signer (after 'consistency'). Nothing in them is chosen when they are built, so a persisted
 * round needs only its state: the outputs are rebuilt on resume (`publishedOutputs`) instead of
 * being stored, which kept every site's message O(n^2) bytes to persist (the unmask requests
 * alone carry every signature once per signer).
 */
import type { SecAggConfig } from './config';
import type { CoordinatorStage, CoordinatorState } from './coordinator-state';
import type { KeyRoster, SealedShare, ShareDelivery, SurvivorSet, UnmaskRequest } from './messages';

/** Sites that shared keys but sent no masked input (U2 \ U3). */
export function droppedOf(state: CoordinatorState): number[] {
  const inputs = new Set(state.inputs);
  return state.sharers.filter((s) => !inputs.has(s));
}

export function rosterOf(config: SecAggConfig, state: CoordinatorState): KeyRoster {
  return { roundId: config.roundId, adverts: state.adverts };
}

/** One delivery per sharer (`state.sharers`, sorted when the share stage closed). */
export function deliveriesOf(config: SecAggConfig, state: CoordinatorState): ShareDelivery[] {
  const sharers = state.sharers;
  // Grouped in one pass: filtering all n*k shares once per recipient is O(n^2 k).
  const byRecipient = new Map<number, SealedShare[]>(sharers.map((to) => [to, []]));
  for (const share of state.shares) byRecipient.get(share.to)?.push(share);
  return sharers.map((to) => ({
    roundId: config.roundId,
    to,
    sharers,
    shares: byRecipient.get(to) as SealedShare[],
  }));
}

/** One survivor set per survivor (`state.inputs`, sorted when the input stage closed). */
export function survivorSetsOf(config: SecAggConfig, state: CoordinatorState): SurvivorSet[] {
  const survivors = state.inputs;
  const dropped = droppedOf(state);
  return survivors.map((to) => ({ roundId: config.roundId, to, survivors, dropped }));
}

/** One unmask request per survivor that signed, all sharing the same lists (O(n) memory). */
export function unmaskRequestsOf(config: SecAggConfig, state: CoordinatorState): UnmaskRequest[] {
  const base = {
    roundId: config.roundId,
    survivors: state.inputs,
    dropped: droppedOf(state),
    signatures: state.signatures,
    sharerSignatures: state.sharerSignatures,
  };
  return state.signatures.map((x) => ({ ...base, to: x.siteId }));
}

/** What the stages closed so far published; a field is null where its stage has not closed. */
export interface PublishedOutputs {
  readonly roster: KeyRoster | null;
  readonly deliveries: ShareDelivery[] | null;
  readonly survivorSets: SurvivorSet[] | null;
  readonly unmaskRequests: UnmaskRequest[] | null;
}

// How many stages had closed when the round is at a stage. A finished round published nothing it
// can still be asked for (a site asking is told the round ended): its shares are gone
// (SecAggCoordinator keeps none once a round ended).
const CLOSED: Record<CoordinatorStage, number> = {
  keys: 0,
  shares: 1,
  inputs: 2,
  consistency: 3,
  unmask: 4,
  done: 0,
  abandoned: 0,
};

/** Rebuilds what the closed stages published from the state (a resumed or restored round). */
export function publishedOutputs(config: SecAggConfig, state: CoordinatorState): PublishedOutputs {
  const closed = CLOSED[state.stage];
  return {
    roster: closed >= 1 ? rosterOf(config, state) : null,
    deliveries: closed >= 2 ? deliveriesOf(config, state) : null,
    survivorSets: closed >= 3 ? survivorSetsOf(config, state) : null,
    unmaskRequests: closed >= 4 ? unmaskRequestsOf(config, state) : null,
  };
}
