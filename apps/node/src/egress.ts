import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { type ClientReadableStream, Client, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { WireChannel } from '@fedistill/wire';
import type { AuditEntryInput } from '@fedistill/audit';
import type { Release } from '@fedistill/dp';
import { RPC_HEADER, signRpc, type SiteKeys } from '@fedistill/identity';
import {
  ArtifactsService,
  AuditService,
  EnrolmentService,
  NodeSessionService,
  RoundsService,
} from '@fedistill/wire';
import { tlsChannelCredentials } from './egress-tls';

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
  [EnrolmentService, NodeSessionService, RoundsService, ArtifactsService, AuditService].flatMap((service) =>
    Object.values(service),
  ),
);

const identity = (b: Buffer): Buffer => b;
const kindOf = (path: string): string => path.replace(/^\/fedistill\.v1\./, '');
const str = (n: number | undefined): string | undefined => (n === undefined ? undefined : String(n));

/** Thrown when code tries to send something that is not one of the protocol's messages. */
export class EgressRefusedError extends Error {
  override readonly name = 'EgressRefusedError';
}

/** Where the egress gate writes its entries (the node's AuditChain). */
export interface EgressRecorder {
  append(input: AuditEntryInput): Promise<unknown>;
}

/** What the egress log records about a message beyond its kind, size and digest. */
export interface EgressContext {
  readonly federation?: string;
  readonly round?: number;
  /** Privacy cost of this message, and the running total and limit after it. */
  readonly epsilon?: number;
  readonly epsilonTotal?: number;
  readonly epsilonLimit?: number;
  /** The trust assumption the epsilon holds under (node.yaml privacy.trust), in words. */
  readonly assumption?: string;
  /**
   * What the site's ledger was charged for this message (label, mechanism, count). The entry's
   * detail records it, so `fedistill node ledger rebuild` can recompose the exact RDP curve from
   * the signed log if the ledger file is lost (issue 11, finding 7).
   */
  readonly charge?: Release;
  /** What the site was shown and verified in the consistency round (round-participant.ts). */
  readonly consistency?: ConsistencyRecord;
}

/**
 * The survivor set a site signed and, once it reveals shares, the signatures it verified over
 * that set (site id -> hex), so the egress log shows on what evidence shares left the site
 * (issue 11, findings 2 and 9).
 */
export interface ConsistencyRecord {
  /** The sharer set U2 the site masked against (recorded with its masked summary). */
  readonly sharers?: readonly number[];
  readonly survivors?: readonly number[];
  readonly dropped?: readonly number[];
  readonly signatures?: Readonly<Record<number, string>>;
}

/**
 * The detail of an egress entry: with a ledger charge, JSON `{"assumption": ..., "charge":
 * {"label", "count", "mechanism"}}` (read back by ledger-log.ts); else the assumption in words, if any.
 */
export function egressDetail(ctx: EgressContext): string | undefined {
  const { charge, assumption, consistency } = ctx;
  if (!charge && !consistency) return assumption;
  return JSON.stringify({
    ...(assumption ? { assumption } : {}),
    ...(charge ? { charge: { label: charge.label, count: charge.count, mechanism: charge.mechanism } } : {}),
    ...(consistency ? { consistency } : {}),
  });
}

export interface EgressOptions {
  readonly audit: EgressRecorder;
  readonly address: string;
  readonly caFile: string;
  readonly site: string;
  readonly keys: SiteKeys;
  readonly serverName?: string;
  /**
   * The coordinator's Ed25519 identity key, hex, from enrolment.json: every signed request names
   * it, so it cannot be replayed to another coordinator. Absent only before enrolment, when the
   * node sends nothing signed.
   */
  readonly coordinatorKey?: string;
  /**
   * The channel to send through instead of TLS to `address` (the simulator's in-memory transport,
   * libs/simulate). Everything else on this path is unchanged: the same messages, log and signatures.
   */
  readonly channel?: WireChannel;
  /** Told of each message once it is recorded and about to leave (the node's metrics). */
  readonly onSent?: (kind: string, bytes: number) => void;
}

function tlsChannel(options: EgressOptions): Client {
  const ca = fs.readFileSync(options.caFile);
  // Not credentials.createSsl: it would send an IP address as the TLS server name (DEP0123).
  return new Client(options.address, tlsChannelCredentials(ca, options.address, options.serverName), {
    'grpc.keepalive_time_ms': 30_000,
  });
}

/**
 * The node's one egress path: every byte the node sends to the coordinator goes through here.
 * It refuses any method outside the v1 protocol (and records the refusal), serializes the
 * request once, appends an entry for exactly those bytes to the site's signed audit log and
 * waits until it is on disk (SPEC, privacy model item 5), then signs the bytes (Ed25519 over the
 * site, the coordinator's key, method, SHA-256 of the body, timestamp, nonce) and sends them.
 */
export class NodeEgress {
  private readonly client: WireChannel;

  constructor(private readonly options: EgressOptions) {
    this.client = options.channel ?? tlsChannel(options);
  }

  /** Serializes a protocol request and records it in the audit log; nothing is sent before this resolves. */
  private async admit<Req>(
    method: WireMethod<Req, unknown>,
    request: Req,
    ctx: EgressContext,
    signed: boolean,
  ): Promise<Buffer> {
    if (!PROTOCOL_METHODS.has(method)) {
      const reason = `refusing to send ${method.path}: not a message kind of the fedistill v1 protocol`;
      await this.options.audit.append({
        event: 'refusal',
        kind: String(method.path).slice(0, 200),
        detail: `${reason}; nothing was sent`,
      });
      throw new EgressRefusedError(reason);
    }
    this.coordinatorFor(method.path, signed);
    const body = method.requestSerialize(request);
    await this.options.audit.append({
      event: 'egress',
      kind: kindOf(method.path),
      peer: 'coordinator',
      bytes: String(body.length),
      sha256: createHash('sha256').update(body).digest('hex'),
      federation: ctx.federation,
      round: str(ctx.round),
      epsilon: str(ctx.epsilon),
      epsilonTotal: str(ctx.epsilonTotal),
      epsilonLimit: str(ctx.epsilonLimit),
      detail: egressDetail(ctx),
    });
    this.options.onSent?.(kindOf(method.path), body.length);
    return body;
  }

  /** The coordinator signed requests are bound to; checked before anything is recorded or sent. */
  private coordinatorFor(path: string, signed: boolean): string {
    const coordinator = this.options.coordinatorKey;
    if (signed && !coordinator)
      throw new EgressRefusedError(
        `refusing to sign ${path}: this node does not know its coordinator's key (enrolment.json); enrol it first`,
      );
    return coordinator ?? '';
  }

  private metadata(path: string, body: Buffer, signed: boolean): Metadata {
    const md = new Metadata();
    if (!signed) return md;
    const coordinator = this.coordinatorFor(path, signed);
    const h = signRpc(
      { site: this.options.site, coordinator },
      this.options.keys.signingSecretKey,
      path,
      body,
    );
    md.set(RPC_HEADER.site, h.site);
    md.set(RPC_HEADER.coordinator, h.coordinator);
    md.set(RPC_HEADER.timestamp, String(h.timestamp));
    md.set(RPC_HEADER.nonce, h.nonce);
    md.set(RPC_HEADER.signature, h.signature);
    return md;
  }

  /** Sends one unary request through a generated method definition (e.g. NodeSessionService.heartbeat). */
  async unary<Req, Res>(
    method: WireMethod<Req, Res>,
    request: Req,
    opts: { signed?: boolean; deadlineMs?: number; context?: EgressContext } = {},
  ): Promise<Res> {
    const body = await this.admit(method, request, opts.context ?? {}, opts.signed ?? true);
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
  async serverStream<Req, Res>(
    method: WireMethod<Req, Res>,
    request: Req,
  ): Promise<ClientReadableStream<Res>> {
    const body = await this.admit(method, request, {}, true);
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
