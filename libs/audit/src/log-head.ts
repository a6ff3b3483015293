import { ed25519Signer, ed25519Verify } from '@fedistill/identity';

/**
 * A signed log head: whoever holds it can later detect a rewrite of the signer's log up to
 * `sequence` (SPEC, privacy model item 5). Same bytes as proto SignedLogHead; hashes are hex here.
 */
export interface SignedHead {
  readonly signer: string;
  readonly sequence: number;
  /** SHA-256 (hex) of the entry at `sequence`. */
  readonly entrySha256: string;
  readonly signedAtUnixMs: number;
  /** Ed25519, base64. */
  readonly signature: string;
}

/** "fedistill-log-head-v1\n<signer>\n<sequence>\n<signed_at_unix_ms>\n" followed by the 32 hash bytes. */
export function logHeadSigningBytes(
  signer: string,
  sequence: number,
  entrySha256: string,
  signedAtUnixMs: number,
): Buffer {
  return Buffer.concat([
    Buffer.from(`fedistill-log-head-v1\n${signer}\n${sequence}\n${signedAtUnixMs}\n`, 'utf8'),
    Buffer.from(entrySha256, 'hex'),
  ]);
}

export function signLogHead(
  signer: string,
  sequence: number,
  entrySha256: string,
  secretKey: Uint8Array,
  signedAtUnixMs: number = Date.now(),
): SignedHead {
  const signature = ed25519Signer(secretKey)(
    logHeadSigningBytes(signer, sequence, entrySha256, signedAtUnixMs),
  );
  return {
    signer,
    sequence,
    entrySha256,
    signedAtUnixMs,
    signature: Buffer.from(signature).toString('base64'),
  };
}

export function verifyLogHead(head: SignedHead, publicKey: Uint8Array): boolean {
  if (!/^[0-9a-f]{64}$/.test(head.entrySha256)) return false;
  return ed25519Verify(
    publicKey,
    logHeadSigningBytes(head.signer, head.sequence, head.entrySha256, head.signedAtUnixMs),
    Buffer.from(head.signature, 'base64'),
  );
}

/** Reads the head recorded in an anchor entry's detail, or undefined when malformed. */
export function parseAnchorDetail(detail: string): SignedHead | undefined {
  try {
    const parsed = JSON.parse(detail) as { head?: Partial<SignedHead> };
    const h = parsed.head;
    if (
      h &&
      typeof h.signer === 'string' &&
      Number.isSafeInteger(h.sequence) &&
      typeof h.entrySha256 === 'string' &&
      Number.isSafeInteger(h.signedAtUnixMs) &&
      typeof h.signature === 'string'
    ) {
      return h as SignedHead;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
