/**
 * Test support (not shipped behaviour): the coordinator's real Nest application, in process,
 * listening on loopback HTTP with SQLite in a temporary directory, and a client that can pick its
 * source address (127.0.0.0/8 is all loopback), so that rate-limit tests do not share a budget.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { AuditEntry, AuditLogStore } from '@fedistill/audit';
import { loadCoordinatorConfig } from '../config/coordinator-config';
import { CoordinatorModule, DATA_FILES } from '../coordinator.module';
import { AUDIT_STORE } from '../tokens';
import { configureAdminHttp } from './http-app';

export interface AdminApp {
  readonly app: NestExpressApplication;
  readonly port: number;
  readonly operatorToken: string;
  readonly dbFile: string;
  /** Every route Express serves, as "METHOD /pattern". */
  routeTable(): string[];
  transcript(): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

export async function startAdminApp(settings: { authFailureLimit?: number } = {}): Promise<AdminApp> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-admin-'));
  const operatorToken = randomBytes(32).toString('hex');
  // gRPC never starts here; its certificate files only have to exist.
  fs.writeFileSync(path.join(dir, 'c.crt'), 'unused');
  fs.writeFileSync(path.join(dir, 'c.key'), 'unused');
  const file = path.join(dir, 'coordinator.yaml');
  fs.writeFileSync(
    file,
    [
      'dataDir: ./data',
      'grpc:\n  listen: 127.0.0.1:0\n  tls:\n    cert: c.crt\n    key: c.key',
      `admin:\n  listen: 127.0.0.1:0\n  operatorToken: ${operatorToken}`,
      `  authFailures:\n    limit: ${settings.authFailureLimit ?? 10}\n    window: 1m`,
      'log:\n  level: silent',
      '',
    ].join('\n'),
  );
  const config = loadCoordinatorConfig(file);
  fs.mkdirSync(config.dataDir, { recursive: true });
  const app = await NestFactory.create<NestExpressApplication>(
    CoordinatorModule.forRoot(config, pino({ level: 'silent' })),
    { logger: false, abortOnError: false },
  );
  configureAdminHttp(app);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as { port: number }).port;
  return {
    app,
    port,
    operatorToken,
    dbFile: path.join(config.dataDir, DATA_FILES.database),
    routeTable: () => {
      const express = app.getHttpAdapter().getInstance() as {
        router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
      };
      return express.router.stack.flatMap((layer) =>
        layer.route
          ? Object.keys(layer.route.methods)
              .filter((m) => m !== '_all')
              .map((m) => `${m.toUpperCase()} ${layer.route?.path}`)
          : [],
      );
    },
    transcript: () => app.get<AuditLogStore>(AUDIT_STORE).all(),
    close: async () => {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One HTTP request from `from` (a loopback source address), answered in full. */
export function call(
  port: number,
  method: string,
  route: string,
  o: { token?: string; body?: string | Buffer; contentType?: string; from?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) {
      headers['content-type'] = o.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(o.body));
    }
    const req = http.request(
      { host: '127.0.0.1', port, method, path: route, headers, localAddress: o.from ?? '127.0.0.1' },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/** JSON request helper: `body` is serialized unless it is already a string. */
export function callJson(
  port: number,
  method: string,
  route: string,
  token: string | undefined,
  body?: unknown,
  from?: string,
): Promise<Reply> {
  return call(port, method, route, {
    ...(token === undefined ? {} : { token }),
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    ...(from === undefined ? {} : { from }),
  });
}

/** Every row of every table of the coordinator's database, to show that a refusal changed nothing. */
export function snapshotDatabase(dbFile: string): Record<string, unknown[]> {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[];
    return Object.fromEntries(tables.map((t) => [t.name, db.prepare(`SELECT * FROM "${t.name}"`).all()]));
  } finally {
    db.close();
  }
}

/** A concrete path for a route pattern: every :param becomes `value`. */
export function concretePath(pattern: string, value = 'nothing-here'): string {
  return pattern.replace(/:([A-Za-z0-9_]+)/g, value);
}
