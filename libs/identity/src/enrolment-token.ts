import { createHash, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';

/** Enrolment tokens are 'fdt_' followed by 32 random bytes in base64url (43 characters). */
const TOKEN_PATTERN = /^fdt_[A-Za-z0-9_-]{43}$/;

/** A fresh one-time enrolment token. Only its SHA-256 is ever stored by the coordinator. */
export function generateEnrolmentToken(): string {
  return `fdt_${randomBytes(32).toString('base64url')}`;
}

/** True when `token` has the shape of an enrolment token (says nothing about its validity). */
export function isWellFormedToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/** SHA-256 of the token, hex: what the coordinator stores and looks up. */
export function hashEnrolmentToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function proofBytes(
  token: string,
  siteName: string,
  signingPublicKey: Uint8Array,
  boxPublicKey: Uint8Array,
): Uint8Array {
  return Buffer.concat([
    Buffer.from(`fedistill-enroll-v1\n${token}\n${siteName}\n`, 'utf8'),
    Buffer.from(signingPublicKey),
    Buffer.from(boxPublicKey),
  ]);
}

/** The proof of key possession sent with EnrollRequest (see enrolment.proto). */
export function signEnrolmentProof(
  token: string,
  siteName: string,
  signingSecretKey: Uint8Array,
  boxPublicKey: Uint8Array,
): Uint8Array {
  const signingPublicKey = nacl.sign.keyPair.fromSecretKey(signingSecretKey).publicKey;
  return nacl.sign.detached(proofBytes(token, siteName, signingPublicKey, boxPublicKey), signingSecretKey);
}

/** True when `proof` is valid for these enrolment fields. */
export function verifyEnrolmentProof(
  token: string,
  siteName: string,
  signingPublicKey: Uint8Array,
  boxPublicKey: Uint8Array,
  proof: Uint8Array,
): boolean {
  if (proof.length !== 64 || signingPublicKey.length !== 32 || boxPublicKey.length !== 32) return false;
  return nacl.sign.detached.verify(
    proofBytes(token, siteName, signingPublicKey, boxPublicKey),
    proof,
    signingPublicKey,
  );
}
