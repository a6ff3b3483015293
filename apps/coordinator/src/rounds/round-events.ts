import type { FederationSpec, RoundPlan, StageName } from '@fedistill/protocol';
import type { Decline } from './live-round';

/**
 * Who took part, as a round ended: the sites whose masked input arrived (each has charged its
 * ledger for the release) and the sites that declined, with their reasons. The other
 * participants dropped out.
 */
export interface RoundEnding {
  readonly contributors: readonly string[];
  readonly declines: readonly Decline[];
}

/**
 * What the round engine tells the world, in domain terms. The engine never builds wire
 * messages: grpc/round-event-relay.ts turns these into NodeEvents for the sites' streams, and
 * the student publisher listens for RoundCompleted.
 */
export type RoundEvent =
  /** A round was opened (or is announced again to a site that reconnected): its terms. */
  | { readonly kind: 'RoundAnnounced'; readonly plan: RoundPlan; readonly federation: FederationSpec }
  /** A stage closed (deadline or everyone answered) and `next` is now open. */
  | {
      readonly kind: 'StageClosed';
      readonly plan: RoundPlan;
      readonly closed: StageName;
      readonly next: StageName;
      readonly why: string;
    }
  /** The sum was unmasked. */
  | ({ readonly kind: 'RoundCompleted'; readonly plan: RoundPlan; readonly detail: string } & RoundEnding)
  /** The round ended without revealing anything. */
  | ({ readonly kind: 'RoundAbandoned'; readonly plan: RoundPlan; readonly detail: string } & RoundEnding);

/** The announcement of a round, to its participants. */
export type RoundAnnounced = Extract<RoundEvent, { kind: 'RoundAnnounced' }>;

export type RoundEventListener = (event: RoundEvent) => void;
