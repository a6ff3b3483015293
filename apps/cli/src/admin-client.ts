import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { loadCoordinatorConfig, RUNTIME_FILE, type RuntimeInfo } from '../../coordinator/src';
import { CliError } from './cli-error';

export interface AdminConnectionOptions {
  config?: string;
  adminUrl?: string;
  adminToken?: string;
  /** PEM file of the CA that signed the admin API's HTTPS certificate. */
  adminCa?: string;
}

/** Where the admin API is, the operator token, and the CA (PEM) to verify its HTTPS certificate with. */
export interface AdminConnection {
  readonly url: string;
  readonly token: string;
  readonly ca?: string;
}

function readCa(file: string, setting: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`${setting} ${file} cannot be read`, 2);
  }
}

/**
 * Where and how to reach the admin API: flags, then FEDISTILL_ADMIN_URL/TOKEN/CA, then the
 * coordinator's config (its admin.tls.ca, else the CA next to grpc.tls in a development PKI).
 */
export function resolveAdminConnection(
  opts: AdminConnectionOptions,
  env: NodeJS.ProcessEnv = process.env,
): AdminConnection {
  let url = opts.adminUrl ?? env.FEDISTILL_ADMIN_URL;
  let token = opts.adminToken ?? env.FEDISTILL_ADMIN_TOKEN;
  const caFile = opts.adminCa ?? env.FEDISTILL_ADMIN_CA;
  let ca = caFile ? readCa(caFile, '--admin-ca') : undefined;
  if ((!url || !token || (!ca && !url?.startsWith('http:'))) && opts.config) {
    const config = loadCoordinatorConfig(opts.config, env);
    token ??= config.admin.operatorToken;
    if (!url) {
      const runtimeFile = path.join(config.dataDir, RUNTIME_FILE);
      const scheme = config.admin.tls ? 'https' : 'http';
      if (fs.existsSync(runtimeFile))
        url = (JSON.parse(fs.readFileSync(runtimeFile, 'utf8')) as RuntimeInfo).adminUrl;
      else if (config.admin.port !== 0) url = `${scheme}://${config.admin.host}:${config.admin.port}`;
      else throw new CliError(`the coordinator of ${opts.config} is not running (no ${runtimeFile})`);
    }
    if (!ca && config.admin.tls?.caFile) ca = readCa(config.admin.tls.caFile, 'admin.tls.ca');
  }
  if (!url || !token) {
    throw new CliError(
      'say which coordinator: --config FILE, or --admin-url URL and --admin-token TOKEN (or FEDISTILL_ADMIN_URL and FEDISTILL_ADMIN_TOKEN)',
      2,
    );
  }
  return { url: url.replace(/\/$/, ''), token, ...(ca ? { ca } : {}) };
}

/**
 * fetch() for the admin API: plain fetch over HTTP; over HTTPS a node:https request that trusts
 * `conn.ca` (global fetch cannot take a CA in Node 20), returning a standard Response either way.
 * `route` starts with '/'.
 */
export async function adminFetch(
  conn: AdminConnection,
  route: string,
  init: RequestInit = {},
): Promise<Response> {
  const url = `${conn.url}${route}`;
  if (!url.startsWith('https:')) return fetch(url, init);
  // A Request serializes any body (Buffer, string, FormData) and sets its content type.
  const request = new Request(url, init);
  const body = Buffer.from(await request.arrayBuffer());
  const headers: Record<string, string> = Object.fromEntries(request.headers.entries());
  if (body.length > 0 || request.method !== 'GET') headers['content-length'] = String(body.length);
  return new Promise<Response>((resolve, reject) => {
    const req = https.request(url, { method: request.method, headers, ca: conn.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers))
          if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 502;
        resolve(
          new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), {
            status,
            headers: out,
          }),
        );
      });
    });
    req.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
    req.end(body);
  });
}

/** Calls the admin API; turns HTTP errors into CliErrors that carry the server's message. */
export async function adminRequest<T>(
  conn: AdminConnection,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
): Promise<T> {
  let res: Response;
  try {
    res = await adminFetch(conn, route, {
      method,
      headers: {
        authorization: `Bearer ${conn.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new CliError(
      `cannot reach the coordinator's admin API at ${conn.url}: ${(err as Error).cause ? String((err as Error).cause) : (err as Error).message}`,
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok)
    throw new CliError(
      `coordinator refused (${res.status}): ${(json as { error?: string } | undefined)?.error ?? text}`,
    );
  return json as T;
}
