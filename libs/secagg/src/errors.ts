/**
 * Domain errors of the secure-aggregation protocol. Misuse (a wrong argument type or range)
 * throws `TypeError`/`RangeError` instead; these mark a protocol failure that the round engine
 * must handle (log, abandon the round, never retry blindly).
 */

/** Base class of every secure-aggregation protocol failure. */
export class SecAggError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A signed round key did not verify against the sender's identity key, or named the wrong round or site. */
export class ForgedKeyError extends SecAggError {}

/** A sealed share failed to open, or its bound round id, sender or recipient does not match. */
export class ShareRejectedError extends SecAggError {}

/**
 * The coordinator asked for something that would reveal more than the protocol allows,
 * e.g. both the key share and the self-mask share of one peer (Bonawitz et al., CCS 2017, §4).
 */
export class UnmaskRefusedError extends SecAggError {}

/** A message arrived in a stage that does not accept it, or twice, or from a site outside the round. */
export class StageError extends SecAggError {}

/** Too few sites (or neighbours) remain for the threshold; the round cannot complete safely. */
export class InsufficientSitesError extends SecAggError {}
