import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { createDevelopmentPki, writeDevelopmentPki } from '@fedistill/pki';
import { RUNTIME_FILE, type RuntimeInfo } from '../../../coordinator/src/runtime-file';
import { enrollNode, initNode } from '../../../node/src';
import { adminRequest } from '../admin-client';
import { CliError } from '../cli-error';

const HOSPITALS = ['st-marys', 'riverside', 'northgate'];
const REPO = path.resolve(__dirname, '..', '..', '..', '..', '..');
const BIN = path.join(REPO, 'bin', 'fedistill.js');

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new CliError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Child processes of the demo, all stopped on success, failure and Ctrl-C. */
class Supervisor {
  private readonly children: ChildProcess[] = [];

  spawn(name: string, args: string[], logFile: string): ChildProcess {
    const log = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal === null)
        process.stderr.write(`  ${name} exited with code ${code}; see ${logFile}\n`);
    });
    this.children.push(child);
    return child;
  }

  /** Stops the processes newest first (nodes before the coordinator, so their last anchors land). */
  async stopAll(): Promise<void> {
    for (const c of [...this.children].reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
        c.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        c.kill('SIGTERM');
      });
    }
  }
}

/** Verifies every log the demo produced (chains, signatures, anchors) and writes the reports. */
async function auditDemo(out: string): Promise<void> {
  const { verifyLogs, renderVerification } = await import('../audit/verify-logs');
  const { buildAuditReport, renderAuditReport, verifyAuditLog } = await import('@fedistill/audit');
  const { loadLog } = await import('../audit/load-logs');
  const sources = [
    ...HOSPITALS.map((site) => ({ kind: 'node' as const, path: path.join(out, 'sites', site) })),
    { kind: 'coordinator' as const, path: path.join(out, 'coordinator') },
  ];
  const result = await verifyLogs(sources);
  process.stdout.write(`
Audit logs:
${renderVerification(result)}
`);
  const reports = path.join(out, 'reports');
  fs.mkdirSync(reports, { recursive: true });
  for (const source of sources) {
    const log = await loadLog(source);
    const report = buildAuditReport(log.entries, verifyAuditLog(log.entries, log.expectedKey));
    const name = source.kind === 'node' ? path.basename(source.path) : 'coordinator';
    fs.writeFileSync(path.join(reports, `${name}.md`), renderAuditReport(report, 'md'));
    fs.writeFileSync(path.join(reports, `${name}.html`), renderAuditReport(report, 'html'));
  }
  process.stdout.write(`Audit reports (Markdown and HTML): ${reports}
`);
  if (!result.ok) throw new CliError("the demo's audit logs did not verify");
}

export async function runDemo(outOption: string | undefined): Promise<void> {
  const out = path.resolve(
    outOption ?? path.join('.fedistill-demo', new Date().toISOString().replace(/[:.]/g, '-')),
  );
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0)
    throw new CliError(`--out ${out} is not empty: choose a new folder`);
  fs.mkdirSync(path.join(out, 'logs'), { recursive: true });
  process.stdout.write(`fedistill demo: everything goes to ${out}\n`);
  const supervisor = new Supervisor();
  const onSignal = () => {
    process.stdout.write('\ninterrupted: stopping the demo processes\n');
    void supervisor.stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await federate(out, supervisor);
  } finally {
    await supervisor.stopAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  await auditDemo(out);
}

async function federate(out: string, supervisor: Supervisor): Promise<void> {
  const pkiDir = path.join(out, 'pki');
  writeDevelopmentPki(pkiDir, await createDevelopmentPki());
  const operatorToken = randomBytes(32).toString('base64url');
  const configFile = path.join(out, 'coordinator.yaml');
  fs.writeFileSync(
    configFile,
    stringify({
      dataDir: './coordinator',
      grpc: { listen: '127.0.0.1:0', tls: { cert: './pki/coordinator.crt', key: './pki/coordinator.key' } },
      admin: { listen: '127.0.0.1:0', operatorToken },
      sessions: { heartbeatInterval: '1s', offlineAfter: '4s' },
    }),
    { mode: 0o600 },
  );
  process.stdout.write('1/5 starting the coordinator (TLS gRPC on loopback)\n');
  supervisor.spawn(
    'coordinator',
    ['coordinator', 'start', '--config', configFile],
    path.join(out, 'logs', 'coordinator.log'),
  );
  const runtimeFile = path.join(out, 'coordinator', RUNTIME_FILE);
  const runtime = await waitFor('the coordinator to start', 30_000, () =>
    fs.existsSync(runtimeFile)
      ? (JSON.parse(fs.readFileSync(runtimeFile, 'utf8')) as RuntimeInfo)
      : undefined,
  );
  const admin = { url: runtime.adminUrl, token: operatorToken };
  process.stdout.write(`2/5 enrolling ${HOSPITALS.length} hospital nodes with one-time tokens\n`);
  for (const site of HOSPITALS) {
    const dir = path.join(out, 'sites', site);
    // The development certificate names localhost; TLS servers are not addressed by IP (RFC 6066).
    await initNode({
      dir,
      coordinator: runtime.grpcAddress,
      caFile: path.join(pkiDir, 'ca.crt'),
      site,
      serverName: 'localhost',
    });
    const { token } = await adminRequest<{ token: string }>(admin, 'POST', '/api/v1/enrolment-tokens', {
      site,
      ttl: '10m',
    });
    await enrollNode(dir, token);
    supervisor.spawn(site, ['node', 'start', '--dir', dir], path.join(out, 'logs', `${site}.log`));
  }
  process.stdout.write('3/5 waiting for every node to be online\n');
  await waitFor('all nodes online', 30_000, async () => {
    const res = await adminRequest<{ sites: { online: boolean }[] }>(admin, 'GET', '/api/v1/sites');
    return res.sites.length === HOSPITALS.length && res.sites.every((s) => s.online) ? true : undefined;
  });
  const federation = await createFederation(admin);
  process.stdout.write(
    `5/5 waiting for every node to download and verify the reference set (${federation.sha256.slice(0, 12)}...)\n`,
  );
  await waitFor('the reference set at every node', 30_000, () =>
    HOSPITALS.every((site) =>
      fs.existsSync(path.join(out, 'sites', site, 'federations', FEDERATION, 'reference.npy')),
    )
      ? true
      : undefined,
  );
  const res = await adminRequest<{ sites: { name: string; online: boolean; lastSeenAt: string | null }[] }>(
    admin,
    'GET',
    '/api/v1/sites',
  );
  process.stdout.write('\nSITE        STATUS   FEDERATION      REFERENCE SET\n');
  for (const s of res.sites) {
    process.stdout.write(
      `${s.name.padEnd(10)}  ${s.online ? 'online ' : 'offline'}  ${FEDERATION.padEnd(14)}  verified (${federation.rows} inputs)\n`,
    );
  }
  process.stdout.write(
    `\nA coordinator and ${res.sites.length} enrolled hospital nodes talked over TLS gRPC with signed requests;\n` +
      `each node fetched the federation's public reference set in verified chunks.\n` +
      `Not in the demo yet: federated rounds (teachers, secure aggregation with noise, the student).\n` +
      `Logs: ${path.join(out, 'logs')}\nCoordinator data: ${path.join(out, 'coordinator')}\nNode directories: ${path.join(out, 'sites')}\n`,
  );
}

const FEDERATION = 'breast-cancer';

/**
 * The federation of the demo: a public reference set (a held-out fifth of the bundled
 * breast-cancer inputs, labels dropped) and the three hospitals as members.
 */
async function createFederation(admin: {
  url: string;
  token: string;
}): Promise<{ sha256: string; rows: number }> {
  const { encodeNpyFloat32, loadCsv, selectSamples } = await import('@fedistill/data');
  const { partition } = await import('@fedistill/distill');
  const data = (
    await loadCsv(path.join(REPO, 'data', 'breast_cancer.csv'), {
      skipLines: 1,
      header: false,
      label: -1,
      classes: 2,
    })
  ).dataset;
  const reference = selectSamples(data, partition(data.labels, 5, { kind: 'iid' }, 7)[1] ?? []);
  process.stdout.write(
    `4/5 creating federation '${FEDERATION}' with a public reference set of ${reference.count} inputs\n`,
  );
  const upload = await fetch(`${admin.url}/api/v1/reference-sets`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/octet-stream' },
    body: encodeNpyFloat32([reference.count, 30], reference.features),
  });
  const registered = (await upload.json()) as { sha256: string; error?: string };
  if (!upload.ok) throw new CliError(`reference set refused: ${registered.error ?? upload.status}`);
  await adminRequest(admin, 'POST', '/api/v1/federations', {
    id: FEDERATION,
    description: 'Wisconsin diagnostic breast cancer across three hospitals',
    labels: ['malignant', 'benign'],
    input: { shape: [30] },
    referenceSet: { sha256: registered.sha256 },
    student: { architecture: 'mlp', hidden: [16] },
    privacy: { mechanism: 'skellam', noiseMultiplier: 2, epsilonCap: 8, delta: 1e-5 },
    secureAggregation: { dropoutTolerance: 1 },
    rounds: { minSites: 3, queriesPerRound: 60, maxRounds: 3 },
  });
  for (const site of HOSPITALS)
    await adminRequest(admin, 'POST', `/api/v1/federations/${FEDERATION}/sites`, { site });
  return { sha256: registered.sha256, rows: reference.count };
}
