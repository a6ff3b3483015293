import { createHash, randomBytes } from 'node:crypto';
import { ed25519Signer, ed25519Verify } from './fast-ed25519';

/**
 * Every request a node sends is signed and every one the coordinator receives is verified, so
 * both go through node:crypto's Ed25519 (fast-ed25519.ts: the same RFC 8032 signatures as
 * tweetnacl's, about 30 times faster); a node's signer is made once per secret key.
 */
const signers = new WeakMap<Uint8Array, (message: Uint8Array) => Uint8Array>();
function signerOf(secretKey: Uint8Array): (message: Uint8Array) => Uint8Array {
  let signer = signers.get(secretKey);
  if (!signer) {
    signer = ed25519Signer(secretKey);
    signers.set(secretKey, signer);
  }
  return signer;
}

/**
 * Request signatures for node RPCs (SPEC, privacy model item 6). The signed bytes bind the
 * site the request speaks for, the coordinator it is meant for, the method, the exact request
 * bytes, a timestamp and a nonce, so a captured request cannot be replayed (to the same or to
 * another coordinator), re-targeted at another method, re-labelled as another site or altered.
 * See proto/fedistill/v1/enrolment.proto.
 *
 * The coordinator is named by its Ed25519 identity key (the key that signs its transcript and log
 * heads), hex: the node learns it at enrolment (EnrollResponse.coordinator_signing_public_key,
 * kept in enrolment.json) and the coordinator knows it about itself; unlike a TLS certificate or
 * a host name it does not change when a certificate is renewed or the coordinator moves, and two
 * coordinators never share it.
 */
export const RPC_HEADER = {
  site: 'x-fedistill-site',
  coordinator: 'x-fedistill-coordinator',
  timestamp: 'x-fedistill-timestamp',
  nonce: 'x-fedistill-nonce',
  signature: 'x-fedistill-signature',
} as const;

/** Who a request is from and for: the site's name and the coordinator's identity key (64 hex characters). */
export interface RpcAudience {
  readonly site: string;
  readonly coordinator: string;
}

/** The five metadata values that authenticate one request. */
export interface RpcAuthHeaders extends RpcAudience {
  /** Unix milliseconds. */
  readonly timestamp: number;
  /** 16 random bytes, lower-case hex (32 characters). */
  readonly nonce: string;
  /** Ed25519 signature, base64. */
  readonly signature: string;
}

/** The exact bytes that are signed for a request (v2: v1 bound neither the site nor the coordinator). */
export function rpcSigningBytes(
  to: RpcAudience,
  method: string,
  body: Uint8Array,
  timestamp: number,
  nonce: string,
): Uint8Array {
  const bodyDigest = createHash('sha256').update(body).digest('hex');
  // Site names cannot hold a newline (assertSiteName) and the coordinator is hex: unambiguous.
  return Buffer.from(
    `fedistill-rpc-v2\n${to.site}\n${to.coordinator}\n${method}\n${bodyDigest}\n${timestamp}\n${nonce}`,
    'utf8',
  );
}

/** Signs one request as `to.site` for coordinator `to.coordinator`; `now` and `nonce` are injectable for tests. */
export function signRpc(
  to: RpcAudience,
  secretKey: Uint8Array,
  method: string,
  body: Uint8Array,
  now: number = Date.now(),
  nonce: string = randomBytes(16).toString('hex'),
): RpcAuthHeaders {
  if (!/^[0-9a-f]{64}$/.test(to.coordinator))
    throw new RangeError(
      "'to.coordinator' must be the coordinator's Ed25519 key, 64 lower-case hex characters",
    );
  const signature = signerOf(secretKey)(rpcSigningBytes(to, method, body, now, nonce));
  return {
    site: to.site,
    coordinator: to.coordinator,
    timestamp: now,
    nonce,
    signature: Buffer.from(signature).toString('base64'),
  };
}

/** True when `headers.signature` is a valid signature by `publicKey` over this request, for its site and coordinator. */
export function verifyRpcSignature(
  publicKey: Uint8Array,
  method: string,
  body: Uint8Array,
  headers: RpcAuthHeaders,
): boolean {
  const signature = Buffer.from(headers.signature, 'base64');
  if (signature.length !== 64) return false;
  return ed25519Verify(
    publicKey,
    rpcSigningBytes(headers, method, body, headers.timestamp, headers.nonce),
    signature,
  );
}

/**
 * Parses the authentication metadata of a request. Returns the headers, or a sentence naming
 * what is missing or malformed.
 */
export function parseRpcAuthHeaders(get: (key: string) => string | undefined): RpcAuthHeaders | string {
  const site = get(RPC_HEADER.site);
  const coordinator = get(RPC_HEADER.coordinator);
  const ts = get(RPC_HEADER.timestamp);
  const nonce = get(RPC_HEADER.nonce);
  const signature = get(RPC_HEADER.signature);
  if (!site || !ts || !nonce || !signature) {
    const missing = [RPC_HEADER.site, RPC_HEADER.timestamp, RPC_HEADER.nonce, RPC_HEADER.signature].filter(
      (h) => !get(h),
    );
    return `request is not signed: missing metadata ${missing.join(', ')}`;
  }
  if (!coordinator)
    return `request does not name the coordinator it is meant for (metadata ${RPC_HEADER.coordinator}): the node runs a fedistill older than the v2 request signature; upgrade the node (its node.yaml and enrolment.json need no change)`;
  if (!/^[0-9a-f]{64}$/.test(coordinator))
    return `metadata ${RPC_HEADER.coordinator} must be the coordinator's Ed25519 key, 64 lower-case hex characters`;
  if (!/^\d{1,16}$/.test(ts)) return `metadata ${RPC_HEADER.timestamp} must be Unix milliseconds`;
  if (!/^[0-9a-f]{32}$/.test(nonce))
    return `metadata ${RPC_HEADER.nonce} must be 32 lower-case hex characters`;
  if (!/^[A-Za-z0-9+/]{86}==$/.test(signature))
    return `metadata ${RPC_HEADER.signature} must be a base64 Ed25519 signature`;
  return { site, coordinator, timestamp: Number(ts), nonce, signature };
}
