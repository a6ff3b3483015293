/**
 * How a party checks Ed25519 signatures: directly (a deployment, one site per process), or
 * through a memo shared by many simulated parties in one process.
 *
 * Why a memo: every site verifies every advertisement of the roster (n checks) and a quorum of
 * more than n/2 consistency signatures, O(n) per site and fine on a site's own machine. A process
 * that simulates all n sites (the load benchmark's 10,000) would repeat the same n^2 Ed25519
 * verifications, hours of CPU. The memo changes nothing a site checks: each site still asks
 * about every advert and every signature, and gets the answer of a real verification of exactly
 * those bytes; identical (public key, message, signature) triples are verified once per process.
 */
import { createHash } from 'node:crypto';
import { bytesEqual } from './bytes';
import { ed25519Verify } from './curve';
import { verifyAdvert } from './envelope';
import type { KeyAdvertisement } from './messages';

/** The signature checks a site makes. */
export interface SignatureChecks {
  /** Whether `advert` is signed by `identityKey` for `roundId` (`verifyAdvert`). */
  advert(advert: KeyAdvertisement, roundId: string, identityKey: Uint8Array): boolean;
  /** A checker of signatures over `message` (verified fresh for each call to `over`). */
  over(message: Uint8Array): (signature: Uint8Array, publicKey: Uint8Array) => boolean;
}

/** Every check is a fresh Ed25519 verification (the default). */
export const directSignatureChecks: SignatureChecks = {
  advert: verifyAdvert,
  over: (message) => (signature, publicKey) => ed25519Verify(message, signature, publicKey),
};

interface AdvertSeen {
  readonly roundId: string;
  readonly siteId: number;
  readonly seal: Uint8Array;
  readonly mask: Uint8Array;
  readonly signature: Uint8Array;
  readonly identityKey: Uint8Array;
  readonly ok: boolean;
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

/**
 * A memo for many simulated parties in one process (the simulator and the load benchmark; never
 * a deployment, where a process hosts one site). An advert's answer is reused only when every
 * byte that verification reads (round id, site id, both keys, signature, identity key) equals the
 * bytes verified before (copies are kept, so a later change to an array is noticed); a signature
 * over a message, only for the same SHA-256 of the message, public key and signature. Holds
 * about three entries per site of the round: make one per round.
 */
export function sharedSignatureChecks(): SignatureChecks {
  const adverts = new WeakMap<KeyAdvertisement, AdvertSeen>();
  const signatures = new Map<string, boolean>();
  return {
    advert(advert, roundId, identityKey) {
      const seen = adverts.get(advert);
      if (
        seen &&
        seen.roundId === advert.roundId &&
        seen.roundId === roundId &&
        seen.siteId === advert.siteId &&
        bytesEqual(seen.seal, advert.sealPublicKey) &&
        bytesEqual(seen.mask, advert.maskPublicKey) &&
        bytesEqual(seen.signature, advert.signature) &&
        bytesEqual(seen.identityKey, identityKey)
      )
        return seen.ok;
      const ok = verifyAdvert(advert, roundId, identityKey);
      adverts.set(advert, {
        roundId,
        siteId: advert.siteId,
        seal: advert.sealPublicKey.slice(),
        mask: advert.maskPublicKey.slice(),
        signature: advert.signature.slice(),
        identityKey: identityKey.slice(),
        ok,
      });
      return ok;
    },
    over(message) {
      const digest = createHash('sha256').update(message).digest().toString('latin1');
      return (signature, publicKey) => {
        // Fixed lengths keep the memo key unambiguous; anything else fails verification anyway.
        if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
        if (signature.length !== 64 || publicKey.length !== 32) return false;
        const key = digest + latin1(publicKey) + latin1(signature);
        let ok = signatures.get(key);
        if (ok === undefined) {
          ok = ed25519Verify(message, signature, publicKey);
          signatures.set(key, ok);
        }
        return ok;
      };
    },
  };
}
