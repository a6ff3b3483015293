/**
 * The messages that travel between sites and the coordinator. They are plain data (numbers,
 * strings, Uint8Array, Uint32Array) so any transport can carry them opaquely. Every message
 * names its round and its sender (and recipient where there is one); the ones that matter for
 * security bind those names cryptographically (signature or sealed plaintext), so a re-routed or
 * replayed message is detected by the party that opens it.
 */

/** Stage 1, site -> coordinator -> all: the site's two round public keys, signed by its identity key. */
export interface KeyAdvertisement {
  readonly roundId: string;
  readonly siteId: number;
  /** X25519 public key for sealing shares with nacl.box (32 bytes). */
  readonly sealPublicKey: Uint8Array;
  /** X25519 public key for the pairwise mask agreement (32 bytes). */
  readonly maskPublicKey: Uint8Array;
  /** Ed25519 signature (64 bytes) over the domain-separated round id, site id and both keys. */
  readonly signature: Uint8Array;
}

/** Stage 1 result, coordinator -> sites: the advertisements it accepted (the set U1). */
export interface KeyRoster {
  readonly roundId: string;
  readonly adverts: readonly KeyAdvertisement[];
}

/**
 * Stage 2, site -> coordinator -> recipient: one Shamir share of the sender's mask secret key and
 * one of its self-mask seed, sealed with nacl.box for the recipient. The plaintext repeats the
 * round id, sender and recipient, which the recipient checks against this envelope.
 */
export interface SealedShare {
  readonly roundId: string;
  readonly from: number;
  readonly to: number;
  /** nacl.box nonce (24 bytes). */
  readonly nonce: Uint8Array;
  /** nacl.box ciphertext of the bound plaintext (see share-envelope.ts). */
  readonly ciphertext: Uint8Array;
}

/** Stage 2 result, coordinator -> one site: the sites that shared (U2) and the shares addressed to it. */
export interface ShareDelivery {
  readonly roundId: string;
  readonly to: number;
  /** Ids of all sites whose shares the coordinator accepted (U2), sorted. */
  readonly sharers: readonly number[];
  readonly shares: readonly SealedShare[];
}

/** Stage 3, site -> coordinator: the masked input vector, entries in Z_{2^bits}. */
export interface MaskedInput {
  readonly roundId: string;
  readonly from: number;
  readonly vector: Uint32Array;
  /**
   * Ed25519 signature (64 bytes) of the sender over the sharer set U2 it masked against
   * (`sharersBytes` in consistency.ts); helpers check it before revealing the sender's seed.
   */
  readonly sharersSignature: Uint8Array;
}

/** A site's Ed25519 signature (64 bytes) over one of the sets of consistency.ts. */
export interface SiteSignature {
  readonly siteId: number;
  readonly signature: Uint8Array;
}

/**
 * Stage 3b (consistency check, Bonawitz et al. CCS 2017, Fig. 4, round 3), coordinator -> one
 * survivor: who survived (sent a masked input, U3) and who dropped (U2 \ U3), to be signed.
 */
export interface SurvivorSet {
  readonly roundId: string;
  readonly to: number;
  readonly survivors: readonly number[];
  readonly dropped: readonly number[];
}

/** Stage 3b, survivor -> coordinator: its signature over (U3, U2 \ U3) (`survivorsBytes`). */
export interface SurvivorSignature {
  readonly roundId: string;
  readonly from: number;
  readonly signature: Uint8Array;
}

/**
 * Stage 4, coordinator -> one site that signed: the survivor set it signed, the consistency
 * signatures the coordinator collected over it, and each survivor's signature over U2.
 */
export interface UnmaskRequest {
  readonly roundId: string;
  readonly to: number;
  readonly survivors: readonly number[];
  readonly dropped: readonly number[];
  /** Signatures over (survivors, dropped) from sites in `survivors`; a quorum is required. */
  readonly signatures: readonly SiteSignature[];
  /** Each survivor's signature over the sharer set U2 (from its masked input). */
  readonly sharerSignatures: readonly SiteSignature[];
}

/** One revealed Shamir share: whose secret (`of`), at which x-coordinate, the bytes. */
export interface RevealedShare {
  readonly of: number;
  readonly x: number;
  readonly share: Uint8Array;
}

/** Stage 4, site -> coordinator: key shares of dropped neighbours, seed shares of surviving ones. */
export interface UnmaskResponse {
  readonly roundId: string;
  readonly from: number;
  readonly keyShares: readonly RevealedShare[];
  readonly seedShares: readonly RevealedShare[];
}
