import * as path from 'node:path';
import { status } from '@grpc/grpc-js';
import { generateSiteKeys } from '@fedistill/identity';
import {
  type CoordinatorFixture,
  cli,
  enrolNodeWithCli,
  exited,
  freePort,
  spawnCli,
  startCoordinatorProcess,
  waitFor,
} from './support/processes';
import { refusal, signedHeartbeat } from './support/wire-client';

interface SiteRow {
  name: string;
  online: boolean;
  revoked: boolean;
  lastSeenAt: string | null;
}

describe('coordinator and node processes over TLS', () => {
  let fx: CoordinatorFixture;
  const nodes = new Map<string, ReturnType<typeof spawnCli>>();

  beforeAll(async () => {
    fx = await startCoordinatorProcess({
      heartbeatInterval: '300ms',
      offlineAfter: '1500ms',
      grpcPort: await freePort(),
    });
  });

  afterAll(async () => {
    for (const child of nodes.values()) if (child.exitCode === null) child.kill('SIGKILL');
    await fx.stop();
  });

  const sites = async (): Promise<SiteRow[]> => {
    const res = await cli(['coordinator', 'sites', '--json', '--config', fx.configFile]);
    expect(res.stderr).toBe('');
    return JSON.parse(res.stdout) as SiteRow[];
  };

  it('enrols two nodes with one-time tokens and sees both online', async () => {
    for (const site of ['st-marys', 'riverside']) {
      const dir = path.join(fx.dir, 'sites', site);
      const init = await cli([
        'node',
        'init',
        '--dir',
        dir,
        '--coordinator',
        fx.grpcAddress,
        '--ca',
        fx.caFile,
        '--site',
        site,
        '--server-name',
        'localhost',
      ]);
      expect(init.code).toBe(0);
      const created = await cli([
        'coordinator',
        'token',
        'create',
        '--site',
        site,
        '--ttl',
        '10m',
        '--json',
        '--config',
        fx.configFile,
      ]);
      expect(created.code).toBe(0);
      const { token } = JSON.parse(created.stdout) as { token: string };
      const enrolled = await cli(['node', 'enroll', '--dir', dir, '--token', token]);
      expect(enrolled.stdout).toContain(`site '${site}' enrolled`);
      nodes.set(site, spawnCli(['node', 'start', '--dir', dir], path.join(fx.dir, `${site}.log`)));
    }
    const online = await waitFor('both sites online', 20_000, async () => {
      const rows = await sites();
      return rows.length === 2 && rows.every((r) => r.online) ? rows : undefined;
    });
    expect(online.map((r) => r.name)).toEqual(['riverside', 'st-marys']);
  });

  it('sees a hung node go offline after the heartbeat timeout, while the other stays online', async () => {
    // SIGSTOP: the process stops heartbeating but its connection and event stream stay open, so
    // only the timeout (offlineAfter) can tell (a process that dies closes its stream: below).
    const node = nodes.get('riverside')!;
    const stoppedAt = Date.now();
    node.kill('SIGSTOP');
    try {
      const rows = await waitFor('riverside offline', 20_000, async () => {
        const r = await sites();
        return r.find((s) => s.name === 'riverside')?.online === false ? r : undefined;
      });
      expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(1000);
      expect(rows.find((s) => s.name === 'st-marys')?.online).toBe(true);
    } finally {
      node.kill('SIGKILL');
      await exited(node);
    }
  });

  it('reconnects with backoff after the coordinator is killed and restarted', async () => {
    await fx.restart();
    const rows = await waitFor('st-marys back online', 30_000, async () => {
      const r = await sites();
      return r.find((s) => s.name === 'st-marys')?.online ? r : undefined;
    });
    expect(rows.find((s) => s.name === 'riverside')?.online).toBe(false);
    // The same node process, never restarted, found the new coordinator process by itself.
    expect(nodes.get('st-marys')?.exitCode).toBeNull();
  });

  it('refuses a client with a forged signature for an enrolled site', async () => {
    const err = await refusal(signedHeartbeat(fx.grpcAddress, fx.caPem, 'st-marys', generateSiteKeys()));
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(err.details).toBe(
      "bad signature: the request is not signed by the enrolled key of site 'st-marys'",
    );
  });

  it('revokes a site: the coordinator tells its node, which stops, and lists it as revoked', async () => {
    const node = nodes.get('st-marys')!;
    const res = await cli([
      'coordinator',
      'site',
      'revoke',
      'st-marys',
      '--reason',
      'e2e test',
      '--config',
      fx.configFile,
    ]);
    expect(res.stdout).toContain("site 'st-marys' revoked");
    expect(await exited(node)).toEqual({ code: 0, signal: null });
    const row = (await sites()).find((s) => s.name === 'st-marys');
    expect(row).toMatchObject({ revoked: true, online: false });
  });

  it('shuts a node down cleanly on SIGTERM', async () => {
    const dir = await enrolNodeWithCli(fx, 'northgate');
    const node = spawnCli(['node', 'start', '--dir', dir], path.join(fx.dir, 'northgate.log'));
    nodes.set('northgate', node);
    await waitFor('northgate online', 20_000, async () =>
      (await sites()).find((s) => s.name === 'northgate')?.online ? true : undefined,
    );
    node.kill('SIGTERM');
    expect(await exited(node)).toEqual({ code: 0, signal: null });
  });
});

describe('a node that stops', () => {
  let fx: CoordinatorFixture;
  let node: ReturnType<typeof spawnCli> | undefined;

  beforeAll(async () => {
    // A long offlineAfter: a site still listed online after its node stopped would be a site
    // that a round opened now counts on, and abandons 30 s later.
    fx = await startCoordinatorProcess({ heartbeatInterval: '5s', offlineAfter: '60s' });
  });

  afterAll(async () => {
    if (node?.exitCode === null) node.kill('SIGKILL');
    await fx.stop();
  });

  const online = async (): Promise<boolean | undefined> => {
    const res = await cli(['coordinator', 'sites', '--json', '--config', fx.configFile]);
    return (JSON.parse(res.stdout) as SiteRow[]).find((s) => s.name === 'eastgate')?.online;
  };

  it('is offline at once, not after offlineAfter: on SIGTERM it says goodbye, and a killed one loses its stream', async () => {
    const dir = await enrolNodeWithCli(fx, 'eastgate');
    const start = () => spawnCli(['node', 'start', '--dir', dir], path.join(fx.dir, 'eastgate.log'));
    node = start();
    await waitFor('eastgate online', 20_000, async () => ((await online()) ? true : undefined));
    node.kill('SIGTERM');
    expect(await exited(node)).toEqual({ code: 0, signal: null });
    await waitFor('eastgate offline after SIGTERM', 10_000, async () =>
      (await online()) === false ? true : undefined,
    );
    // Started again it is online again (its new event stream), and a kill takes it offline too.
    node = start();
    await waitFor('eastgate online again', 20_000, async () => ((await online()) ? true : undefined));
    node.kill('SIGKILL');
    await exited(node);
    await waitFor('eastgate offline after the kill', 10_000, async () =>
      (await online()) === false ? true : undefined,
    );
  });
});

describe('the fedistill CLI', () => {
  it('lists the pki, coordinator and node commands, each with its own help', async () => {
    const top = await cli(['--help']);
    for (const cmd of ['pki', 'coordinator', 'node']) {
      expect(top.stdout).toMatch(new RegExp(`\\n  ${cmd}\\b`));
      const sub = await cli([cmd, '--help']);
      expect(sub.code).toBe(0);
      expect(sub.stdout).toContain(`Usage: fedistill ${cmd}`);
    }
  });

  it('exits 2 naming an unknown command, and 2 for a missing required option', async () => {
    const unknown = await cli(['frobnicate', '--help']);
    expect({ code: unknown.code, stdout: unknown.stdout }).toEqual({ code: 2, stdout: '' });
    expect(unknown.stderr).toContain("error: unknown command 'frobnicate'");
    const missing = await cli(['coordinator', 'token', 'create']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error: required option '--site <name>' not specified");
  });
});
