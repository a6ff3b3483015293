import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCoordinatorConfig } from '../../coordinator/src/config/coordinator-config';
import { RUNTIME_FILE, type RuntimeInfo } from '../../coordinator/src/runtime-file';
import { CliError } from './cli-error';

export interface AdminConnectionOptions {
  config?: string;
  adminUrl?: string;
  adminToken?: string;
}

/** Where and how to reach the admin API: flags, then FEDISTILL_ADMIN_URL/TOKEN, then the coordinator's config. */
export function resolveAdminConnection(
  opts: AdminConnectionOptions,
  env: NodeJS.ProcessEnv = process.env,
): { url: string; token: string } {
  let url = opts.adminUrl ?? env.FEDISTILL_ADMIN_URL;
  let token = opts.adminToken ?? env.FEDISTILL_ADMIN_TOKEN;
  if ((!url || !token) && opts.config) {
    const config = loadCoordinatorConfig(opts.config, env);
    token ??= config.admin.operatorToken;
    if (!url) {
      const runtimeFile = path.join(config.dataDir, RUNTIME_FILE);
      if (fs.existsSync(runtimeFile))
        url = (JSON.parse(fs.readFileSync(runtimeFile, 'utf8')) as RuntimeInfo).adminUrl;
      else if (config.admin.port !== 0) url = `http://${config.admin.host}:${config.admin.port}`;
      else throw new CliError(`the coordinator of ${opts.config} is not running (no ${runtimeFile})`);
    }
  }
  if (!url || !token) {
    throw new CliError(
      'say which coordinator: --config FILE, or --admin-url URL and --admin-token TOKEN (or FEDISTILL_ADMIN_URL and FEDISTILL_ADMIN_TOKEN)',
      2,
    );
  }
  return { url: url.replace(/\/$/, ''), token };
}

/** Calls the admin API; turns HTTP errors into CliErrors that carry the server's message. */
export async function adminRequest<T>(
  conn: { url: string; token: string },
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${conn.url}${route}`, {
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
