/** The persistent state of one site in one round (plain data; the site may store and resume it). */

/**
 * Explicit protocol stages of a site (Bonawitz et al. CCS 2017, Fig. 4, client side):
 * created -> advertised (round 0) -> shared (round 1) -> masked (round 2) -> consistent (round 3,
 * the survivor set signed) -> unmasked (round 4).
 */
export type SiteStage = 'created' | 'advertised' | 'shared' | 'masked' | 'consistent' | 'unmasked';

/** A verified neighbour's round public keys. */
export interface PeerKeys {
  readonly sealPublicKey: Uint8Array;
  readonly maskPublicKey: Uint8Array;
}

/** The shares a site holds of one neighbour's secrets. */
export interface HeldShare {
  readonly x: number;
  readonly keyShare: Uint8Array;
  readonly seedShare: Uint8Array;
}

/** Everything a site must remember between stages. Contains secrets: store it encrypted at rest. */
export interface SiteState {
  readonly stage: SiteStage;
  readonly siteId: number;
  /** X25519 secret for nacl.box sealing (32 bytes). */
  readonly sealSecret: Uint8Array;
  /** X25519 secret for pairwise mask agreement (32 bytes); Shamir-shared to neighbours. */
  readonly maskSecret: Uint8Array;
  /** Self-mask seed b_u (32 bytes); Shamir-shared to neighbours. */
  readonly seed: Uint8Array;
  /** Verified round keys of the neighbours present in the roster, by site id. */
  readonly peers: Readonly<Record<number, PeerKeys>>;
  /** Opened shares, by sender id. */
  readonly held: Readonly<Record<number, HeldShare>>;
  /** Neighbours whose pairwise masks went into our masked input (N(u) ∩ U2), sorted. */
  readonly maskedWith: readonly number[];
  /** Seed of the neighbour graph, hashed from the roster we verified (graph-seed.ts); null before. */
  readonly graphSeed: Uint8Array | null;
  /** Sites of the roster we verified (U1), sorted. */
  readonly advertised: readonly number[];
  /** The sharer set U2 the coordinator told us and we masked against, sorted. */
  readonly sharers: readonly number[];
  /** The survivor set U3 we signed in the consistency round (we sign one set only); null before. */
  readonly signedSurvivors: readonly number[] | null;
  /** For each peer, which of its share kinds we already revealed; never both (CCS 2017, §4). */
  readonly revealed: Readonly<Record<number, 'key' | 'seed'>>;
}
