/**
 * @fedistill/protocol: the one codec of a round's terms, shared by the coordinator, the node
 * and the simulator: the federation definition and its parser, the round plan, the
 * announcement to and from the wire, the wire <-> secure-aggregation message mappers, the
 * release a site recomputes from an announcement and the checks it makes of it, the one
 * derivation of the SecAggConfig and of the noise split, and the one composition of a
 * federation's epsilon.
 */
export { zodDuration, zodOptionalDuration } from './zod-duration';
export { federationSpecSchema, parseFederationSpec, type FederationSpec } from './federation-spec';
export { featuresSpecSchema, type FeaturesSpec } from './features-spec';
export { classSumFeatureCount, evaluationRoundCap, plannedQueries } from './round-policy';
export { type FederationView } from './federation-view';
export {
  releasePlanOf,
  planRound,
  planEvaluationRound,
  type StageName,
  type Participant,
  type DistillRoundPlan,
  type EvaluationRoundPlan,
  type RoundPlan,
  type QuerySelection,
} from './round-plan';
export { secaggRoundId } from './round-id';
export { secaggConfigOf, vectorLength, type SecAggTerms } from './secagg-config';
export { noiseSplitOf, mostColluders, siteNoiseStddev, type NoiseSplit } from './noise-split';
export { epsilonCapRefusal, federationEpsilon, type FederationEpsilon } from './federation-epsilon';
export { priceRound, type LedgerQuote, type RoundPrice } from './round-price';
export {
  federationSiteCost,
  type SiteCost,
  type SiteCostOptions,
  type SiteCostRound,
} from './federation-site-cost';
export {
  effectiveNoiseMultiplier,
  noiseMultiplierFor,
  planNoise,
  worstEpsilon,
  NOISE_MULTIPLIER_RANGE,
  type NoisePlan,
} from './noise-plan';
export { noiseAgainstSignal, type NoiseAgainstSignal } from './noise-signal';
export { WireFieldError } from './wire-field-error';
export { WIRE_STAGE, encodeAnnouncement, decodeAnnouncement, type Announcement } from './announcement';
export {
  TermsRefusedError,
  releaseFromTerms,
  evaluationFromTerms,
  classSumsFromTerms,
  type SiteTerms,
} from './announcement-checks';
export {
  type RoundName,
  type WireMaskedInput,
  roundFromWire,
  advertToWire,
  advertFromWire,
  shareToWire,
  shareFromWire,
  deliveryToWire,
  deliveryFromWire,
  maskedInputToWire,
  maskedInputFromWire,
  survivorSetToWire,
  survivorSetFromWire,
  survivorSignatureFromWire,
  unmaskRequestToWire,
  unmaskRequestFromWire,
  unmaskResponseToWire,
  unmaskResponseFromWire,
} from './secagg-wire';
