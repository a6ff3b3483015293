import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { type ServiceError, status } from '@grpc/grpc-js';
import { generateSiteKeys, signEnrolmentProof, type SiteKeys } from '@fedistill/identity';
import { EnrolmentClient, type EnrollResponse, HeartbeatRequest } from '@fedistill/wire';
import { stringify } from 'yaml';
import {
  type CoordinatorFixture,
  admin,
  cli,
  exited,
  snapshotDatabase,
  spawnCli,
  startCoordinatorProcess,
  waitFor,
} from './support/processes';
import { HEARTBEAT, heartbeat, refusal, signedMetadata, tls, TLS_OPTIONS } from './support/wire-client';

/** Enrols `site` with the given keys (the same node joining two coordinators). */
async function enrolWithKeys(address: string, caPem: string, site: string, token: string, keys: SiteKeys) {
  const client = new EnrolmentClient(address, tls(caPem), TLS_OPTIONS);
  return new Promise<EnrollResponse>((resolve, reject) =>
    client.enroll(
      {
        token,
        siteName: site,
        signingPublicKey: Buffer.from(keys.signingPublicKey),
        boxPublicKey: Buffer.from(keys.boxPublicKey),
        proof: Buffer.from(signEnrolmentProof(token, site, keys.signingSecretKey, keys.boxPublicKey)),
      },
      (err: ServiceError | null, res: EnrollResponse) => {
        client.close();
        if (err) reject(err);
        else resolve(res);
      },
    ),
  );
}

/** A second coordinator, its own PKI and identity, with the admin API on HTTPS. */
async function startTlsAdminCoordinator(): Promise<{
  dir: string;
  configFile: string;
  caFile: string;
  token: string;
  grpcAddress: string;
  adminUrl: string;
  dbFile: string;
  child: ReturnType<typeof spawnCli>;
}> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-e2e-tls-admin-'));
  const pki = await cli(['pki', 'init', '--out', path.join(dir, 'pki')]);
  if (pki.code !== 0) throw new Error(`pki init failed: ${pki.stderr}`);
  const token = randomBytes(32).toString('hex');
  const configFile = path.join(dir, 'coordinator.yaml');
  const tlsFiles = { cert: './pki/coordinator.crt', key: './pki/coordinator.key' };
  fs.writeFileSync(
    configFile,
    stringify({
      dataDir: './data',
      grpc: { listen: '127.0.0.1:0', tls: tlsFiles },
      admin: { listen: '127.0.0.1:0', operatorToken: token, tls: { ...tlsFiles, ca: './pki/ca.crt' } },
      sessions: { heartbeatInterval: '300ms', offlineAfter: '1500ms' },
    }),
  );
  const child = spawnCli(['coordinator', 'start', '--config', configFile], path.join(dir, 'coordinator.log'));
  const runtimeFile = path.join(dir, 'data', 'coordinator.runtime.json');
  const runtime = await waitFor('the TLS-admin coordinator to start', 30_000, () => {
    if (child.exitCode !== null)
      throw new Error(`coordinator exited: ${fs.readFileSync(path.join(dir, 'coordinator.log'), 'utf8')}`);
    return fs.existsSync(runtimeFile)
      ? (JSON.parse(fs.readFileSync(runtimeFile, 'utf8')) as { grpcAddress: string; adminUrl: string })
      : undefined;
  });
  return {
    dir,
    configFile,
    caFile: path.join(dir, 'pki', 'ca.crt'),
    token,
    grpcAddress: runtime.grpcAddress,
    adminUrl: runtime.adminUrl,
    dbFile: path.join(dir, 'data', 'coordinator.db'),
    child,
  };
}

describe('authentication across coordinators and the admin API over TLS (issue 11, finding 10)', () => {
  let x: CoordinatorFixture;
  let y: Awaited<ReturnType<typeof startTlsAdminCoordinator>>;

  beforeAll(async () => {
    x = await startCoordinatorProcess();
    y = await startTlsAdminCoordinator();
  });
  afterAll(async () => {
    await x.stop();
    if (y.child.exitCode === null) {
      y.child.kill('SIGTERM');
      await exited(y.child);
    }
    fs.rmSync(y.dir, { recursive: true, force: true });
  });

  it('serves the admin API over HTTPS, which the CLI reaches with the CA (from the config or --admin-ca)', async () => {
    expect(y.adminUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const viaConfig = await cli(['coordinator', 'sites', '--json', '--config', y.configFile]);
    expect(viaConfig.stderr).toBe('');
    expect(JSON.parse(viaConfig.stdout)).toEqual([]);
    const flags = ['--admin-url', y.adminUrl, '--admin-token', y.token];
    const viaFlags = await cli([
      'coordinator',
      'token',
      'create',
      '--site',
      'st-marys',
      '--json',
      ...flags,
      '--admin-ca',
      y.caFile,
    ]);
    expect(viaFlags.stderr).toBe('');
    expect(JSON.parse(viaFlags.stdout)).toMatchObject({ site: 'st-marys' });
    // Without the CA the certificate is not trusted; in clear text the server does not answer.
    const untrusted = await cli(['coordinator', 'sites', ...flags]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(
      /cannot reach the coordinator's admin API .*(certificate|self.signed|issuer)/i,
    );
    const plain = await cli([
      'coordinator',
      'sites',
      '--admin-url',
      y.adminUrl.replace('https:', 'http:'),
      '--admin-token',
      y.token,
    ]);
    expect(plain.code).toBe(1);
  });

  it('refuses to start with a non-loopback admin address in clear text, naming the setting', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedistill-insecure-admin-'));
    const file = path.join(dir, 'coordinator.yaml');
    fs.writeFileSync(
      file,
      stringify({
        dataDir: './data',
        grpc: {
          listen: '127.0.0.1:0',
          tls: {
            cert: path.join(y.dir, 'pki', 'coordinator.crt'),
            key: path.join(y.dir, 'pki', 'coordinator.key'),
          },
        },
        admin: { listen: '0.0.0.0:0', operatorToken: y.token },
      }),
    );
    const res = await cli(['coordinator', 'start', '--config', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('admin.listen: 0.0.0.0 is not a loopback address and admin.tls is not set');
    expect(res.stderr).toContain('admin.allowInsecureNonLoopback: true');
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a signed request captured on its way to one coordinator and replayed to another', async () => {
    // One site, one key, enrolled at two coordinators (it joins a federation at each).
    const keys = generateSiteKeys();
    const atX = await admin<{ token: string }>(x, 'POST', '/api/v1/enrolment-tokens', { site: 'st-marys' });
    const enrolledX = await enrolWithKeys(x.grpcAddress, x.caPem, 'st-marys', atX.body.token, keys);
    const created = await cli([
      'coordinator',
      'token',
      'create',
      '--site',
      'st-marys',
      '--json',
      '--config',
      y.configFile,
    ]);
    const yCa = fs.readFileSync(y.caFile, 'utf8');
    const enrolledY = await enrolWithKeys(
      y.grpcAddress,
      yCa,
      'st-marys',
      (JSON.parse(created.stdout) as { token: string }).token,
      keys,
    );
    const xKey = Buffer.from(enrolledX.coordinatorSigningPublicKey).toString('hex');
    expect(Buffer.from(enrolledY.coordinatorSigningPublicKey).toString('hex')).not.toBe(xKey);

    const request: HeartbeatRequest = { nodeVersion: 'captured', activeRounds: [] };
    const captured = signedMetadata('st-marys', keys, HEARTBEAT, HeartbeatRequest.encode(request).finish(), {
      coordinator: xKey,
    });
    await expect(heartbeat(x.grpcAddress, x.caPem, request, captured)).resolves.toBeDefined();
    const before = snapshotDatabase(y.dbFile);
    const err = await refusal(heartbeat(y.grpcAddress, yCa, request, captured));
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(err.details).toMatch(
      /^request is meant for another coordinator \(key [0-9a-f]{16}…, this one is [0-9a-f]{16}…\)/,
    );
    // Nothing about the site changed at the coordinator it was replayed to (not even last seen).
    expect(snapshotDatabase(y.dbFile)).toEqual(before);
  });
});
