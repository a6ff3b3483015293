import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  GetSurvivorSetResponse,
  GetUnmaskRequestResponse,
  NodeEvent,
  SubmitMaskedSummaryRequest,
  SubmitSurvivorSignatureRequest,
  SubmitSurvivorSignatureResponse,
  SubmitUnmaskSharesRequest,
  SubmitUnmaskSharesResponse,
} from '@fedistill/wire';
import { splitBreastCancer } from '../../apps/cli/src/demo/demo-data';
import type { RoundView } from '../../apps/coordinator/src/rounds/round-view';
import { MaliciousCoordinator, type Tamper } from './support/malicious-coordinator';
import {
  admin,
  type CoordinatorFixture,
  enrolNodeWithCli,
  exited,
  spawnCli,
  startCoordinatorProcess,
  waitFor,
} from './support/processes';
import { auditRows } from './support/node-logs';
import { createBreastCancerFederation, prepareSiteNode, uploadReference } from './support/site-nodes';

const REPO = path.resolve(__dirname, '..', '..');
const SITES = ['site-a', 'site-b', 'site-c', 'site-d'];
const FEDERATION = 'attacked';

function ledgerEntries(dir: string): { label: string }[] {
  const file = path.join(dir, 'privacy-ledger.json');
  if (!fs.existsSync(file)) return [];
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { entries: { label: string }[] }).entries;
}

/**
 * Real node processes whose coordinator deviates from the protocol. The deviating coordinator is
 * the real one behind a proxy that holds its TLS certificate and key (`MaliciousCoordinator`):
 * to the nodes it is the coordinator. Each test arms one deviation and checks what the nodes did
 * and what the coordinator ended up holding.
 */
describe('node processes against a malicious coordinator', () => {
  let fx: CoordinatorFixture;
  let evil: MaliciousCoordinator;
  const nodes = new Map<string, ChildProcess>();
  const dirs: Record<string, string> = {};
  let tamper: Tamper = ({ response }) => response;
  let onRequest: (call: { path: string; site: string; body: Buffer }) => void = () => undefined;
  let intercept: (call: { path: string; site: string; body: Buffer }) => Buffer | undefined = () => undefined;

  const startNode = (site: string) =>
    nodes.set(site, spawnCli(['node', 'start', '--dir', dirs[site]!], path.join(fx.dir, `${site}.log`)));

  const online = (expected: number) =>
    waitFor(`${expected} sites online`, 60_000, async () => {
      const { body } = await admin<{ sites: { online: boolean }[] }>(fx, 'GET', '/api/v1/sites');
      return body.sites.filter((s) => s.online).length === expected ? true : undefined;
    });

  const rounds = async (): Promise<RoundView[]> =>
    (await admin<{ rounds: RoundView[] }>(fx, 'GET', `/api/v1/federations/${FEDERATION}/rounds`)).body.rounds;

  const finished = (n: number) =>
    waitFor(`round ${n} to finish`, 120_000, async () => {
      const r = (await rounds()).find((x) => x.round === n);
      return r && r.status !== 'open' ? r : undefined;
    });

  beforeAll(async () => {
    fx = await startCoordinatorProcess({ heartbeatInterval: '500ms', offlineAfter: '4s' });
    evil = new MaliciousCoordinator({
      upstream: fx.grpcAddress,
      caFile: fx.caFile,
      certFile: path.join(fx.dir, 'pki', 'coordinator.crt'),
      keyFile: path.join(fx.dir, 'pki', 'coordinator.key'),
      tamper: (call) => tamper(call),
      onRequest: (call) => onRequest(call),
      intercept: (call) => intercept(call),
    });
    const address = await evil.listen();
    const split = await splitBreastCancer(REPO, SITES.length);
    for (const [i, site] of SITES.entries()) {
      dirs[site] = await enrolNodeWithCli(fx, site, undefined, address);
      prepareSiteNode(dirs[site], split.hospitals[i]!, {
        teachers: { count: 4, hidden: [8], epochs: 10, batchSize: 8 },
        epsilonLimit: 100,
      });
      startNode(site);
    }
    await createBreastCancerFederation(fx, {
      id: FEDERATION,
      referenceSha256: await uploadReference(fx, split.reference),
      members: SITES,
      dirs,
      noiseMultiplier: 1.5,
      dropoutTolerance: 1,
      rounds: {
        minSites: 3,
        queriesPerRound: 10,
        deadlines: {
          advertiseKeys: '15s',
          shareKeys: '10s',
          maskedInput: '15s',
          consistency: '8s',
          unmask: '10s',
        },
      },
    });
    await online(SITES.length);
  }, 300_000);

  afterAll(async () => {
    for (const n of nodes.values()) n.kill('SIGTERM');
    await Promise.all([...nodes.values()].map((n) => exited(n)));
    await evil?.close();
    await fx?.stop();
  });

  it('a node killed the moment its masked summary reaches the coordinator has already charged its ledger', async () => {
    const victim = 'site-d';
    let killedOnArrival = false;
    onRequest = ({ path: method, site }) => {
      if (site !== victim || !method.endsWith('/SubmitMaskedSummary') || killedOnArrival) return;
      // The bytes have left the node: kill it before it can do anything else.
      nodes.get(victim)!.kill('SIGKILL');
      killedOnArrival = true;
    };
    const before = ledgerEntries(dirs[victim]!).length;
    expect((await admin(fx, 'POST', `/api/v1/federations/${FEDERATION}/rounds`, {})).status).toBe(201);
    await waitFor('the victim killed as its summary arrives', 120_000, () =>
      killedOnArrival ? true : undefined,
    );
    await exited(nodes.get(victim)!);
    onRequest = () => undefined;
    const round = (await rounds()).at(-1)!.round;
    const entries = ledgerEntries(dirs[victim]!);
    expect(entries).toHaveLength(before + 1);
    expect(entries.at(-1)?.label).toBe(`${FEDERATION}#${round}`);
    // The egress log holds the masked summary with the same charge.
    const sent = auditRows(dirs[victim]!).filter(
      (r) => r.kind === 'Rounds/SubmitMaskedSummary' && r.round === String(round),
    );
    expect(sent).toHaveLength(1);
    expect(Number(sent[0]!.epsilon)).toBeGreaterThan(0);
    await finished(round);
    startNode(victim);
    await online(SITES.length);
  });

  /**
   * Finding 2: the coordinator shows two groups of sites two different survivor sets (to one
   * group the target dropped, so they would reveal its mask-key share; to the other it
   * survived, so they would reveal its seed share: both together unmask its input). It plays
   * the consistency round itself: it keeps the sites' signatures (and does not forward them) and
   * builds each site's unmask request from its own view and every signature it collected.
   */
  function splitViews(
    views: (
      site: string,
      real: GetSurvivorSetResponse,
      ids: ReadonlyMap<string, number>,
    ) => GetSurvivorSetResponse,
    forward: boolean,
    onlySameView = false,
  ) {
    const ids = new Map<string, number>();
    const sharerSignatures = new Map<number, Buffer>();
    const shown = new Map<string, GetSurvivorSetResponse>();
    const signatures = new Map<number, Buffer>();
    const revealed: { site: string; shares: SubmitUnmaskSharesRequest['shares'] }[] = [];
    const answered = new Set<string>();
    const sameView = (signer: number, view: GetSurvivorSetResponse) => {
      const name = [...ids].find(([, id]) => id === signer)?.[0];
      const theirs = name === undefined ? undefined : shown.get(name);
      return JSON.stringify(theirs) === JSON.stringify(view);
    };
    tamper = ({ path: method, site, response }) => {
      if (method.endsWith('/Subscribe')) {
        const event = NodeEvent.decode(response).event;
        if (event?.$case === 'roundAnnounced')
          for (const p of event.value.participants) ids.set(p.siteName, p.siteId);
      }
      if (method.endsWith('/GetSurvivorSet')) {
        const view = views(site, GetSurvivorSetResponse.decode(response), ids);
        shown.set(site, view);
        return Buffer.from(GetSurvivorSetResponse.encode(view).finish());
      }
      return response;
    };
    intercept = ({ path: method, site, body }) => {
      const id = ids.get(site);
      if (id === undefined) return undefined;
      if (method.endsWith('/SubmitMaskedSummary'))
        sharerSignatures.set(id, Buffer.from(SubmitMaskedSummaryRequest.decode(body).sharersSignature));
      if (method.endsWith('/SubmitSurvivorSignature')) {
        signatures.set(id, Buffer.from(SubmitSurvivorSignatureRequest.decode(body).signature));
        // Signatures over the real set may go on to the coordinator (its round then completes).
        return forward ? undefined : Buffer.from(SubmitSurvivorSignatureResponse.encode({}).finish());
      }
      if (method.endsWith('/GetUnmaskRequest') && signatures.size === SITES.length) {
        const view = shown.get(site)!;
        answered.add(site);
        return Buffer.from(
          GetUnmaskRequestResponse.encode({
            survivors: view.survivors,
            dropped: view.dropped,
            survivorSignatures: [...signatures]
              .filter(([signer]) => !onlySameView || sameView(signer, view))
              .map(([siteId, signature]) => ({ siteId, signature })),
            sharerSignatures: [...sharerSignatures].map(([siteId, signature]) => ({ siteId, signature })),
          }).finish(),
        );
      }
      if (method.endsWith('/SubmitUnmaskShares')) {
        revealed.push({ site, shares: SubmitUnmaskSharesRequest.decode(body).shares });
        return forward ? undefined : Buffer.from(SubmitUnmaskSharesResponse.encode({}).finish());
      }
      return undefined;
    };
    return { ids, revealed, answered };
  }

  const declinesSince = (site: string, seq: number) =>
    auditRows(dirs[site]!)
      .slice(seq)
      .filter((r) => r.kind === 'Rounds/DeclineRound' || r.event === 'refusal');

  async function playRound(views: Parameters<typeof splitViews>[0], forward = false, onlySameView = false) {
    const marks = Object.fromEntries(SITES.map((s) => [s, auditRows(dirs[s]!).length]));
    const attack = splitViews(views, forward, onlySameView);
    expect((await admin(fx, 'POST', `/api/v1/federations/${FEDERATION}/rounds`, {})).status).toBe(201);
    const round = (await rounds()).at(-1)!.round;
    await waitFor('every site to answer or refuse its unmask request', 120_000, () =>
      SITES.every((s) => attack.revealed.some((r) => r.site === s) || declinesSince(s, marks[s]!).length > 0)
        ? true
        : undefined,
    );
    const outcome = await finished(round);
    tamper = ({ response }) => response;
    intercept = () => undefined;
    return { ...attack, marks, outcome };
  }

  it('control: the same adversary with one survivor set for everybody gets every site to reveal', async () => {
    const { revealed, answered, outcome } = await playRound((_site, real) => real, true);
    expect([...answered].sort()).toEqual(SITES);
    expect(revealed.map((r) => r.site).sort()).toEqual(SITES);
    expect(outcome.status).toBe('completed');
  });

  it.each([
    ['every signature it collected', false],
    ["only the signatures of the requester's own group", true],
  ])(
    'finding 2: two groups shown two survivor sets reveal nothing (unmask requests carry %s); every site refuses and says why',
    async (_what, onlySameView) => {
      const target = 'site-d';
      const { revealed, answered, marks, outcome } = await playRound(
        (site, real, ids) =>
          ['site-a', 'site-b'].includes(site)
            ? {
                survivors: real.survivors.filter((id) => id !== ids.get(target)),
                dropped: [ids.get(target)!],
              }
            : real,
        false,
        onlySameView,
      );
      expect([...answered].sort()).toEqual(SITES);
      // Nothing was revealed: not the target's seed, not its mask key, nobody's anything.
      expect(revealed).toEqual([]);
      for (const site of SITES) {
        const refusals = declinesSince(site, marks[site]!);
        expect(refusals.length).toBeGreaterThan(0);
        expect(refusals.map((r) => r.detail).join(' ')).toMatch(/signature|survivor|quorum/i);
      }
      // The coordinator's own round never got its signatures: it abandons, releasing nothing.
      expect(outcome.status).toBe('abandoned');
    },
  );

  it('finding 2: a survivor set padded with invented site ids is not signed', async () => {
    const { revealed, marks } = await playRound((_site, real) => ({
      survivors: [...real.survivors, 200, 201, 202].sort((a, b) => a - b),
      dropped: real.dropped,
    }));
    expect(revealed).toEqual([]);
    for (const site of SITES) {
      expect(
        auditRows(dirs[site]!)
          .slice(marks[site]!)
          .some((r) => r.kind === 'Rounds/SubmitSurvivorSignature'),
      ).toBe(false);
      expect(declinesSince(site, marks[site]!).length).toBeGreaterThan(0);
    }
  });
});
