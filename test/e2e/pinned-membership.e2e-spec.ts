import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { AuditChain, MemoryAuditLogStore } from '@fedistill/audit';
import { generateSiteKeys } from '@fedistill/identity';
import { NodeSessionService } from '@fedistill/wire';
import { splitBreastCancer } from '../../apps/cli/src/demo/demo-data';
import type { RoundView } from '../../apps/coordinator/src/rounds/round-view';
import { NodeEgress } from '../../apps/node/src/egress';
import { keyFingerprint } from '../../apps/node/src/approved-roster';
import {
  admin,
  cli,
  type CoordinatorFixture,
  enrolNodeWithCli,
  exited,
  spawnCli,
  startCoordinatorProcess,
  waitFor,
} from './support/processes';
import { auditRows } from './support/node-logs';
import {
  approveRoster,
  expectedRosterFingerprint,
  prepareSiteNode,
  uploadReference,
} from './support/site-nodes';
import { WireSite } from './support/wire-site';

const REPO = path.resolve(__dirname, '..', '..');
const SITES = ['st-marys', 'riverside', 'northgate'];

/**
 * Pinned membership against a coordinator that enrols its own sites or swaps a site's identity
 * key in its database: real node processes over TLS, each with its operator's approved roster,
 * refuse the round, say why to the coordinator and in their logs, and send nothing of the round.
 */
describe('pinned membership (node processes)', () => {
  let fx: CoordinatorFixture;
  const nodes = new Map<string, ChildProcess>();
  const dirs: Record<string, string> = {};
  let referenceSha256 = '';
  const approvals = (site: string) => path.join(dirs[site]!, 'approved-rosters.json');

  beforeAll(async () => {
    fx = await startCoordinatorProcess({ heartbeatInterval: '500ms', offlineAfter: '4s' });
    const split = await splitBreastCancer(REPO, SITES.length);
    for (const [i, site] of SITES.entries()) {
      dirs[site] = await enrolNodeWithCli(fx, site);
      prepareSiteNode(dirs[site]!, split.hospitals[i]!, {
        teachers: { count: 4, hidden: [8], epochs: 10, batchSize: 8 },
        epsilonLimit: 100,
      });
      nodes.set(site, spawnCli(['node', 'start', '--dir', dirs[site]!], path.join(fx.dir, `${site}.log`)));
    }
    referenceSha256 = await uploadReference(fx, split.reference);
    await waitFor('every node online', 60_000, async () => {
      const { body } = await admin<{ sites: { online: boolean }[] }>(fx, 'GET', '/api/v1/sites');
      return body.sites.length === SITES.length && body.sites.every((s) => s.online) ? true : undefined;
    });
  });

  afterAll(async () => {
    for (const n of nodes.values()) n.kill('SIGTERM');
    await Promise.all([...nodes.values()].map((n) => exited(n)));
    await fx.stop();
  });

  async function federation(id: string, members: readonly string[]): Promise<void> {
    const created = await admin(fx, 'POST', '/api/v1/federations', {
      id,
      labels: ['malignant', 'benign'],
      input: { shape: [30] },
      referenceSet: { sha256: referenceSha256 },
      student: { architecture: 'mlp', hidden: [8] },
      privacy: { mechanism: 'skellam', noiseMultiplier: 1.5, epsilonCap: 50 },
      secureAggregation: { dropoutTolerance: 0 },
      rounds: { minSites: 3, queriesPerRound: 10, deadlines: { advertiseKeys: '8s' } },
    });
    expect(created.status).toBe(201);
    for (const site of members) await admin(fx, 'POST', `/api/v1/federations/${id}/sites`, { site });
  }

  async function round(id: string): Promise<RoundView> {
    const started = await admin<RoundView>(fx, 'POST', `/api/v1/federations/${id}/rounds`, {});
    expect(started.status).toBe(201);
    return waitFor(`round 1 of ${id}`, 60_000, async () => {
      const { body } = await admin<{ rounds: RoundView[] }>(fx, 'GET', `/api/v1/federations/${id}/rounds`);
      const r = body.rounds.find((x) => x.round === 1);
      return r && r.status !== 'open' && r.declines.length >= 2 ? r : undefined;
    });
  }

  /** Every honest node refused with `reason`, logged it, and sent nothing of the round but its refusal. */
  function expectRefusedEverywhere(id: string, sites: readonly string[], r: RoundView, reason: RegExp): void {
    expect(r.inputsFrom).toEqual([]);
    expect(r.keysFrom.filter((s) => sites.includes(s))).toEqual([]);
    for (const site of sites) {
      expect(r.declines).toContainEqual(
        expect.objectContaining({ site, detail: expect.stringMatching(reason) }),
      );
      const rows = auditRows(dirs[site]!).filter((e) => e.federation === id && e.round === '1');
      expect(rows.filter((e) => e.event === 'refusal').map((e) => e.detail)).toEqual([
        expect.stringMatching(reason),
      ]);
      expect(rows.filter((e) => e.event === 'egress').map((e) => e.kind)).toEqual(['Rounds/DeclineRound']);
      // What it was told is on its record: each participant with its key fingerprint.
      const told = rows.find((e) => e.event === 'received' && e.kind === 'NodeSession/RoundAnnounced');
      expect(JSON.parse(told?.detail ?? '{}')).toMatchObject({ participants: expect.any(Array) });
      expect(fs.readFileSync(path.join(fx.dir, `${site}.log`), 'utf8')).toMatch(/round declined/);
    }
  }

  it('the approve command shows each key fingerprint, refuses a wrong fingerprint or an unknown federation, and changes nothing', async () => {
    await federation('pinned', SITES);
    const dir = dirs['st-marys']!;
    const unknown = await cli(['node', 'federation', 'approve', 'nope', '--dir', dir, '--yes']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/federation 'nope' does not exist at the coordinator/);
    const wrong = await cli([
      'node',
      'federation',
      'approve',
      'pinned',
      '--dir',
      dir,
      '--expect-fingerprint',
      '00'.repeat(32),
    ]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/is not the expected .*nothing was approved/);
    const { body } = await admin<{ sites: { name: string; signingPublicKey: string }[] }>(
      fx,
      'GET',
      '/api/v1/sites',
    );
    for (const s of body.sites)
      expect(wrong.stdout).toMatch(new RegExp(`${s.name} +${keyFingerprint(s.signingPublicKey)}`));
    const unconfirmed = await cli(['node', 'federation', 'approve', 'pinned', '--dir', dir]);
    expect(unconfirmed.stderr).toMatch(/not approved: confirm interactively/);
    expect(fs.existsSync(approvals('st-marys'))).toBe(false);
    await approveRoster('pinned', SITES, dirs);
    const shown = await cli(['node', 'federation', 'show', 'pinned', '--dir', dir, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      fingerprint: expectedRosterFingerprint('pinned', SITES, dirs),
    });
    expect(fs.statSync(approvals('st-marys')).mode & 0o777).toBe(0o600);
  });

  it('a sybil site the coordinator enrols and adds after the approval: every node refuses the round and says why', async () => {
    const sybil = await WireSite.enrol(fx, 'intruder');
    try {
      await sybil.connect();
      await admin(fx, 'POST', '/api/v1/federations/pinned/sites', { site: 'intruder' });
      const r = await round('pinned');
      expect([...r.participants].sort()).toEqual([...SITES, 'intruder'].sort());
      expectRefusedEverywhere('pinned', SITES, r, /participant 'intruder' is not in the roster approved/);
    } finally {
      sybil.close();
    }
  });

  it("a site's identity key swapped in the coordinator's database: the other nodes refuse the round", async () => {
    await federation('rekeyed', SITES);
    await approveRoster('rekeyed', SITES, dirs);
    const victim = 'riverside';
    nodes.get(victim)!.kill('SIGTERM');
    await exited(nodes.get(victim)!);
    nodes.delete(victim);
    // The coordinator's operator swaps riverside's key for one it holds, and plays riverside.
    const forged = generateSiteKeys();
    const db = new Database(fx.dbFile);
    db.prepare('UPDATE sites SET signing_public_key = ? WHERE name = ?').run(
      Buffer.from(forged.signingPublicKey),
      victim,
    );
    db.close();
    const enrolment = JSON.parse(fs.readFileSync(path.join(dirs[victim]!, 'enrolment.json'), 'utf8')) as {
      coordinatorSigningPublicKey: string;
    };
    const impostor = new NodeEgress({
      audit: new AuditChain(new MemoryAuditLogStore(), victim, forged),
      address: fx.grpcAddress,
      caFile: fx.caFile,
      site: victim,
      keys: forged,
      serverName: 'localhost',
      coordinatorKey: enrolment.coordinatorSigningPublicKey,
    });
    const beat = () =>
      impostor.unary(NodeSessionService.heartbeat, { nodeVersion: 'impostor', activeRounds: [] });
    await beat();
    const timer = setInterval(() => void beat().catch(() => undefined), 300);
    // A session as a node keeps it: heartbeats and the event stream (a site whose stream closed,
    // as riverside's did when its node stopped, is offline until it subscribes again).
    const stream = await impostor.serverStream(NodeSessionService.subscribe, { afterEventId: 0 });
    stream.on('error', () => undefined);
    await new Promise((resolve) => stream.once('data', resolve)); // the welcome: the stream is registered
    try {
      const r = await round('rekeyed');
      const honest = SITES.filter((s) => s !== victim);
      expectRefusedEverywhere(
        'rekeyed',
        honest,
        r,
        /identity key of participant 'riverside' .* is not the approved one/,
      );
    } finally {
      clearInterval(timer);
      stream.cancel();
      impostor.close();
    }
  });
});
