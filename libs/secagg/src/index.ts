/**
 * @fedistill/secagg: SecAgg+-style secure aggregation (Bonawitz et al., CCS 2017; Bell et al.,
 * CCS 2020) as pure state machines for the site and the coordinator, with plain-data messages.
 */
export {
  type SecAggConfig,
  validateConfig,
  neighbourGraph,
  shareX,
  MAX_SITES,
  MAX_NEIGHBOURS,
  encodeSigned,
  decodeSigned,
  ringBits,
  survivorFloor,
} from './config';
export { rosterGraphSeed } from './graph-seed';
export { consistencyQuorum, sharersBytes, survivorsBytes } from './consistency';
export { SecAggSite, type SecAggSiteOptions } from './site';
export type { SiteStage, SiteState, PeerKeys, HeldShare } from './site-state';
export { SecAggCoordinator, type SecAggCoordinatorOptions, type SecAggOutcome } from './coordinator';
export type { PublishedOutputs } from './coordinator-outputs';
export { type CoordinatorStage, type CoordinatorState, initialCoordinatorState } from './coordinator-state';
export type {
  KeyAdvertisement,
  KeyRoster,
  SealedShare,
  ShareDelivery,
  MaskedInput,
  SurvivorSet,
  SurvivorSignature,
  SiteSignature,
  UnmaskRequest,
  UnmaskResponse,
  RevealedShare,
} from './messages';
export {
  SecAggError,
  ForgedKeyError,
  ShareRejectedError,
  UnmaskRefusedError,
  StageError,
  InsufficientSitesError,
} from './errors';
export { type RandomSource, cryptoRandom, seededRandom } from './random';
export { encodeState, decodeState } from './serialize';
export {
  applyMask,
  applyMasks,
  deriveMaskKey,
  enableHeapRetention,
  expandMask,
  expandMaskInto,
  type MaskStream,
} from './prg';
export { shamirSplit, shamirCombine, type Share } from './shamir';
export { signAdvert, verifyAdvert } from './envelope';
export { type SignatureChecks, directSignatureChecks, sharedSignatureChecks } from './signature-checks';
export {
  simulateRound,
  makeIdentities,
  type DropStage,
  type SimulatedRound,
  type SimulateOptions,
  type IdentityKeyPair,
} from './simulate';
export { packedBytes, packWords, unpackWords } from './packing';
