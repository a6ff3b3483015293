import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';

/** The built CLI: e2e tests run the real `fedistill` binary (npm test builds it first). */
const UP = path.resolve(__dirname, '..', '..', '..');
// From test/e2e/support, or from dist/test/e2e/support when a benchmark imports this file.
export const BIN = path.join(path.basename(UP) === 'dist' ? path.dirname(UP) : UP, 'bin', 'fedistill.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `fedistill ...args` to completion. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `fn` over `items` with at most `limit` at a time (CLI processes, site sessions on 2 cores). */
export async function inBatches<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += limit) await Promise.all(items.slice(i, i + limit).map(fn));
}

/** Starts `fedistill ...args` in the background with output appended to `logFile`. */
export function spawnCli(args: string[], logFile: string): ChildProcess {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  return child;
}

export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export interface CoordinatorFixture {
  readonly dir: string;
  /** Kills the process (SIGKILL) and starts it again on the same data and gRPC port. */
  restart(): Promise<void>;
  readonly configFile: string;
  readonly caFile: string;
  readonly caPem: string;
  readonly operatorToken: string;
  readonly grpcAddress: string;
  adminUrl: string;
  readonly logFile: string;
  readonly dbFile: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** A free TCP port on loopback (for tests that restart a process on the same port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface RuntimeJson {
  grpcAddress: string;
  adminUrl: string;
}

async function launch(
  dir: string,
  configFile: string,
  logFile: string,
): Promise<{ child: ChildProcess; runtime: RuntimeJson }> {
  const runtimeFile = path.join(dir, 'data', 'coordinator.runtime.json');
  fs.rmSync(runtimeFile, { force: true });
  const child = spawnCli(['coordinator', 'start', '--config', configFile], logFile);
  // A generous ceiling: the wait ends when the runtime file appears (seconds when idle).
  const runtime = await waitFor('the coordinator to start', 120_000, () => {
    if (child.exitCode !== null)
      throw new Error(`coordinator exited early:\n${fs.readFileSync(logFile, 'utf8')}`);
    if (!fs.existsSync(runtimeFile)) return undefined;
    try {
      return JSON.parse(fs.readFileSync(runtimeFile, 'utf8')) as RuntimeJson;
    } catch {
      // Created but not yet written (writeFileSync is not atomic): look again.
      return undefined;
    }
  });
  return { child, runtime };
}

/** A real coordinator process with a fresh development PKI, on loopback (port 0 unless `grpcPort`). */
export async function startCoordinatorProcess(
  settings: {
    heartbeatInterval?: string;
    offlineAfter?: string;
    grpcPort?: number;
    database?: { url: string; schema: string };
  } = {},
): Promise<CoordinatorFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-e2e-'));
  const pki = await cli(['pki', 'init', '--out', path.join(dir, 'pki')]);
  if (pki.code !== 0) throw new Error(`pki init failed: ${pki.stderr}`);
  const operatorToken = randomBytes(32).toString('hex');
  const configFile = path.join(dir, 'coordinator.yaml');
  fs.writeFileSync(
    configFile,
    stringify({
      dataDir: './data',
      grpc: {
        listen: `127.0.0.1:${settings.grpcPort ?? 0}`,
        tls: { cert: './pki/coordinator.crt', key: './pki/coordinator.key' },
      },
      admin: { listen: '127.0.0.1:0', operatorToken },
      sessions: {
        heartbeatInterval: settings.heartbeatInterval ?? '300ms',
        offlineAfter: settings.offlineAfter ?? '1500ms',
      },
      log: { level: 'info' },
      ...(settings.database ? { database: settings.database } : {}),
    }),
  );
  const logFile = path.join(dir, 'coordinator.log');
  const first = await launch(dir, configFile, logFile);
  const caFile = path.join(dir, 'pki', 'ca.crt');
  const fixture: CoordinatorFixture = {
    dir,
    configFile,
    caFile,
    caPem: fs.readFileSync(caFile, 'utf8'),
    operatorToken,
    grpcAddress: first.runtime.grpcAddress,
    adminUrl: first.runtime.adminUrl,
    logFile,
    dbFile: path.join(dir, 'data', 'coordinator.db'),
    process: first.child,
    restart: async () => {
      fixture.process.kill('SIGKILL');
      await exited(fixture.process);
      const next = await launch(dir, configFile, logFile);
      fixture.process = next.child;
      fixture.adminUrl = next.runtime.adminUrl;
    },
    stop: async () => {
      const child = fixture.process;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited(child);
      }
      if (!process.env.FEDISTILL_KEEP_E2E) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
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

/** Registers a reference set (NPY bytes) through the admin API; returns its SHA-256. */
export async function uploadReferenceSet(fx: CoordinatorFixture, npy: Uint8Array): Promise<string> {
  const upload = await fetch(`${fx.adminUrl}/api/v1/reference-sets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fx.operatorToken}`, 'content-type': 'application/octet-stream' },
    body: npy,
  });
  if (upload.status !== 201) throw new Error(`reference set refused: ${await upload.text()}`);
  return ((await upload.json()) as { sha256: string }).sha256;
}

/** Calls the admin API with the operator token (or `token`). */
export async function admin<T>(
  fx: CoordinatorFixture,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
  token: string | null = fx.operatorToken,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${fx.adminUrl}${route}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/**
 * `fedistill node init` then `node enroll` with a token from `coordinator token create`, all
 * through the CLI. Returns the node directory (default FIXTURE/sites/SITE). `coordinator` is the
 * address the node dials (default the coordinator's own; an attack test puts a proxy there).
 */
export async function enrolNodeWithCli(
  fx: CoordinatorFixture,
  site: string,
  dir = path.join(fx.dir, 'sites', site),
  coordinator = fx.grpcAddress,
): Promise<string> {
  const init = await cli([
    'node',
    'init',
    '--dir',
    dir,
    '--coordinator',
    coordinator,
    '--ca',
    fx.caFile,
    '--site',
    site,
    '--server-name',
    'localhost',
  ]);
  if (init.code !== 0) throw new Error(`node init failed: ${init.stderr}`);
  const created = await cli([
    'coordinator',
    'token',
    'create',
    '--site',
    site,
    '--json',
    '--config',
    fx.configFile,
  ]);
  if (created.code !== 0) throw new Error(`token create failed: ${created.stderr}`);
  const { token } = JSON.parse(created.stdout) as { token: string };
  const enrolled = await cli(['node', 'enroll', '--dir', dir, '--token', token]);
  if (!enrolled.stdout.includes(`site '${site}' enrolled`))
    throw new Error(`node enroll failed: ${enrolled.stderr}`);
  return dir;
}
