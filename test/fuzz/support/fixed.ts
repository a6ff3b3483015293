import nacl from 'tweetnacl';
import type { SiteKeys } from '@fedistill/identity';
import { Rng } from './rng';

/**
 * Valid inputs built the same way on every run, so that a case seed names the same input
 * everywhere: keys and filler bytes from a fixed seed instead of the system's randomness.
 */
export function fixedBytes(n: number, seed: number): Buffer {
  return Buffer.from(new Rng(seed).bytes(n));
}

/** Site keys derived from `seed` (Ed25519 and X25519 from 32 fixed bytes each). */
export function fixedKeys(seed: number): SiteKeys {
  const signing = nacl.sign.keyPair.fromSeed(fixedBytes(32, seed));
  const box = nacl.box.keyPair.fromSecretKey(fixedBytes(32, seed + 1));
  return {
    signingPublicKey: signing.publicKey,
    signingSecretKey: signing.secretKey,
    boxPublicKey: box.publicKey,
    boxSecretKey: box.secretKey,
  };
}
