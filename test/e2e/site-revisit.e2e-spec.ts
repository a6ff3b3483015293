import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { splitBreastCancer } from '../../apps/cli/src/demo/demo-data';
import type { RoundView } from '../../apps/coordinator/src/rounds/round-view';
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
import { MaliciousCoordinator } from './support/malicious-coordinator';
import { GetReleasedTargetsResponse } from '@fedistill/wire';

const REPO = path.resolve(__dirname, '..', '..');
// Three sites: a node's default floor on a round's participants (security.minParticipants).
const SITES = ['st-marys', 'riverside', 'northgate'];
const QUERIES = 40;

/**
 * Digest and revisit at the sites (FedMD, arXiv:1910.03581, §2) with real node processes over
 * TLS: before round 2 each node downloads the released targets of round 1 through its egress
 * path (Rounds/GetReleasedTargets, on its signed log), fine-tunes its own teachers on them and on
 * its own partitions, and answers round 2 at the same per-round charge as round 1.
 */
describe('digest and revisit at the sites', () => {
  let fx: CoordinatorFixture;
  let evil: MaliciousCoordinator;
  let referenceRows = 0;
  const nodes: ChildProcess[] = [];
  const dirs: Record<string, string> = {};
  /** What the coordinator answers a site's GetReleasedTargets instead of the truth (undefined: the truth). */
  let forge: ((site: string) => GetReleasedTargetsResponse | undefined) | undefined;

  beforeAll(async () => {
    fx = await startCoordinatorProcess({ heartbeatInterval: '1s', offlineAfter: '4s' });
    // The nodes talk to the coordinator through a proxy holding its TLS key: honest until a test
    // sets `forge`, then a coordinator sending the targets it likes.
    evil = new MaliciousCoordinator({
      upstream: fx.grpcAddress,
      caFile: fx.caFile,
      certFile: path.join(fx.dir, 'pki', 'coordinator.crt'),
      keyFile: path.join(fx.dir, 'pki', 'coordinator.key'),
      tamper: ({ response }) => response,
      intercept: ({ path: method, site }) => {
        const forged = method.endsWith('/GetReleasedTargets') ? forge?.(site) : undefined;
        return forged && Buffer.from(GetReleasedTargetsResponse.encode(forged).finish());
      },
    });
    const address = await evil.listen();
    const split = await splitBreastCancer(REPO, SITES.length);
    referenceRows = split.reference.count;
    for (const [i, site] of SITES.entries()) {
      const dir = await enrolNodeWithCli(fx, site, undefined, address);
      dirs[site] = dir;
      prepareSiteNode(dir, split.hospitals[i]!, {
        teachers: { count: 3, hidden: [8], epochs: 5, batchSize: 8 },
        epsilonLimit: 100,
      });
      nodes.push(spawnCli(['node', 'start', '--dir', dir], path.join(fx.dir, `${site}.log`)));
    }
    const referenceSha256 = await uploadReference(fx, split.reference);
    await createBreastCancerFederation(fx, {
      id: 'revisit',
      referenceSha256,
      members: SITES,
      dirs,
      noiseMultiplier: 2,
      rounds: { minSites: 3, queriesPerRound: QUERIES, maxRounds: 4 },
      revisit: { digestEpochs: 2, localEpochs: 1, learningRate: 0.01 },
    });
    await waitFor('every node online', 60_000, async () => {
      const { body } = await admin<{ sites: { online: boolean }[] }>(fx, 'GET', '/api/v1/sites');
      return body.sites.length === SITES.length && body.sites.every((s) => s.online) ? true : undefined;
    });
  });

  afterAll(async () => {
    for (const n of nodes) n.kill('SIGTERM');
    await Promise.all(nodes.map((n) => exited(n)));
    await evil?.close();
    await fx?.stop();
  });

  async function round(n: number): Promise<RoundView> {
    const started = await admin<RoundView>(fx, 'POST', '/api/v1/federations/revisit/rounds', {});
    expect(started).toMatchObject({ status: 201 });
    return waitFor(`round ${n}`, 90_000, async () => {
      const { body } = await admin<{ rounds: RoundView[] }>(fx, 'GET', '/api/v1/federations/revisit/rounds');
      const r = body.rounds.find((x) => x.round === n);
      return r && r.status !== 'open' ? r : undefined;
    });
  }

  it('downloads the released targets on the record, revisits, and answers round 2 at the same charge', async () => {
    expect((await round(1)).status).toBe('completed');
    for (const site of SITES)
      expect(auditRows(dirs[site]!).filter((e) => e.kind === 'Rounds/GetReleasedTargets')).toEqual([]);
    expect((await round(2)).status).toBe('completed');
    for (const site of SITES) {
      const rows = auditRows(dirs[site]!);
      const asked = rows.filter((e) => e.event === 'egress' && e.kind === 'Rounds/GetReleasedTargets');
      expect(asked).toEqual([expect.objectContaining({ federation: 'revisit', round: '2' })]);
      // It asked before it sent its round-2 summary.
      const summaries = rows.filter((e) => e.event === 'egress' && e.kind === 'Rounds/SubmitMaskedSummary');
      expect(summaries.map((e) => e.round)).toEqual(['1', '2']);
      expect(asked[0]!.seq).toBeLessThan(summaries[1]!.seq);
      // Digesting the released targets is post-processing: round 2 costs what round 1 did.
      expect(Number(summaries[1]!.epsilon)).toBeGreaterThan(0);
      expect(Number(summaries[1]!.epsilon)).toBe(Number(summaries[0]!.epsilon));
      const log = fs.readFileSync(path.join(fx.dir, `${site}.log`), 'utf8');
      const revisits = log.split('\n').filter((l) => l.includes('revisit: teachers digested'));
      expect(revisits).toHaveLength(1);
      expect(JSON.parse(revisits[0]!)).toMatchObject({
        federation: 'revisit',
        round: 2,
        rounds: [1],
        rows: QUERIES,
      });
    }
  });

  it("a malicious coordinator's targets: malformed ones are refused and the round declined, poisoned ones cost nothing extra", async () => {
    const victim = 'st-marys';
    const f32 = (values: number[]) => {
      const b = Buffer.alloc(values.length * 4);
      values.forEach((v, i) => b.writeFloatLE(v, i * 4));
      return b;
    };
    const charges = (site = victim) =>
      auditRows(dirs[site]!)
        .filter((e) => e.event === 'egress' && e.kind === 'Rounds/SubmitMaskedSummary')
        .map((e) => ({ round: e.round, epsilon: Number(e.epsilon) }));
    // A row past the end of the reference set.
    forge = (site) =>
      site === victim
        ? { rows: [referenceRows], numClasses: 2, probs: f32([1, 0]), totalRows: 1, rounds: [1, 2] }
        : undefined;
    const r3 = await round(3);
    expect(r3.status).toBe('abandoned');
    expect(r3.declines).toEqual([
      expect.objectContaining({
        site: victim,
        detail: expect.stringContaining(
          `the released targets before round 3 are refused: row ${referenceRows} is outside the reference set's ${referenceRows} rows`,
        ),
      }),
    ]);
    expect(charges().map((c) => c.round)).toEqual(['1', '2']);
    // Valid but poisoned: every reference row "released" as certainly malignant.
    forge = (site) =>
      site === victim
        ? {
            rows: Array.from({ length: referenceRows }, (_, i) => i),
            numClasses: 2,
            probs: f32(Array.from({ length: referenceRows }, () => [1, 0]).flat()),
            totalRows: referenceRows,
            rounds: [1, 2],
          }
        : undefined;
    expect((await round(4)).status).toBe('completed');
    const log = fs.readFileSync(path.join(fx.dir, `${victim}.log`), 'utf8');
    const revisits = log.split('\n').filter((l) => l.includes('revisit: teachers digested'));
    expect(JSON.parse(revisits.at(-1)!)).toMatchObject({ round: 4, rounds: [1, 2], rows: referenceRows });
    // Still clipped, noised and charged from the announced terms alone: the poisoned site pays for
    // round 4 exactly what the sites given the true targets pay (the same teacher count and trust).
    const paid = charges();
    expect(paid.map((c) => c.round)).toEqual(['1', '2', '4']);
    expect(paid[2]!.epsilon).toBeGreaterThan(0);
    for (const site of SITES.filter((x) => x !== victim))
      expect(charges(site).find((c) => c.round === '4')!.epsilon).toBe(paid[2]!.epsilon);
  });
});
