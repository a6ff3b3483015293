/** The coordinator's persistent state for one round (plain data; see serialize.ts to store it). */
import type { KeyAdvertisement, SealedShare, SiteSignature, UnmaskResponse } from './messages';

/**
 * Explicit stages (Bonawitz et al. CCS 2017, Fig. 4, server side): collect keys (round 0),
 * collect shares (round 1), collect masked inputs (round 2), collect the survivors' signatures
 * over the survivor set (round 3, ConsistencyCheck), collect unmask responses (round 4), then
 * done (the sum is known) or abandoned (nothing was revealed; `reason` says why).
 */
export type CoordinatorStage = 'keys' | 'shares' | 'inputs' | 'consistency' | 'unmask' | 'done' | 'abandoned';

export interface CoordinatorState {
  readonly stage: CoordinatorStage;
  /** Accepted key advertisements (U1), in arrival order. */
  readonly adverts: readonly KeyAdvertisement[];
  /** Seed of the neighbour graph, hashed from the roster when the key stage closes; null before. */
  readonly graphSeed: Uint8Array | null;
  /** Accepted sealed shares, from sites in `sharers`. */
  readonly shares: readonly SealedShare[];
  /** Sites whose shares were accepted (U2), sorted once the stage closes. */
  readonly sharers: readonly number[];
  /** Running sum mod 2^32 of the masked inputs received so far; null before the inputs stage. */
  readonly maskedSum: Uint32Array | null;
  /** Sites whose masked input was accepted (U3). */
  readonly inputs: readonly number[];
  /** Each accepted input's signature over the sharer set U2 (consistency.ts). */
  readonly sharerSignatures: readonly SiteSignature[];
  /** Survivors' signatures over (U3, U2 \ U3), checked on receipt. */
  readonly signatures: readonly SiteSignature[];
  /** Accepted unmask responses (from sites in U3). */
  readonly responses: readonly UnmaskResponse[];
  /** The unmasked sum of the survivors' inputs, entries in [0, 2^bits); set in stage 'done'. */
  readonly result: Uint32Array | null;
  /** Why the round was abandoned; set in stage 'abandoned'. */
  readonly reason: string | null;
}

/** The state of a round that has not started collecting yet. */
export function initialCoordinatorState(): CoordinatorState {
  return {
    stage: 'keys',
    adverts: [],
    graphSeed: null,
    shares: [],
    sharers: [],
    maskedSum: null,
    inputs: [],
    sharerSignatures: [],
    signatures: [],
    responses: [],
    result: null,
    reason: null,
  };
}
