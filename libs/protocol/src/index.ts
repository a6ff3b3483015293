/**
 * @fedistill/protocol: what a federation and a round mean, shared by the coordinator, the
 * node's tests and (later, issue 12) the simulator: the federation definition and its parser,
 * the round plan, and the round announcement built from it.
 */
export { zodDuration, zodOptionalDuration } from './zod-duration';
export { federationSpecSchema, parseFederationSpec, type FederationSpec } from './federation-spec';
export { type FederationView } from './federation-view';
export {
  releasePlanOf,
  secaggRoundId,
  planRound,
  planEvaluationRound,
  type StageName,
  type Participant,
  type DistillRoundPlan,
  type EvaluationRoundPlan,
  type RoundPlan,
} from './round-plan';
export { WIRE_STAGE, announcementEvent } from './round-events';
