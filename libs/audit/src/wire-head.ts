import type { SignedLogHead } from '@fedistill/wire';
import type { SignedHead } from './log-head';

/** Domain head (hex hash, base64 signature) to the wire message (raw bytes). */
export function headToWire(head: SignedHead): SignedLogHead {
  return {
    signer: head.signer,
    sequence: head.sequence,
    entrySha256: Buffer.from(head.entrySha256, 'hex'),
    signedAtUnixMs: head.signedAtUnixMs,
    signature: Buffer.from(head.signature, 'base64'),
  };
}

/** The wire message to the domain head; undefined when absent. */
export function headFromWire(head: SignedLogHead | undefined): SignedHead | undefined {
  if (!head) return undefined;
  return {
    signer: head.signer,
    sequence: head.sequence,
    entrySha256: Buffer.from(head.entrySha256).toString('hex'),
    signedAtUnixMs: head.signedAtUnixMs,
    signature: Buffer.from(head.signature).toString('base64'),
  };
}
