import { Server, ServerCredentials } from '@grpc/grpc-js';
import {
  EnrolmentService as EnrolmentDefinition,
  MAX_WIRE_MESSAGE_BYTES,
  NodeSessionService,
} from '@fedistill/wire';
import type { CoordinatorStore } from '@fedistill/registry';
import type { EnrolmentService } from '../domain/enrolment.service';
import type { NodeEventHub } from '../domain/node-event-hub';
import { NodeAuthenticator } from './node-authenticator';
import { enrolmentMethods, nodeSessionMethods } from './node-services';
import { type RefusalLogger, secureService } from './secure-service';

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  readonly tlsCertPem: string;
  readonly tlsKeyPem: string;
  readonly clockSkewMs: number;
  readonly heartbeatIntervalMs: number;
  readonly coordinatorSigningPublicKey: Uint8Array;
}

/**
 * Owns the plain grpc-js server that nodes talk to: TLS only, every service behind
 * secureService. Bound by the NestJS lifecycle (see coordinator.module.ts).
 */
export class GrpcServerHost {
  private server: Server | undefined;
  private boundPort = 0;

  constructor(
    private readonly options: GrpcServerOptions,
    private readonly store: CoordinatorStore,
    private readonly enrolment: EnrolmentService,
    private readonly hub: NodeEventHub,
    private readonly log: RefusalLogger,
  ) {}

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<number> {
    const server = new Server({
      'grpc.max_receive_message_length': MAX_WIRE_MESSAGE_BYTES,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
    const auth = new NodeAuthenticator(this.store, this.options.clockSkewMs);
    const enrol = secureService(
      EnrolmentDefinition,
      enrolmentMethods(
        this.enrolment,
        this.options.coordinatorSigningPublicKey,
        this.options.heartbeatIntervalMs,
      ),
      null,
      this.log,
    );
    server.addService(enrol.definition, enrol.implementation);
    const session = secureService(
      NodeSessionService,
      nodeSessionMethods(this.hub, this.options.heartbeatIntervalMs),
      auth,
      this.log,
    );
    server.addService(session.definition, session.implementation);
    const credentials = ServerCredentials.createSsl(
      null,
      [
        {
          cert_chain: Buffer.from(this.options.tlsCertPem),
          private_key: Buffer.from(this.options.tlsKeyPem),
        },
      ],
      false,
    );
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${this.options.host}:${this.options.port}`, credentials, (err, port) =>
        err
          ? reject(new Error(`cannot bind gRPC on ${this.options.host}:${this.options.port}: ${err.message}`))
          : resolve(port),
      ),
    );
    this.server = server;
    return this.boundPort;
  }

  /** Ends node streams, waits up to `graceMs` for calls in flight, then forces the rest. */
  async close(graceMs = 2000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.hub.closeAll();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
