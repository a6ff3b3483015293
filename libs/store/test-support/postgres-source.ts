import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Where the PostgreSQL contract suite gets its server, in order: FEDISTILL_TEST_POSTGRES_URL
 * (.ci/run's Debian PostgreSQL), else a container that testcontainers starts where a container
 * runtime answers, else nowhere, with the reason the suite is skipped.
 */
export type PostgresSource =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'container'; readonly runtime: string }
  | { readonly kind: 'none'; readonly reason: string };

type Env = Readonly<Record<string, string | undefined>>;

/** The Docker API endpoints testcontainers 11 tries, in its order (DOCKER_HOST wins when set). */
export function runtimeEndpoints(env: Env, home = os.homedir(), uid = os.userInfo().uid): string[] {
  if (env['DOCKER_HOST']) return [env['DOCKER_HOST']];
  const sockets = [
    '/var/run/docker.sock',
    ...(env['XDG_RUNTIME_DIR'] ? [path.join(env['XDG_RUNTIME_DIR'], 'docker.sock')] : []),
    path.join(home, '.docker', 'run', 'docker.sock'),
    path.join(home, '.docker', 'desktop', 'docker.sock'),
    path.join('/run', 'user', String(uid), 'docker.sock'),
  ];
  return [...new Set(sockets)].map((s) => `unix://${s}`);
}

// Runs in a child process so the check stays synchronous (jest registers suites synchronously).
const PING = `
const http = require('node:http');
const [target, ms] = process.argv.slice(1);
const u = new URL(target);
const where = u.protocol === 'unix:' ? { socketPath: u.pathname } : { host: u.hostname, port: Number(u.port || 2375) };
const req = http.get({ ...where, path: '/_ping', timeout: Number(ms) }, (res) => {
  res.resume();
  res.on('end', () => { process.stdout.write('HTTP ' + res.statusCode); process.exit(res.statusCode === 200 ? 0 : 1); });
});
req.on('timeout', () => { process.stdout.write('no answer within ' + ms + ' ms'); process.exit(1); });
req.on('error', (e) => { process.stdout.write(e.code || e.message); process.exit(1); });
`;

/** Asks a Docker API endpoint for GET /_ping; undefined when it answers 200, else why not. */
export function pingRuntime(endpoint: string, timeoutMs: number): string | undefined {
  if (endpoint.startsWith('unix://') && !fs.existsSync(endpoint.slice('unix://'.length))) return 'no socket';
  if (!/^(unix|tcp|http):\/\//.test(endpoint)) return 'not a unix:// or tcp:// address';
  const target = endpoint.replace(/^tcp:/, 'http:');
  const r = spawnSync(process.execPath, ['-e', PING, target, String(timeoutMs)], {
    encoding: 'utf8',
    timeout: timeoutMs + 2000,
  });
  if (r.status === 0) return undefined;
  return r.stdout.trim() || (r.error ? r.error.message : `ping exited with ${String(r.status)}`);
}

/** Decides where the suite's PostgreSQL comes from; takes at most about `timeoutMs` per endpoint that exists. */
export function postgresSource(env: Env, timeoutMs = 1500): PostgresSource {
  const url = env['FEDISTILL_TEST_POSTGRES_URL'];
  if (url) return { kind: 'url', url };
  const tried: string[] = [];
  for (const endpoint of runtimeEndpoints(env)) {
    // A TLS endpoint cannot be pinged in plain HTTP: testcontainers reads the certificates itself.
    if (env['DOCKER_TLS_VERIFY'] === '1' && endpoint === env['DOCKER_HOST'])
      return { kind: 'container', runtime: endpoint };
    const problem = pingRuntime(endpoint, timeoutMs);
    if (problem === undefined) return { kind: 'container', runtime: endpoint };
    tried.push(`${endpoint}: ${problem}`);
  }
  return {
    kind: 'none',
    reason: `FEDISTILL_TEST_POSTGRES_URL is not set and no container runtime answers (${tried.join('; ')})`,
  };
}

/** A PostgreSQL server in a container started by testcontainers from `image`; `stop` removes it. */
export async function startPostgresContainer(
  image: string,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const started = await new PostgreSqlContainer(image).start();
  return {
    url: started.getConnectionUri(),
    stop: async () => {
      await started.stop();
    },
  };
}
