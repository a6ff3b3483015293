import 'reflect-metadata';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import pino, { type Logger } from 'pino';
import { type CoordinatorConfig, isLoopbackHost } from './config/coordinator-config';
import { CoordinatorModule } from './coordinator.module';
import { configureAdminHttp } from './admin/http-app';
import type { GrpcServerHost } from './grpc/grpc-server.host';
import { RUNTIME_FILE, type RuntimeInfo } from './runtime-file';
import { GRPC_HOST } from './tokens';
import { enableHeapRetention } from '@fedistill/secagg';
import type { WireServiceRegistry } from '@fedistill/wire';

export interface RunningCoordinator {
  readonly runtime: RuntimeInfo;
  close(): Promise<void>;
}

/** Routes NestJS's own messages into the structured pino log. */
function nestLogger(log: Logger): LoggerService {
  return {
    log: (message: unknown, context?: string) => log.debug({ context }, String(message)),
    error: (message: unknown, trace?: string, context?: string) =>
      log.error({ context, trace }, String(message)),
    warn: (message: unknown, context?: string) => log.warn({ context }, String(message)),
  };
}

function urlHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

/** Where nodes reach the coordinator; a deployment's TLS gRPC port by default. */
export interface StartCoordinatorOptions {
  /** Serve nodes through this registry (the simulator's in-memory transport) instead of TLS gRPC. */
  readonly nodeTransport?: WireServiceRegistry;
  /**
   * The clock the rounds' stage deadlines are set and checked by (default the wall clock). The
   * simulator's runs ahead past a deadline once a stage waits only for the sites it silenced.
   */
  readonly roundClock?: () => number;
  /**
   * Keep idle admin connections open until the client closes them (Node's keepAliveTimeout 0).
   * For the simulator, whose one event loop both trains and serves: a training stall longer than
   * the default 5 s keep-alive let the server close an idle connection just as the client reused
   * it, and a POST failed with ECONNRESET. The client still closes its idle connections itself.
   */
  readonly keepIdleAdminConnections?: boolean;
}

/** Starts the admin HTTP API and the TLS gRPC server, and writes the runtime file. */
export async function startCoordinator(
  config: CoordinatorConfig,
  log: Logger = pino({ level: config.log.level }),
  o: StartCoordinatorOptions = {},
): Promise<RunningCoordinator> {
  fs.mkdirSync(config.dataDir, { recursive: true });
  if (config.performance.retainFreedHeap && enableHeapRetention())
    log.info(
      { setting: 'performance.retainFreedHeap' },
      'glibc keeps freed heap in this process (faster unmasking)',
    );
  const { tls } = config.admin;
  if (!tls && !isLoopbackHost(config.admin.host))
    // Only reachable with admin.allowInsecureNonLoopback: true (the config refuses it otherwise).
    log.warn(
      { adminListen: `${config.admin.host}:${config.admin.port}`, setting: 'admin.allowInsecureNonLoopback' },
      'INSECURE: the admin API listens in clear text on a non-loopback address; the operator token crosses the network unencrypted unless a TLS proxy fronts it',
    );
  const app = await NestFactory.create<NestExpressApplication>(
    CoordinatorModule.forRoot(config, log, o.roundClock),
    {
      logger: nestLogger(log),
      abortOnError: false,
      // HTTPS with the admin certificate (same PKI as gRPC) when admin.tls is set.
      ...(tls ? { httpsOptions: { cert: tls.certPem, key: tls.keyPem } } : {}),
    },
  );
  app.enableShutdownHooks([]);
  // JSON bodies up to 1 MiB, reference sets as raw NPY bytes up to 512 MiB (admin/http-app.ts).
  configureAdminHttp(app);
  const grpc = app.get<GrpcServerHost>(GRPC_HOST);
  let grpcAddress = 'in-memory';
  if (o.nodeTransport) grpc.serveThrough(o.nodeTransport);
  else grpcAddress = `${urlHost(config.grpc.host)}:${await grpc.start()}`;
  await app.listen(config.admin.port, config.admin.host);
  const httpServer = app.getHttpServer() as import('node:http').Server;
  if (o.keepIdleAdminConnections) httpServer.keepAliveTimeout = 0;
  const adminPort = (httpServer.address() as { port: number }).port;
  const runtime: RuntimeInfo = {
    pid: process.pid,
    grpcAddress,
    adminUrl: `${tls ? 'https' : 'http'}://${urlHost(config.admin.host)}:${adminPort}`,
    startedAt: new Date().toISOString(),
  };
  const runtimeFile = path.join(config.dataDir, RUNTIME_FILE);
  fs.writeFileSync(runtimeFile, `${JSON.stringify(runtime, null, 2)}\n`);
  log.info(
    { grpcAddress: runtime.grpcAddress, adminUrl: runtime.adminUrl, dataDir: config.dataDir },
    'coordinator ready',
  );
  let closed = false;
  return {
    runtime,
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
      fs.rmSync(runtimeFile, { force: true });
      log.info('coordinator stopped');
    },
  };
}
