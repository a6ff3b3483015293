import * as path from 'node:path';
import * as fs from 'node:fs';
import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Logger } from 'pino';
import { generateSiteKeys, readSiteKeyFile, type SiteKeys, writeSiteKeyFile } from '@fedistill/identity';
import { type CoordinatorStore, openSqliteCoordinatorStore } from '@fedistill/registry';
import { AdminController, HealthController } from './admin/admin.controller';
import { HttpErrorFilter } from './admin/http-error.filter';
import { OperatorTokenGuard } from './admin/operator-token.guard';
import type { CoordinatorConfig } from './config/coordinator-config';
import { EnrolmentService } from './domain/enrolment.service';
import { NodeEventHub } from './domain/node-event-hub';
import { SiteService } from './domain/site.service';
import { GrpcServerHost } from './grpc/grpc-server.host';
import { CONFIG, ENROLMENT, EVENT_HUB, GRPC_HOST, IDENTITY, LOGGER, SITES, STORE } from './tokens';

/** The coordinator's own Ed25519 identity (signs its log heads), created on first start. */
function loadOrCreateIdentity(dataDir: string): SiteKeys {
  const file = path.join(dataDir, 'coordinator-identity.key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    writeSiteKeyFile(file, generateSiteKeys());
  }
  return readSiteKeyFile(file);
}

/** Closes what the module owns when the application shuts down, in dependency order. */
class Lifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(GRPC_HOST) private readonly grpc: GrpcServerHost,
    @Inject(STORE) private readonly store: CoordinatorStore,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.grpc.close();
    this.store.close();
  }
}

@Module({})
export class CoordinatorModule {
  static forRoot(config: CoordinatorConfig, logger: Logger): DynamicModule {
    return {
      module: CoordinatorModule,
      controllers: [AdminController, HealthController],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        {
          provide: STORE,
          useFactory: () => openSqliteCoordinatorStore(path.join(config.dataDir, 'coordinator.db')),
        },
        { provide: IDENTITY, useFactory: () => loadOrCreateIdentity(config.dataDir) },
        { provide: EVENT_HUB, useFactory: () => new NodeEventHub() },
        {
          provide: ENROLMENT,
          inject: [STORE],
          useFactory: (store: CoordinatorStore) =>
            new EnrolmentService(store, {
              defaultMs: config.enrolment.defaultTokenTtlMs,
              maxMs: config.enrolment.maxTokenTtlMs,
            }),
        },
        {
          provide: SITES,
          inject: [STORE, EVENT_HUB],
          useFactory: (store: CoordinatorStore, hub: NodeEventHub) =>
            new SiteService(store, hub, config.sessions.offlineAfterMs),
        },
        {
          provide: GRPC_HOST,
          inject: [STORE, ENROLMENT, EVENT_HUB, IDENTITY],
          useFactory: (
            store: CoordinatorStore,
            enrolment: EnrolmentService,
            hub: NodeEventHub,
            identity: SiteKeys,
          ) =>
            new GrpcServerHost(
              {
                ...config.grpc,
                clockSkewMs: config.auth.clockSkewMs,
                heartbeatIntervalMs: config.sessions.heartbeatIntervalMs,
                coordinatorSigningPublicKey: identity.signingPublicKey,
              },
              store,
              enrolment,
              hub,
              logger,
            ),
        },
        OperatorTokenGuard,
        Lifecycle,
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
    };
  }
}
