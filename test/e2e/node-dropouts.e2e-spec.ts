import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type DemoSplit, splitBreastCancer } from '../../apps/cli/src/demo/demo-data';
import type { RoundView } from '../../apps/coordinator/src/rounds/round-view';
import {
  admin,
  type CoordinatorFixture,
  enrolNodeWithCli,
  exited,
  freePort,
  spawnCli,
  startCoordinatorProcess,
  waitFor,
} from './support/processes';
import { createBreastCancerFederation, prepareSiteNode, uploadReference } from './support/site-nodes';

const REPO = path.resolve(__dirname, '..', '..');
const SITES = ['site-a', 'site-b', 'site-c', 'site-d'];
const FEDERATION = 'dropouts';

const ledgerLabels = (dir: string): string[] => {
  const file = path.join(dir, 'privacy-ledger.json');
  if (!fs.existsSync(file)) return [];
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { entries: { label: string }[] }).entries.map(
    (e) => e.label,
  );
};

/**
 * Node processes killed mid-round (SIGKILL), once after sending their round keys and once after
 * sending their masked input. A dropout drill in node.yaml holds site-d at the chosen point so
 * the kill lands exactly there; the other three nodes answer normally. Four sites, because with a
 * full mesh and threshold 2 each survivor then keeps two neighbours (see rounds.e2e-spec.ts).
 */
describe('node processes killed mid-round', () => {
  let fx: CoordinatorFixture;
  const nodes = new Map<string, ChildProcess>();
  const dirs: Record<string, string> = {};
  let split: DemoSplit;

  function startNode(site: string): void {
    nodes.set(site, spawnCli(['node', 'start', '--dir', dirs[site]!], path.join(fx.dir, `${site}.log`)));
  }

  const online = async (expected: number) =>
    waitFor(`${expected} sites online`, 60_000, async () => {
      const { body } = await admin<{ sites: { name: string; online: boolean }[] }>(
        fx,
        'GET',
        '/api/v1/sites',
      );
      return body.sites.filter((s) => s.online).length === expected ? true : undefined;
    });

  beforeAll(async () => {
    // Liveness generous enough for a loaded machine, short enough to see a killed node go.
    fx = await startCoordinatorProcess({
      heartbeatInterval: '500ms',
      offlineAfter: '4s',
      grpcPort: await freePort(),
    });
    split = await splitBreastCancer(REPO, SITES.length);
    for (const [i, site] of SITES.entries()) {
      dirs[site] = await enrolNodeWithCli(fx, site);
      configure(site, i, site === 'site-d' ? 'keys' : undefined);
      startNode(site);
    }
    await createBreastCancerFederation(fx, {
      id: FEDERATION,
      referenceSha256: await uploadReference(fx, split.reference),
      members: SITES,
      dirs,
      noiseMultiplier: 1.5,
      dropoutTolerance: 1,
      // Short stages: a killed node is waited for until its stage's deadline.
      rounds: {
        minSites: 3,
        queriesPerRound: 10,
        deadlines: { advertiseKeys: '10s', shareKeys: '6s', maskedInput: '10s', unmask: '6s' },
      },
    });
    await online(4);
  });

  const configure = (site: string, i: number, drill?: 'keys' | 'input') =>
    prepareSiteNode(dirs[site]!, split.hospitals[i]!, {
      teachers: { count: 4, hidden: [8], epochs: 10, batchSize: 8 },
      epsilonLimit: 100,
      drill,
    });

  afterAll(async () => {
    for (const n of nodes.values()) n.kill('SIGTERM');
    await Promise.all([...nodes.values()].map((n) => exited(n)));
    await fx.stop();
  });

  async function rounds(): Promise<RoundView[]> {
    return (await admin<{ rounds: RoundView[] }>(fx, 'GET', `/api/v1/federations/${FEDERATION}/rounds`)).body
      .rounds;
  }

  async function killWhen(n: number, what: (r: RoundView) => boolean): Promise<void> {
    await waitFor(`site-d's message in round ${n}`, 60_000, async () => {
      const r = (await rounds()).find((x) => x.round === n);
      return r && what(r) ? true : undefined;
    });
    const node = nodes.get('site-d')!;
    node.kill('SIGKILL');
    await exited(node);
  }

  const finished = (n: number) =>
    waitFor(`round ${n} to finish`, 90_000, async () => {
      const r = (await rounds()).find((x) => x.round === n);
      return r && r.status !== 'open' ? r : undefined;
    });

  it('completes without a node killed after it sent its keys; nothing of it is in the sum or its ledger', async () => {
    expect((await admin(fx, 'POST', `/api/v1/federations/${FEDERATION}/rounds`, {})).status).toBe(201);
    await killWhen(1, (r) => r.keysFrom.includes('site-d'));
    const r = await finished(1);
    expect({ status: r.status, reason: r.reason }).toEqual({ status: 'completed', reason: null });
    expect(r.keysFrom).toContain('site-d');
    expect([...r.inputsFrom].sort()).toEqual(['site-a', 'site-b', 'site-c']);
    expect(ledgerLabels(dirs['site-d']!)).toEqual([]);
    for (const s of ['site-a', 'site-b', 'site-c'])
      expect(ledgerLabels(dirs[s]!)).toEqual([`${FEDERATION}#1`]);
    // The student is trained from the survivors' sum and published as usual.
    await waitFor('student v1', 60_000, async () => {
      const { body } = await admin<{ students: { rounds: number[] }[] }>(
        fx,
        'GET',
        `/api/v1/federations/${FEDERATION}/students`,
      );
      return body.students.some((s) => s.rounds.includes(1)) ? true : undefined;
    });
  });

  it('includes a node killed after it sent its masked input: the others reveal what removes its masks', async () => {
    configure('site-d', 3, 'input');
    startNode('site-d');
    await online(4);
    // Its heartbeat makes the restarted site online before its event stream may be open; the
    // coordinator replays a pending round's announcement when the stream opens.
    expect((await admin(fx, 'POST', `/api/v1/federations/${FEDERATION}/rounds`, {})).status).toBe(201);
    await killWhen(2, (r) => r.inputsFrom.includes('site-d'));
    const r = await finished(2);
    expect({ status: r.status, reason: r.reason }).toEqual({ status: 'completed', reason: null });
    expect([...r.inputsFrom].sort()).toEqual(SITES);
    // site-d spent its budget on this round: its input is in the released sum.
    expect(ledgerLabels(dirs['site-d']!)).toEqual([`${FEDERATION}#2`]);
  });

  it('resumes a round after the coordinator is killed mid-round, and the nodes finish it', async () => {
    // site-d sends its keys and then nothing, so the round waits at the share stage until its
    // deadline: the coordinator is killed there and restarted on the same port.
    configure('site-d', 3, 'keys');
    startNode('site-d');
    await online(4);
    expect((await admin(fx, 'POST', `/api/v1/federations/${FEDERATION}/rounds`, {})).status).toBe(201);
    await waitFor('round 3 at the share stage with all keys', 30_000, async () => {
      const r = (await rounds()).find((x) => x.round === 3);
      return r && r.stage === 'shares' && r.keysFrom.length === 4 ? true : undefined;
    });
    await fx.restart();
    const r = await finished(3);
    expect({ status: r.status, reason: r.reason }).toEqual({ status: 'completed', reason: null });
    expect([...r.inputsFrom].sort()).toEqual(['site-a', 'site-b', 'site-c']);
    expect(fs.readFileSync(fx.logFile, 'utf8')).toContain('resumed open rounds');
    for (const s of ['site-a', 'site-b', 'site-c'])
      expect(ledgerLabels(dirs[s]!)).toContain(`${FEDERATION}#3`);
  });
});
