import { encodeAnnouncement, WIRE_STAGE } from '@fedistill/protocol';
import { type NodeEvent, RoundOutcome } from '@fedistill/wire';
import type { NodeEventHub } from '../domain/node-event-hub';
import type { RoundEngine } from '../rounds/round-engine';
import type { RoundEvent } from '../rounds/round-events';

/**
 * The round engine's domain events as the sites' event stream carries them: the announcement
 * through libs/protocol's encodeAnnouncement (the codec the node decodes with), a stage opened,
 * a round finished. The one place round events become wire messages.
 */
export function nodeEventOf(event: RoundEvent): NodeEvent['event'] {
  const round = { federationId: event.plan.federationId, round: event.plan.round };
  switch (event.kind) {
    case 'RoundAnnounced':
      return { $case: 'roundAnnounced', value: encodeAnnouncement(event.plan, event.federation) };
    case 'StageClosed':
      return {
        $case: 'stageOpened',
        value: { round, stage: WIRE_STAGE[event.next], deadlineUnixMs: event.plan.deadlines[event.next] },
      };
    case 'RoundCompleted':
    case 'RoundAbandoned':
      return {
        $case: 'roundFinished',
        value: {
          round,
          outcome:
            event.kind === 'RoundCompleted'
              ? RoundOutcome.ROUND_OUTCOME_COMPLETED
              : RoundOutcome.ROUND_OUTCOME_ABANDONED,
          detail: event.detail,
        },
      };
  }
}

/** Pushes every event of `engine` to the open streams of the round's participants. */
export function relayRoundEvents(engine: Pick<RoundEngine, 'onEvent'>, hub: NodeEventHub): void {
  engine.onEvent((event) => {
    const message = nodeEventOf(event);
    for (const p of event.plan.participants) hub.push(p.siteName, message);
  });
}
