import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';

/**
 * Ed25519 through node:crypto (OpenSSL), for bulk work: verifying a 100 000-entry audit log
 * with tweetnacl's pure-JavaScript verify takes minutes; OpenSSL does it in seconds. Keys and
 * signatures are the same RFC 8032 Ed25519 as tweetnacl's (a test checks both ways), so the
 * rest of the code keeps using tweetnacl's key format: a 64-byte secret key (seed || public key).
 */
const PKCS8_SEED_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const publicKeys = new Map<string, KeyObject>();

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey).toString('hex');
  let key = publicKeys.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (publicKeys.size > 1024) publicKeys.clear();
    publicKeys.set(id, key);
  }
  return key;
}

/** A signer bound to one tweetnacl-format secret key (64 bytes). */
export function ed25519Signer(secretKey: Uint8Array): (message: Uint8Array) => Uint8Array {
  if (secretKey.length !== 64) throw new RangeError("'secretKey' must be 64 bytes (tweetnacl format)");
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_SEED_PREFIX, secretKey.subarray(0, 32)]),
    format: 'der',
    type: 'pkcs8',
  });
  return (message) => new Uint8Array(sign(null, message, key));
}

/** True when `signature` (64 bytes) is valid for `message` under `publicKey` (32 bytes). */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}
