/**
 * Size limits of the v1 wire contract, one entry per message and field (ts-proto's camelCase
 * names). The `Limit:` comments in proto/ are the contract; `limits.spec.ts` parses them and
 * fails when this table and the .proto files disagree, so the two cannot drift apart.
 */
export type FieldLimit =
  /** A bytes field: at most `max` bytes, or exactly `max` when `exact` (an empty field fails too). */
  | { readonly kind: 'bytes'; readonly max: number; readonly exact?: boolean }
  /** A string field: at most `max` bytes of UTF-8. */
  | { readonly kind: 'string'; readonly max: number }
  /** A repeated field: at most `max` items; `of` names the item message type to check in turn. */
  | { readonly kind: 'repeated'; readonly max: number; readonly of?: string; readonly itemMaxBytes?: number }
  /** A singular embedded message, checked against its own entry. */
  | { readonly kind: 'message'; readonly type: string };

export type MessageLimits = Readonly<Record<string, FieldLimit>>;

/** The largest message the coordinator accepts at all (bytes), before any field check. */
export const MAX_WIRE_MESSAGE_BYTES = 16 * 1024 * 1024;

const b = (max: number): FieldLimit => ({ kind: 'bytes', max });
const exact = (n: number): FieldLimit => ({ kind: 'bytes', max: n, exact: true });
const s = (max: number): FieldLimit => ({ kind: 'string', max });
const r = (max: number, of?: string, itemMaxBytes?: number): FieldLimit => ({
  kind: 'repeated',
  max,
  ...(of ? { of } : {}),
  ...(itemMaxBytes ? { itemMaxBytes } : {}),
});
const m = (type: string): FieldLimit => ({ kind: 'message', type });
const roundOnly: MessageLimits = { round: m('RoundRef') };

export const WIRE_LIMITS: Readonly<Record<string, MessageLimits>> = {
  EnrollRequest: {
    token: s(128),
    siteName: s(63),
    signingPublicKey: exact(32),
    boxPublicKey: exact(32),
    proof: exact(64),
  },
  EnrollResponse: { siteName: s(63), coordinatorSigningPublicKey: exact(32) },
  HeartbeatRequest: { nodeVersion: s(64), activeRounds: r(64, 'RoundRef') },
  HeartbeatResponse: {},
  SubscribeRequest: {},
  GetFederationRequest: { federationId: s(64) },
  FederationInfo: {
    federationId: s(64),
    specJson: s(65536),
    referenceSha256: exact(32),
    members: r(1000, undefined, 63),
    memberKeys: r(1000, 'FederationMember'),
  },
  FederationMember: { siteName: s(63), signingPublicKey: exact(32) },
  Welcome: { siteName: s(63), federationIds: r(64, undefined, 64) },
  StageOpened: roundOnly,
  RoundFinished: { round: m('RoundRef'), detail: s(512) },
  StudentPublished: { federationId: s(64), sha256: exact(32) },
  SiteRevoked: { reason: s(512) },
  RoundRef: { federationId: s(64) },
  RoundAnnouncement: {
    round: m('RoundRef'),
    queryIndices: r(100000),
    referenceSha256: exact(32),
    participants: r(255, 'RoundParticipant'),
    deadlines: r(8),
  },
  RoundParticipant: { siteName: s(63), signingPublicKey: exact(32) },
  RoundKeys: { maskPublicKey: exact(32), sealPublicKey: exact(32), signature: exact(64) },
  AdvertiseKeysRequest: { round: m('RoundRef'), keys: m('RoundKeys') },
  GetRoundKeysRequest: roundOnly,
  GetRoundKeysResponse: { keys: r(1000, 'RoundKeys') },
  SealedShare: { nonce: exact(24), ciphertext: b(1024) },
  SendSharesRequest: { round: m('RoundRef'), shares: r(1000, 'SealedShare') },
  FetchSharesRequest: roundOnly,
  FetchSharesResponse: { shares: r(1000, 'SealedShare'), sharers: r(255) },
  SubmitMaskedSummaryRequest: { round: m('RoundRef'), maskedVector: b(8388608), sharersSignature: exact(64) },
  SubmitMaskedSummaryResponse: { receiptSha256: exact(32) },
  GetUnmaskRequestRequest: roundOnly,
  GetSurvivorSetRequest: roundOnly,
  GetSurvivorSetResponse: { survivors: r(255), dropped: r(255) },
  SubmitSurvivorSignatureRequest: { round: m('RoundRef'), signature: exact(64) },
  SiteSignature: { signature: exact(64) },
  GetUnmaskRequestResponse: {
    survivors: r(255),
    dropped: r(255),
    survivorSignatures: r(255, 'SiteSignature'),
    sharerSignatures: r(255, 'SiteSignature'),
  },
  UnmaskShare: { share: b(256) },
  SubmitUnmaskSharesRequest: { round: m('RoundRef'), shares: r(1000, 'UnmaskShare') },
  DeclineRoundRequest: { round: m('RoundRef'), detail: s(512) },
  GetReleasedTargetsRequest: { federationId: s(64) },
  GetReleasedTargetsResponse: { rows: r(100000), probs: b(1048576), rounds: r(10000) },
  GetManifestRequest: { federationId: s(64) },
  ArtifactManifest: { sha256: exact(32), chunkSha256: r(65536, undefined, 32), modelCardJson: s(65536) },
  GetChunkRequest: { sha256: exact(32) },
  Chunk: { data: b(1048576) },
  SignedLogHead: { signer: s(63), entrySha256: exact(32), signature: exact(64) },
  AnchorLogHeadRequest: { siteHead: m('SignedLogHead') },
  AnchorLogHeadResponse: { coordinatorHead: m('SignedLogHead') },
};
