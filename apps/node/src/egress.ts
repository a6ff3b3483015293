import * as fs from 'node:fs';
import { type ClientReadableStream, Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { RPC_HEADER, signRpc, type SiteKeys } from '@fedistill/identity';
import {
  ArtifactsService,
  AuditService,
  EnrolmentService,
  EvaluationService,
  NodeSessionService,
  RoundsService,
} from '@fedistill/wire';

/** The part of a generated ts-proto method definition that the egress path needs. */
export interface WireMethod<Req, Res> {
  readonly path: string;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly responseDeserialize: (value: Buffer) => Res;
}

/**
 * The methods a node may call: the generated definitions of the v1 protocol and nothing else
 * (SPEC, privacy model item 1). They are checked by object identity, so a hand-made definition
 * (another path, or a known path with another serializer) is refused before a byte leaves.
 */
const PROTOCOL_METHODS: ReadonlySet<unknown> = new Set<unknown>(
  [
    EnrolmentService,
    NodeSessionService,
    RoundsService,
    ArtifactsService,
    AuditService,
    EvaluationService,
  ].flatMap((service) => Object.values(service)),
);

/** Thrown when code tries to send something that is not one of the protocol's messages. */
export class EgressRefusedError extends Error {
  override readonly name = 'EgressRefusedError';
}

export interface EgressOptions {
  readonly address: string;
  readonly caFile: string;
  readonly site: string;
  readonly keys: SiteKeys;
  readonly serverName?: string;
}

const identity = (b: Buffer): Buffer => b;

/**
 * The node's one egress path: every byte the node sends to the coordinator goes through here.
 * It refuses any method outside the v1 protocol, serializes the request once, signs exactly
 * those bytes (Ed25519 over method, SHA-256 of the body, timestamp, nonce) and sends them.
 */
export class NodeEgress {
  private readonly client: Client;

  constructor(private readonly options: EgressOptions) {
    const ca = fs.readFileSync(options.caFile);
    this.client = new Client(options.address, credentials.createSsl(ca), {
      ...(options.serverName ? { 'grpc.ssl_target_name_override': options.serverName } : {}),
      'grpc.keepalive_time_ms': 30_000,
    });
  }

  private encode<Req>(method: WireMethod<Req, unknown>, request: Req): Buffer {
    if (!PROTOCOL_METHODS.has(method)) {
      throw new EgressRefusedError(
        `refusing to send ${method.path}: not a message kind of the fedistill v1 protocol`,
      );
    }
    return method.requestSerialize(request);
  }

  private metadata(path: string, body: Buffer, signed: boolean): Metadata {
    const md = new Metadata();
    if (!signed) return md;
    const h = signRpc(this.options.site, this.options.keys.signingSecretKey, path, body);
    md.set(RPC_HEADER.site, h.site);
    md.set(RPC_HEADER.timestamp, String(h.timestamp));
    md.set(RPC_HEADER.nonce, h.nonce);
    md.set(RPC_HEADER.signature, h.signature);
    return md;
  }

  /** Sends one unary request through a generated method definition (e.g. NodeSessionService.heartbeat). */
  unary<Req, Res>(
    method: WireMethod<Req, Res>,
    request: Req,
    opts: { signed?: boolean; deadlineMs?: number } = {},
  ): Promise<Res> {
    const body = this.encode(method, request);
    const md = this.metadata(method.path, body, opts.signed ?? true);
    const deadline = Date.now() + (opts.deadlineMs ?? 15_000);
    return new Promise<Res>((resolve, reject) => {
      this.client.makeUnaryRequest(
        method.path,
        identity,
        method.responseDeserialize,
        body,
        md,
        { deadline },
        (err: ServiceError | null, res?: Res) =>
          err || res === undefined ? reject(err ?? new Error('empty response')) : resolve(res),
      );
    });
  }

  /** Opens a signed server stream. */
  serverStream<Req, Res>(method: WireMethod<Req, Res>, request: Req): ClientReadableStream<Res> {
    const body = this.encode(method, request);
    return this.client.makeServerStreamRequest(
      method.path,
      identity,
      method.responseDeserialize,
      body,
      this.metadata(method.path, body, true),
    );
  }

  close(): void {
    this.client.close();
  }
}
