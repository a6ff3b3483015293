import { createHash, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';

/**
 * Request signatures for node RPCs (SPEC, privacy model item 6). The signed bytes bind the
 * method, the exact request bytes, a timestamp and a nonce, so a captured request cannot be
 * replayed, re-targeted at another method or altered. See proto/fedistill/v1/enrolment.proto.
 */
export const RPC_HEADER = {
  site: 'x-fedistill-site',
  timestamp: 'x-fedistill-timestamp',
  nonce: 'x-fedistill-nonce',
  signature: 'x-fedistill-signature',
} as const;

/** The four metadata values that authenticate one request. */
export interface RpcAuthHeaders {
  readonly site: string;
  /** Unix milliseconds. */
  readonly timestamp: number;
  /** 16 random bytes, lower-case hex (32 characters). */
  readonly nonce: string;
  /** Ed25519 signature, base64. */
  readonly signature: string;
}

/** The exact bytes that are signed for a request. */
export function rpcSigningBytes(
  method: string,
  body: Uint8Array,
  timestamp: number,
  nonce: string,
): Uint8Array {
  const bodyDigest = createHash('sha256').update(body).digest('hex');
  return Buffer.from(`fedistill-rpc-v1\n${method}\n${bodyDigest}\n${timestamp}\n${nonce}`, 'utf8');
}

/** Signs one request; `now` and `nonce` are injectable for tests. */
export function signRpc(
  site: string,
  secretKey: Uint8Array,
  method: string,
  body: Uint8Array,
  now: number = Date.now(),
  nonce: string = randomBytes(16).toString('hex'),
): RpcAuthHeaders {
  const signature = nacl.sign.detached(rpcSigningBytes(method, body, now, nonce), secretKey);
  return { site, timestamp: now, nonce, signature: Buffer.from(signature).toString('base64') };
}

/** True when `headers.signature` is a valid signature by `publicKey` over this request. */
export function verifyRpcSignature(
  publicKey: Uint8Array,
  method: string,
  body: Uint8Array,
  headers: RpcAuthHeaders,
): boolean {
  const signature = Buffer.from(headers.signature, 'base64');
  if (signature.length !== nacl.sign.signatureLength) return false;
  return nacl.sign.detached.verify(
    rpcSigningBytes(method, body, headers.timestamp, headers.nonce),
    signature,
    publicKey,
  );
}

/**
 * Parses the authentication metadata of a request. Returns the headers, or a sentence naming
 * what is missing or malformed.
 */
export function parseRpcAuthHeaders(get: (key: string) => string | undefined): RpcAuthHeaders | string {
  const site = get(RPC_HEADER.site);
  const ts = get(RPC_HEADER.timestamp);
  const nonce = get(RPC_HEADER.nonce);
  const signature = get(RPC_HEADER.signature);
  if (!site || !ts || !nonce || !signature) {
    const missing = Object.values(RPC_HEADER).filter((h) => !get(h));
    return `request is not signed: missing metadata ${missing.join(', ')}`;
  }
  if (!/^\d{1,16}$/.test(ts)) return `metadata ${RPC_HEADER.timestamp} must be Unix milliseconds`;
  if (!/^[0-9a-f]{32}$/.test(nonce))
    return `metadata ${RPC_HEADER.nonce} must be 32 lower-case hex characters`;
  if (!/^[A-Za-z0-9+/]{86}==$/.test(signature))
    return `metadata ${RPC_HEADER.signature} must be a base64 Ed25519 signature`;
  return { site, timestamp: Number(ts), nonce, signature };
}
