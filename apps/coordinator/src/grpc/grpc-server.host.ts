import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { WireServiceRegistry } from '@fedistill/wire';
import type { AuditChain } from '@fedistill/audit';
import type { SiteKeys } from '@fedistill/identity';
import {
  ArtifactsService,
  AuditService,
  EnrolmentService as EnrolmentDefinition,
  MAX_WIRE_MESSAGE_BYTES,
  NodeSessionService,
  RoundsService,
} from '@fedistill/wire';
import type { CoordinatorStore } from '@fedistill/store';
import type { EnrolmentService } from '../domain/enrolment.service';
import type { NodeEventHub } from '../domain/node-event-hub';
import { NodeAuthenticator } from './node-authenticator';
import type { FederationService } from '../federation/federation.service';
import type { RoundEngine } from '../rounds/round-engine';
import type { StudentCatalog } from '../students/student-catalog';
import { roundsMethods } from '../rounds/rounds-service';
import { releasedTargetsMethod } from '../rounds/released-targets';
import { artifactsMethods } from './artifacts-service';
import { auditMethods } from './audit-service';
import { enrolmentMethods, nodeSessionMethods } from './node-services';
import { relayRoundEvents } from './round-event-relay';
import { type CallObserver, type RefusalLogger, secureService } from './secure-service';

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  readonly tlsCertPem: string;
  readonly tlsKeyPem: string;
  readonly clockSkewMs: number;
  readonly heartbeatIntervalMs: number;
}

/**
 * Owns the plain grpc-js server that nodes talk to: TLS only, every service behind
 * secureService. Bound by the NestJS lifecycle (see coordinator.module.ts).
 */
/** What the node-facing services are built from. */
export interface GrpcServices {
  readonly store: CoordinatorStore;
  readonly enrolment: EnrolmentService;
  readonly hub: NodeEventHub;
  readonly transcript: AuditChain;
  readonly identity: SiteKeys;
  readonly federations: FederationService;
  readonly rounds: RoundEngine;
  readonly students: StudentCatalog;
}

export class GrpcServerHost {
  private server: Server | undefined;
  private boundPort = 0;

  constructor(
    private readonly options: GrpcServerOptions,
    private readonly services: GrpcServices,
    private readonly log: RefusalLogger,
    /** Hears of every request's size and every error status (metrics/). */
    private readonly observer?: CallObserver,
  ) {
    // The round engine emits domain events; they reach the sites' streams as NodeEvents from here,
    // whichever transport serves them (a TLS port, or the simulator's registry).
    relayRoundEvents(services.rounds, services.hub);
  }

  get port(): number {
    return this.boundPort;
  }

  /** Every node-facing service, each behind the same middleware (enrolment without signatures). */
  private register(server: WireServiceRegistry): void {
    const { store, enrolment, hub, transcript, identity, federations, rounds, students } = this.services;
    const { heartbeatIntervalMs } = this.options;
    const auth = new NodeAuthenticator(
      identity.signingPublicKey,
      store,
      this.options.clockSkewMs,
      transcript,
    );
    const services = [
      secureService(
        EnrolmentDefinition,
        enrolmentMethods(enrolment, identity.signingPublicKey, heartbeatIntervalMs),
        null,
        this.log,
        this.observer,
      ),
      secureService(
        NodeSessionService,
        nodeSessionMethods(hub, federations, heartbeatIntervalMs, rounds, (id) => store.students.latest(id)),
        auth,
        this.log,
        this.observer,
      ),
      secureService(AuditService, auditMethods(transcript, identity), auth, this.log, this.observer),
      secureService(ArtifactsService, artifactsMethods(federations, students), auth, this.log, this.observer),
      secureService(
        RoundsService,
        roundsMethods(rounds, releasedTargetsMethod(store, federations)),
        auth,
        this.log,
        this.observer,
      ),
    ];
    for (const s of services) server.addService(s.definition, s.implementation);
  }

  /**
   * Serves nodes through `registry` instead of a TLS port: the simulator's in-memory transport
   * (libs/simulate). The services and their middleware are the same objects a deployment serves.
   */
  serveThrough(registry: WireServiceRegistry): void {
    this.register(registry);
  }

  async start(): Promise<number> {
    const server = new Server({
      'grpc.max_receive_message_length': MAX_WIRE_MESSAGE_BYTES,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
    this.register(server);
    const { tlsCertPem, tlsKeyPem, host, port } = this.options;
    const credentials = ServerCredentials.createSsl(
      null,
      [{ cert_chain: Buffer.from(tlsCertPem), private_key: Buffer.from(tlsKeyPem) }],
      false,
    );
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:${port}`, credentials, (err, bound) =>
        err ? reject(new Error(`cannot bind gRPC on ${host}:${port}: ${err.message}`)) : resolve(bound),
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
    this.services.hub.closeAll();
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
