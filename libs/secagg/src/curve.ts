/**
 * X25519 and Ed25519 through node:crypto (OpenSSL), with tweetnacl for signing and for the
 * `nacl.box` secretbox construction.
 *
 * Why native: tweetnacl's pure-JS scalar multiplication costs ~3 ms and an Ed25519 verification
 * ~11 ms on the reference 2-core machine, against ~0.25 ms natively; a full-mesh site performs
 * 2(n-1) agreements and n-1 verifications per round, so this dominates at n = 100. The results
 * are bit-identical (RFC 7748 / RFC 8032), which `curve.spec.ts` checks against tweetnacl.
 */
import { createPrivateKey, createPublicKey, diffieHellman, sign, verify, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { concatBytes } from './bytes';

// DER prefixes of the RFC 8410 PKCS#8 encodings of raw 32-byte private keys.
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SIGMA = new TextEncoder().encode('expand 32-byte k');
const ZERO16 = new Uint8Array(16);

// tweetnacl ships `lowlevel` at run time but not in its type declarations.
const lowlevel = (
  nacl as unknown as {
    lowlevel: {
      crypto_core_hsalsa20(out: Uint8Array, inp: Uint8Array, k: Uint8Array, c: Uint8Array): number;
    };
  }
).lowlevel;

// Importing a key costs 0.1-0.6 ms, 3-15x the agreement itself, and a site reuses its two round
// secrets and each peer's keys many times; cache the imported objects per byte array. Arrays are
// treated as immutable once used as keys (the protocol never mutates them).
const privateCache = new WeakMap<Uint8Array, KeyObject>();
const publicCache = new WeakMap<Uint8Array, KeyObject>();

function x25519Private(secret: Uint8Array): KeyObject {
  if (secret.length !== 32) throw new RangeError("'secret' must be 32 bytes");
  let key = privateCache.get(secret);
  if (!key) {
    key = createPrivateKey({
      key: Buffer.from(concatBytes(X25519_PKCS8, secret)),
      format: 'der',
      type: 'pkcs8',
    });
    privateCache.set(secret, key);
  }
  return key;
}

// Public keys are imported as JWK (RFC 8037 OKP): node:crypto then builds the key straight from
// the raw 32 bytes, whereas a DER import goes through OpenSSL 3's generic decoder, about 8x
// slower on the reference VM (25 against 210 us per key, measured under load). Same key either way.
function okpPublic(crv: 'X25519' | 'Ed25519', pk: Uint8Array): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv, x: Buffer.from(pk.buffer, pk.byteOffset, pk.length).toString('base64url') },
    format: 'jwk',
  });
}

function x25519Public(pk: Uint8Array): KeyObject {
  if (pk.length !== 32) throw new RangeError("'publicKey' must be 32 bytes");
  let key = publicCache.get(pk);
  if (!key) {
    key = okpPublic('X25519', pk);
    publicCache.set(pk, key);
  }
  return key;
}

/** The X25519 public key (32 bytes) of a 32-byte secret scalar (RFC 7748 §6.1). */
export function x25519PublicKey(secret: Uint8Array): Uint8Array {
  const der = createPublicKey(x25519Private(secret)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** The raw X25519 shared secret (32 bytes) of our secret and a peer's public key (RFC 7748 §6.1). */
export function x25519Agree(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  return new Uint8Array(
    diffieHellman({ privateKey: x25519Private(secret), publicKey: x25519Public(peerPublic) }),
  );
}

/**
 * The `nacl.box` precomputed key: HSalsa20 of the X25519 shared secret, exactly as
 * `nacl.box.before` computes it (NaCl crypto_box_beforenm), with the scalar multiplication done natively.
 */
export function boxSharedKey(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  const shared = x25519Agree(secret, peerPublic);
  const key = new Uint8Array(32);
  lowlevel.crypto_core_hsalsa20(key, ZERO16, shared, SIGMA);
  return key;
}

/**
 * Ed25519 signature (64 bytes, RFC 8032, deterministic, so identical to `nacl.sign.detached`)
 * with a 64-byte tweetnacl secret key (seed || public key); signed natively from the seed.
 */
export function ed25519Sign(message: Uint8Array, identitySecretKey: Uint8Array): Uint8Array {
  if (identitySecretKey.length !== 64) throw new RangeError("'identitySecretKey' must be 64 bytes");
  const key = createPrivateKey({
    key: Buffer.from(concatBytes(ED25519_PKCS8, identitySecretKey.subarray(0, 32))),
    format: 'der',
    type: 'pkcs8',
  });
  return new Uint8Array(sign(null, message, key));
}

const ed25519Cache = new WeakMap<Uint8Array, KeyObject>();

/**
 * The imported identity key, cached per key object: a site verifies every advert of the roster
 * and a quorum of consistency signatures with the same few identity keys each round, and the
 * import costs about half as much as the verification itself.
 */
function ed25519Public(pk: Uint8Array): KeyObject {
  let key = ed25519Cache.get(pk);
  if (!key) {
    key = okpPublic('Ed25519', pk);
    ed25519Cache.set(pk, key);
  }
  return key;
}

/** Whether `signature` is a valid Ed25519 signature of `message` by `publicKey`; false on any malformed input. */
export function ed25519Verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return verify(null, message, ed25519Public(publicKey), signature);
  } catch {
    return false;
  }
}

/** An Ed25519 key pair in tweetnacl layout (secret = seed || public), computed natively from a 32-byte seed. */
export function ed25519KeyPairFromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  if (seed.length !== 32) throw new RangeError("'seed' must be 32 bytes");
  const key = createPrivateKey({
    key: Buffer.from(concatBytes(ED25519_PKCS8, seed)),
    format: 'der',
    type: 'pkcs8',
  });
  const der = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(der.subarray(der.length - 32));
  return { publicKey, secretKey: concatBytes(seed, publicKey) };
}
