// Just over the ~300-line guide: the one place where every coordinator provider (store, domain,
// rounds, students, metrics, console, gRPC and admin) is wired; splitting it would scatter the wiring.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type DynamicModule,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Logger } from 'pino';
import { AuditChain, type AuditLogStore, SqliteAuditLogStore } from '@fedistill/audit';
import { generateSiteKeys, readSiteKeyFile, type SiteKeys, writeSiteKeyFile } from '@fedistill/identity';
import {
  type CoordinatorStore,
  openPostgresCoordinatorStore,
  openSqliteCoordinatorStore,
} from '@fedistill/store';
import { AdminController, HealthController } from './admin/admin.controller';
import { HttpErrorFilter } from './admin/http-error.filter';
import { AccessTokenController } from './admin/access-token.controller';
import { adminProviders } from './admin/admin.providers';
import { ApiDocsController } from './admin/api-docs.controller';
import type { CoordinatorConfig } from './config/coordinator-config';
import { EnrolmentService } from './domain/enrolment.service';
import { NodeEventHub } from './domain/node-event-hub';
import { SiteService } from './domain/site.service';
import { FederationController } from './admin/federation.controller';
import { FederationService } from './federation/federation.service';
import { EvaluationSets } from './federation/evaluation-sets';
import { StudentController } from './admin/student.controller';
import { StudentCatalog } from './students/student-catalog';
import { StudentPublisher } from './students/student-publisher';
import { GrpcServerHost } from './grpc/grpc-server.host';
import { RoundEngine } from './rounds/round-engine';
import { ConsolePageController } from './console/console-page.controller';
import { ConsoleReadController } from './console/console-read.controller';
import { QueryPlanner } from './rounds/query-planner';
import type { CoordinatorMetrics } from './metrics/coordinator-metrics';
import { AdminErrorsMiddleware, MetricsController } from './metrics/metrics.controller';
import { metricsProviders } from './metrics/metrics.providers';
import { grpcObserver } from './metrics/round-metrics';
import {
  AUDIT_STORE,
  CONFIG,
  ENROLMENT,
  EVALUATION_SETS,
  EVENT_HUB,
  FEDERATIONS,
  GRPC_HOST,
  IDENTITY,
  LOGGER,
  METRICS,
  ROUNDS,
  SITES,
  STORE,
  STUDENT_CATALOG,
  STUDENT_PUBLISHER,
  TRANSCRIPT,
} from './tokens';

/** Files of the coordinator's data directory. */
export const DATA_FILES = {
  database: 'coordinator.db',
  transcript: 'audit-log.db',
  identity: 'coordinator-identity.key',
} as const;

/** The coordinator's own Ed25519 identity (signs its transcript and log heads), created on first start. */
function loadOrCreateIdentity(dataDir: string): SiteKeys {
  const file = path.join(dataDir, DATA_FILES.identity);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    writeSiteKeyFile(file, generateSiteKeys());
  }
  return readSiteKeyFile(file);
}

/** Closes what the module owns when the application shuts down, in dependency order. */
class Lifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(GRPC_HOST) private readonly grpc: GrpcServerHost,
    @Inject(STORE) private readonly store: CoordinatorStore,
    @Inject(AUDIT_STORE) private readonly auditStore: AuditLogStore,
    @Inject(ROUNDS) private readonly rounds: RoundEngine,
    @Inject(STUDENT_PUBLISHER) private readonly publisher: StudentPublisher,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Publishes a student after each completed round, off the request that completed it. */
  private publish(federation: string, round: number, publication: Promise<unknown>): void {
    publication.then(
      (published) => {
        if (published) this.log.info({ federation, round, student: published }, 'student published');
      },
      (err: unknown) => this.log.error({ err, federation, round }, 'student training failed'),
    );
  }

  /**
   * Resumes rounds left open by a previous run and publishes students that completed rounds
   * still lack, then closes stages as their deadlines pass.
   */
  async onApplicationBootstrap(): Promise<void> {
    this.rounds.onRoundCompleted((federation, round) =>
      this.publish(federation, round, this.publisher.enqueue(federation, round)),
    );
    const resumed = await this.rounds.resume();
    if (resumed > 0) this.log.info({ rounds: resumed }, 'resumed open rounds');
    const pending = await this.publisher.resume();
    if (pending.length > 0) this.log.info({ federations: pending.length }, 'publishing missing students');
    for (const p of pending) this.publish(p.federationId, p.round, p.publication);
    // A close that could not be written (the disk full or read-only) was undone and is retried at
    // every tick; the same failure is logged once every 10 s, not four times a second.
    let lastFailure = { message: '', at: 0 };
    this.timer = setInterval(() => {
      this.rounds.tick().catch((err: unknown) => {
        const message = (err as Error).message;
        if (message === lastFailure.message && Date.now() - lastFailure.at < 10_000) return;
        lastFailure = { message, at: Date.now() };
        this.log.error({ err }, `round deadline check failed, retried at every tick: ${message}`);
      });
    }, 250);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.grpc.close();
    await this.store.close();
    this.auditStore.close();
  }
}

/** Library and domain classes, wired through factories (libs/ know nothing of NestJS). */
function domainProviders(config: CoordinatorConfig, logger: Logger, roundClock: () => number): Provider[] {
  return [
    {
      provide: STORE,
      // SQLite in the data directory by default; PostgreSQL when database.url is set.
      useFactory: (): CoordinatorStore | Promise<CoordinatorStore> =>
        config.database.url
          ? openPostgresCoordinatorStore({
              url: config.database.url,
              schema: config.database.schema,
              onConnectionError: (err) =>
                logger.warn(
                  { err: err.message },
                  'a PostgreSQL connection failed; the next query reconnects',
                ),
            })
          : openSqliteCoordinatorStore(path.join(config.dataDir, DATA_FILES.database)),
    },
    { provide: IDENTITY, useFactory: () => loadOrCreateIdentity(config.dataDir) },
    {
      provide: AUDIT_STORE,
      useFactory: () => new SqliteAuditLogStore(path.join(config.dataDir, DATA_FILES.transcript)),
    },
    {
      provide: TRANSCRIPT,
      inject: [AUDIT_STORE, IDENTITY],
      // The genesis entry is written at start: a transcript is never legitimately empty, so an
      // empty one reads as tampering (audit status), not as a coordinator that did nothing yet.
      useFactory: async (store: AuditLogStore, identity: SiteKeys) => {
        const chain = new AuditChain(store, 'coordinator', identity);
        await chain.head();
        return chain;
      },
    },
    { provide: EVENT_HUB, useFactory: () => new NodeEventHub() },
    {
      provide: ENROLMENT,
      inject: [STORE, TRANSCRIPT],
      useFactory: (store: CoordinatorStore, transcript: AuditChain) =>
        new EnrolmentService(
          store,
          { defaultMs: config.enrolment.defaultTokenTtlMs, maxMs: config.enrolment.maxTokenTtlMs },
          transcript,
        ),
    },
    {
      provide: SITES,
      inject: [STORE, EVENT_HUB, TRANSCRIPT],
      useFactory: (store: CoordinatorStore, hub: NodeEventHub, transcript: AuditChain) =>
        new SiteService(store, hub, config.sessions.offlineAfterMs, transcript),
    },
    {
      provide: FEDERATIONS,
      inject: [STORE, TRANSCRIPT, EVENT_HUB],
      useFactory: (store: CoordinatorStore, transcript: AuditChain, hub: NodeEventHub) =>
        new FederationService(store, transcript, hub),
    },
    {
      provide: ROUNDS,
      inject: [STORE, FEDERATIONS, SITES, TRANSCRIPT, STUDENT_PUBLISHER],
      useFactory: (
        store: CoordinatorStore,
        federations: FederationService,
        sites: SiteService,
        transcript: AuditChain,
        publisher: StudentPublisher,
      ) =>
        // Its events reach the sites through grpc/round-event-relay.ts (GrpcServerHost).
        new RoundEngine(
          store,
          federations,
          sites,
          transcript,
          // Least-confident queries wait for the student of the completed rounds (the publisher's queue).
          new QueryPlanner(store, federations, publisher),
          roundClock,
          config.sessions.resumeGraceMs,
        ),
    },
    {
      provide: EVALUATION_SETS,
      inject: [STORE, FEDERATIONS, TRANSCRIPT],
      useFactory: (store: CoordinatorStore, federations: FederationService, transcript: AuditChain) =>
        new EvaluationSets(store, federations, transcript),
    },
    {
      provide: STUDENT_CATALOG,
      inject: [STORE, FEDERATIONS],
      useFactory: (store: CoordinatorStore, federations: FederationService) =>
        new StudentCatalog(store, federations),
    },
    {
      provide: STUDENT_PUBLISHER,
      inject: [STORE, FEDERATIONS, EVALUATION_SETS, EVENT_HUB, TRANSCRIPT],
      useFactory: (
        store: CoordinatorStore,
        federations: FederationService,
        evaluationSets: EvaluationSets,
        hub: NodeEventHub,
        transcript: AuditChain,
      ) => new StudentPublisher(store, federations, evaluationSets, hub, transcript),
    },
    {
      provide: GRPC_HOST,
      inject: [
        STORE,
        ENROLMENT,
        EVENT_HUB,
        TRANSCRIPT,
        IDENTITY,
        FEDERATIONS,
        ROUNDS,
        STUDENT_CATALOG,
        METRICS,
      ],
      useFactory: (
        store: CoordinatorStore,
        enrolment: EnrolmentService,
        hub: NodeEventHub,
        transcript: AuditChain,
        identity: SiteKeys,
        federations: FederationService,
        rounds: RoundEngine,
        students: StudentCatalog,
        metrics: CoordinatorMetrics,
      ) =>
        new GrpcServerHost(
          {
            ...config.grpc,
            clockSkewMs: config.auth.clockSkewMs,
            heartbeatIntervalMs: config.sessions.heartbeatIntervalMs,
          },
          { store, enrolment, hub, transcript, identity, federations, rounds, students },
          logger,
          grpcObserver(metrics),
        ),
    },
  ];
}

@Module({})
export class CoordinatorModule implements NestModule {
  /** Every admin response passes the metrics' error counter (metrics/metrics.controller.ts). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AdminErrorsMiddleware).forRoutes('*');
  }

  /** `roundClock`: the clock of the rounds' stage deadlines (the wall clock but in the simulator). */
  static forRoot(
    config: CoordinatorConfig,
    logger: Logger,
    roundClock: () => number = Date.now,
  ): DynamicModule {
    return {
      module: CoordinatorModule,
      controllers: [
        AccessTokenController,
        ApiDocsController,
        AdminController,
        FederationController,
        StudentController,
        HealthController,
        MetricsController,
        ConsoleReadController,
        ConsolePageController,
      ],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        ...domainProviders(config, logger, roundClock),
        ...metricsProviders(roundClock),
        ...adminProviders(config),
        Lifecycle,
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
    };
  }
}
