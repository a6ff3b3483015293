import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  generateSiteKeys,
  RPC_HEADER,
  signEnrolmentProof,
  signRpc,
  type SiteKeys,
} from '@fedistill/identity';
import {
  EnrolmentClient,
  HeartbeatRequest,
  NodeSessionClient,
  type EnrollResponse,
  type HeartbeatResponse,
} from '@fedistill/wire';

/** TLS to the coordinator's development certificate on loopback (named localhost). */
export function tls(caPem: string) {
  return credentials.createSsl(Buffer.from(caPem));
}

export const TLS_OPTIONS = { 'grpc.ssl_target_name_override': 'localhost' } as const;

/**
 * The coordinator each test site was enrolled at (its identity key, hex), as a node keeps it in
 * enrolment.json; signed requests name it. Keys enrolled elsewhere (or never) use the coordinator
 * enrolled at last, so a forged or unknown-site request still reaches the check it is meant for.
 */
const coordinatorOfKeys = new WeakMap<SiteKeys, string>();
let lastCoordinator = '00'.repeat(32);

export function signedMetadata(
  site: string,
  keys: SiteKeys,
  method: string,
  body: Uint8Array,
  overrides: Partial<{ timestamp: number; nonce: string; coordinator: string }> = {},
): Metadata {
  const coordinator = overrides.coordinator ?? coordinatorOfKeys.get(keys) ?? lastCoordinator;
  const h = signRpc(
    { site, coordinator },
    keys.signingSecretKey,
    method,
    body,
    overrides.timestamp,
    overrides.nonce,
  );
  const md = new Metadata();
  md.set(RPC_HEADER.site, h.site);
  md.set(RPC_HEADER.coordinator, h.coordinator);
  md.set(RPC_HEADER.timestamp, String(h.timestamp));
  md.set(RPC_HEADER.nonce, h.nonce);
  md.set(RPC_HEADER.signature, h.signature);
  return md;
}

export const HEARTBEAT = '/fedistill.v1.NodeSession/Heartbeat';

/** A heartbeat through the generated client, with the given metadata. */
export function heartbeat(
  address: string,
  caPem: string,
  request: HeartbeatRequest,
  md: Metadata,
): Promise<HeartbeatResponse> {
  const client = new NodeSessionClient(address, tls(caPem), TLS_OPTIONS);
  return new Promise<HeartbeatResponse>((resolve, reject) =>
    client.heartbeat(request, md, (err: ServiceError | null, res: HeartbeatResponse) => {
      client.close();
      if (err) reject(err);
      else resolve(res);
    }),
  );
}

/** Signs and sends a heartbeat as `site`. */
export function signedHeartbeat(
  address: string,
  caPem: string,
  site: string,
  keys: SiteKeys,
  request: HeartbeatRequest = { nodeVersion: 'e2e', activeRounds: [] },
) {
  const md = signedMetadata(site, keys, HEARTBEAT, HeartbeatRequest.encode(request).finish());
  return heartbeat(address, caPem, request, md);
}

/** Sends arbitrary bytes as a request to `path` (for malformed protobuf). */
export function rawUnary(
  address: string,
  caPem: string,
  path: string,
  body: Buffer,
  md: Metadata,
): Promise<Buffer> {
  const client = new Client(address, tls(caPem), TLS_OPTIONS);
  const id = (b: Buffer) => b;
  return new Promise<Buffer>((resolve, reject) =>
    client.makeUnaryRequest(path, id, id, body, md, (err: ServiceError | null, res?: Buffer) => {
      client.close();
      if (err) reject(err);
      else resolve(res ?? Buffer.alloc(0));
    }),
  );
}

/** Enrols `site` with fresh keys through the generated client. */
export async function enrollWithGeneratedClient(
  address: string,
  caPem: string,
  site: string,
  token: string,
): Promise<{ keys: SiteKeys; response: EnrollResponse }> {
  const keys = generateSiteKeys();
  const client = new EnrolmentClient(address, tls(caPem), TLS_OPTIONS);
  const response = await new Promise<EnrollResponse>((resolve, reject) =>
    client.enroll(
      {
        token,
        siteName: site,
        signingPublicKey: Buffer.from(keys.signingPublicKey),
        boxPublicKey: Buffer.from(keys.boxPublicKey),
        proof: Buffer.from(signEnrolmentProof(token, site, keys.signingSecretKey, keys.boxPublicKey)),
      },
      (err: ServiceError | null, res: EnrollResponse) => {
        client.close();
        if (err) reject(err);
        else resolve(res);
      },
    ),
  );
  lastCoordinator = Buffer.from(response.coordinatorSigningPublicKey).toString('hex');
  coordinatorOfKeys.set(keys, lastCoordinator);
  return { keys, response };
}

/** Resolves to the ServiceError a call fails with (fails the test if it succeeds). */
export async function refusal(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to be refused, but it succeeded');
}
