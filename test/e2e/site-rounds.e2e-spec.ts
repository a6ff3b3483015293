import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
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
import { parsePrometheusText, sampleValue } from './support/prometheus-text';
import { createBreastCancerFederation, prepareSiteNode, uploadReference } from './support/site-nodes';
import {
  EVALUATION,
  exact,
  expectSoundAndClose,
  GAP,
  V_EVALUATION,
  QUERIES,
  V_VOTES,
  VOTES,
  Z,
} from './support/exact-charge';

const REPO = path.resolve(__dirname, '..', '..');
const SITES = ['st-marys', 'riverside', 'northgate'];
/** A fourth site, member of the tolerant federation only: with three sites under full-mesh masking
 * and threshold 2, a site lost before the share stage leaves each other site one neighbour, fewer
 * than t, so only a federation of four or more can proceed without one (Bell et al. CCS 2020). */
const ALL = [...SITES, 'eastgate'];

/** The per-site noise the announcement of `federation`#`round` asked this node to add, from its log. */
function announcedShare(
  dir: string,
  federation: string,
  round: number,
): { summary: string; siteStddev: number } {
  const told = auditRows(dir).find(
    (e) =>
      e.kind === 'NodeSession/RoundAnnounced' && e.federation === federation && e.round === String(round),
  );
  const d = JSON.parse(told!.detail) as { summary: string; noise: { siteStddev: number } };
  return { summary: d.summary, siteStddev: d.noise.siteStddev };
}

const ledger = (dir: string) =>
  JSON.parse(fs.readFileSync(path.join(dir, 'privacy-ledger.json'), 'utf8')) as {
    entries: { label: string; epsilonAfter: number }[];
  };

/**
 * Rounds answered by three real node processes over TLS: each trains its teachers on its own
 * records, prices the round with its own ledger, and answers through secure aggregation or
 * declines, reporting why.
 */
describe('rounds answered by node processes', () => {
  let fx: CoordinatorFixture;
  const nodes: ChildProcess[] = [];
  const dirs: Record<string, string> = {};
  let referenceSha256 = '';
  // Federations with assumedColluders 'all': each site adds the whole V, μ = V/2.
  const exact1 = exact(V_VOTES / 2, VOTES, 1);
  const exact2 = exact(V_VOTES / 2, VOTES, 2);
  // Between one round's charge (at most GAP x exact) and two rounds' (at least exact): a limit
  // and a cap that admit one round of these federations but not two.
  const oneRound = GAP * exact1.lower;

  beforeAll(async () => {
    fx = await startCoordinatorProcess({ heartbeatInterval: '1s', offlineAfter: '4s' });
    const split = await splitBreastCancer(REPO, ALL.length);
    for (const [i, site] of ALL.entries()) {
      const dir = await enrolNodeWithCli(fx, site);
      dirs[site] = dir;
      prepareSiteNode(dir, split.hospitals[i]!, {
        teachers: { count: 5, hidden: [8], epochs: 15, batchSize: 8 },
        // northgate can afford one round of these federations but not two.
        epsilonLimit: site === 'northgate' ? oneRound : 100,
      });
      // st-marys serves its own metrics (node.yaml metrics:, on loopback, any free port), and
      // lets `auto` choose its execution provider.
      if (site === 'st-marys') {
        const file = path.join(dir, 'node.yaml');
        const yaml = parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
        fs.writeFileSync(
          file,
          stringify({ ...yaml, metrics: { listen: '127.0.0.1:0' }, executionProvider: 'auto' }),
        );
      }
      nodes.push(spawnCli(['node', 'start', '--dir', dir], path.join(fx.dir, `${site}.log`)));
    }
    referenceSha256 = await uploadReference(fx, split.reference);
    await federation('strict', SITES, { dropoutTolerance: 0 });
    await federation('tolerant', ALL, { dropoutTolerance: 1 });
    await waitFor('every node online', 60_000, async () => {
      const { body } = await admin<{ sites: { online: boolean }[] }>(fx, 'GET', '/api/v1/sites');
      return body.sites.length === ALL.length && body.sites.every((s) => s.online) ? true : undefined;
    });
  });

  const federation = (
    id: string,
    members: readonly string[],
    o: {
      dropoutTolerance?: number;
      epsilonCap?: number;
      maxRounds?: number;
      assumedColluders?: number | 'all';
    } = {},
  ) =>
    createBreastCancerFederation(fx, {
      id,
      referenceSha256,
      members,
      dirs,
      noiseMultiplier: Z,
      summary: 'votes',
      epsilonCap: o.epsilonCap,
      dropoutTolerance: o.dropoutTolerance,
      assumedColluders: o.assumedColluders,
      rounds: { minSites: 2, queriesPerRound: QUERIES, maxRounds: o.maxRounds ?? 5 },
    });

  afterAll(async () => {
    for (const n of nodes) n.kill('SIGTERM');
    await Promise.all(nodes.map((n) => exited(n)));
    await fx.stop();
  });

  async function round(id: string, n: number, body: Record<string, unknown> = {}): Promise<RoundView> {
    const started = await admin<RoundView>(fx, 'POST', `/api/v1/federations/${id}/rounds`, body);
    expect(started.status).toBe(201);
    return waitFor(`round ${n} of ${id}`, 90_000, async () => {
      const { body } = await admin<{ rounds: RoundView[] }>(fx, 'GET', `/api/v1/federations/${id}/rounds`);
      const r = body.rounds.find((x) => x.round === n);
      return r && r.status !== 'open' ? r : undefined;
    });
  }

  it('completes a private round in which every site is charged at least the exact epsilon of its release (independent PLD oracle) and within the measured gap, the same in its ledger and its egress log', async () => {
    const r = await round('strict', 1);
    expect(r.status).toBe('completed');
    expect([...r.inputsFrom].sort()).toEqual([...SITES].sort());
    for (const site of SITES) {
      const entries = ledger(dirs[site]!).entries;
      expect(entries.map((e) => e.label)).toEqual(['strict#1']);
      const charged = entries[0]!.epsilonAfter;
      expectSoundAndClose(charged, exact1);
      // The oracle's noise is the noise the node was told to add and logged: votes, each site
      // the whole V (a wrong sensitivity in the shared planning code would show here).
      expect(announcedShare(dirs[site]!, 'strict', 1)).toEqual({
        summary: 'SUMMARY_KIND_VOTES',
        siteStddev: expect.closeTo(Math.sqrt(V_VOTES), 9),
      });
      const rows = auditRows(dirs[site]!);
      const sent = rows.filter((e) => e.event === 'egress' && e.kind === 'Rounds/SubmitMaskedSummary');
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ federation: 'strict', round: '1' });
      expect(Number(sent[0]!.epsilon)).toBeCloseTo(charged, 12);
      expect(Number(sent[0]!.epsilon_total)).toBeCloseTo(charged, 12);
      // The provider the round's teachers ran on, and why `auto` refused the others.
      const ready = rows.filter((e) => e.kind === 'Teachers/Ready' && e.federation === 'strict');
      expect(ready).toHaveLength(1);
      expect(ready[0]).toMatchObject({ event: 'round', round: '1' });
      const detail = JSON.parse(ready[0]!.detail) as {
        executionProvider: string;
        provider: string;
        refused: object;
      };
      expect(detail).toMatchObject({ teachers: 5, source: 'trained' });
      expect(detail.executionProvider).toBe(site === 'st-marys' ? 'auto' : 'cpu');
      // On a machine without GPU providers (CI) auto trains on cpu and says why for both.
      if (detail.provider === 'cpu' && site === 'st-marys')
        expect(Object.keys(detail.refused)).toEqual(['cuda', 'webgpu']);
    }
    // The coordinator trains and publishes the student; every node downloads it, checks its
    // digest against the StudentPublished event and evaluates it on its own test split.
    const student = await waitFor('student v1 of strict', 60_000, async () => {
      const { body } = await admin<{ students: { version: number; sha256: string }[] }>(
        fx,
        'GET',
        '/api/v1/federations/strict/students',
      );
      return body.students[0];
    });
    for (const site of SITES) {
      const file = path.join(dirs[site]!, 'federations', 'strict', 'students', 'v1', 'student.json');
      const record = await waitFor(`${site} to verify the student`, 60_000, () =>
        fs.existsSync(file)
          ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>)
          : undefined,
      );
      expect(record).toMatchObject({ version: 1, sha256: student.sha256, verified: true });
      expect(record.localAccuracy).toEqual(expect.any(Number));
      const onnx = fs.readFileSync(path.join(path.dirname(file), 'student.onnx'));
      expect(createHash('sha256').update(onnx).digest('hex')).toBe(student.sha256);
    }
  });

  it("serves /metrics to the operator's token only, with figures that match the round just run and each site's own ledger and log", async () => {
    const url = `${fx.adminUrl}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: `Bearer ${fx.operatorToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parsePrometheusText(await res.text());
    // One round so far, completed by all three sites; all four nodes are online.
    const rounds = m.get('fedistill_rounds_total')!.samples;
    expect(rounds).toEqual([
      {
        name: 'fedistill_rounds_total',
        labels: { federation: 'strict', kind: 'distill', outcome: 'completed' },
        value: 1,
      },
    ]);
    expect(sampleValue(m, 'fedistill_sites_online')).toBe(ALL.length);
    expect(sampleValue(m, 'fedistill_round_dropouts_total', { federation: 'strict' })).toBe(0);
    expect(m.get('fedistill_round_declines_total')!.samples).toEqual([]);
    expect(sampleValue(m, 'fedistill_round_stage_duration_seconds_count', { stage: 'unmask' })).toBe(1);
    expect(sampleValue(m, 'fedistill_student_training_seconds_count', { federation: 'strict' })).toBe(1);
    // The announced plan assumes every other participant may collude ('all'), so each paranoid
    // node's ledger charges what the coordinator composes from the plan: the same figure.
    let sent = 0;
    for (const site of SITES) {
      const charged = ledger(dirs[site]!).entries[0]!.epsilonAfter;
      const shown = sampleValue(m, 'fedistill_site_epsilon_spent', { federation: 'strict', site });
      expect(Math.abs(shown - charged) / charged).toBeLessThan(1e-9);
      const egress = auditRows(dirs[site]!).filter((e) => e.kind === 'Rounds/SubmitMaskedSummary');
      sent += egress.reduce((sum, e) => sum + Number(e.bytes), 0);
    }
    expect(sampleValue(m, 'fedistill_federation_epsilon_spent', { federation: 'strict' })).toBeCloseTo(
      ledger(dirs['st-marys']!).entries[0]!.epsilonAfter,
      9,
    );
    expect(sampleValue(m, 'fedistill_site_epsilon_spent', { federation: 'tolerant', site: 'eastgate' })).toBe(
      0,
    );
    // The bytes the coordinator received for the masked summaries are those the sites logged as sent.
    expect(sent).toBeGreaterThan(0);
    expect(
      sampleValue(m, 'fedistill_grpc_received_bytes_total', { method: 'Rounds/SubmitMaskedSummary' }),
    ).toBe(sent);
    expect(sampleValue(m, 'fedistill_admin_request_errors_total', { status: '401' })).toBe(2);

    // st-marys's own metrics, where its log says it serves them: its ledger and its egress log.
    const serving = fs
      .readFileSync(path.join(fx.dir, 'st-marys.log'), 'utf8')
      .split('\n')
      .map((line) => (line.startsWith('{') ? (JSON.parse(line) as { metrics?: string }) : {}))
      .find((l) => l.metrics)!.metrics!;
    expect(serving).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const own = parsePrometheusText(await (await fetch(serving)).text());
    const stMarys = dirs['st-marys']!;
    expect(
      sampleValue(own, 'fedistill_node_rounds_total', { federation: 'strict', outcome: 'answered' }),
    ).toBe(1);
    expect(sampleValue(own, 'fedistill_node_epsilon_spent')).toBe(ledger(stMarys).entries[0]!.epsilonAfter);
    expect(sampleValue(own, 'fedistill_node_epsilon_limit')).toBe(100);
    expect(sampleValue(own, 'fedistill_node_coordinator_connected')).toBe(1);
    expect(sampleValue(own, 'fedistill_node_teacher_training_seconds_count', { federation: 'strict' })).toBe(
      1,
    );
    expect(sampleValue(own, 'fedistill_node_sent_bytes_total', { kind: 'Rounds/SubmitMaskedSummary' })).toBe(
      auditRows(stMarys)
        .filter((e) => e.kind === 'Rounds/SubmitMaskedSummary')
        .reduce((sum, e) => sum + Number(e.bytes), 0),
    );
  });

  it('a site past its limit declines, says so in its log and to the coordinator; with no dropout tolerance the round is abandoned', async () => {
    const r = await round('strict', 2);
    expect(r.status).toBe('abandoned');
    expect(r.declines).toEqual([
      expect.objectContaining({ site: 'northgate', detail: expect.stringMatching(/past its limit/) }),
    ]);
    expect(r.reason).toMatch(/survivor|threshold|fewer/i);
    const refusals = auditRows(dirs.northgate!).filter((e) => e.event === 'refusal');
    expect(refusals).toEqual([expect.objectContaining({ federation: 'strict', round: '2' })]);
    // The refusal records what the ledger holds: one round spent, and the next past the limit.
    expect(Number(refusals[0]!.epsilon_total)).toBeCloseTo(
      ledger(dirs.northgate!).entries[0]!.epsilonAfter,
      12,
    );
    expect(exact2.lower).toBeGreaterThan(oneRound);
    // Nothing was released in the abandoned round: no site spent anything on it.
    for (const site of SITES) expect(ledger(dirs[site]!).entries.map((e) => e.label)).toEqual(['strict#1']);
  });

  it('with a dropout tolerance of one and four sites, the round proceeds without the declining site', async () => {
    const r = await round('tolerant', 1);
    expect({ status: r.status, reason: r.reason, declines: r.declines.length }).toEqual({
      status: 'completed',
      reason: null,
      declines: 1,
    });
    expect([...r.inputsFrom].sort()).toEqual(['eastgate', 'riverside', 'st-marys']);
    expect(r.declines.map((d) => d.site)).toEqual(['northgate']);
    expect(ledger(dirs['st-marys']!).entries.map((e) => e.label)).toEqual(['strict#1', 'tolerant#1']);
    expect(ledger(dirs.northgate!).entries.map((e) => e.label)).toEqual(['strict#1']);
    // Composition: st-marys and riverside have now answered two rounds of the same release,
    // eastgate one; each ledger total is checked against the exact curve composed that often.
    for (const site of ['st-marys', 'riverside', 'eastgate']) {
      const entries = ledger(dirs[site]!).entries;
      const total = entries.at(-1)!.epsilonAfter;
      expectSoundAndClose(total, entries.length === 2 ? exact2 : exact1);
      const sent = auditRows(dirs[site]!).filter(
        (e) => e.kind === 'Rounds/SubmitMaskedSummary' && e.federation === 'tolerant',
      );
      expect(Number(sent[0]!.epsilon_total)).toBeCloseTo(total, 12);
      expectSoundAndClose(Number(sent[0]!.epsilon), exact1);
    }
  });

  it("evaluates the published student on the sites' own test splits, securely aggregated, noised and charged", async () => {
    await waitFor('student v1 of tolerant', 60_000, async () => {
      const { body } = await admin<{ students: unknown[] }>(
        fx,
        'GET',
        '/api/v1/federations/tolerant/students',
      );
      return body.students.length > 0 ? true : undefined;
    });
    // Bad requests are refused with the field named, and open no round.
    const bad = await admin<{ error: string }>(fx, 'POST', '/api/v1/federations/tolerant/rounds', {
      evaluate: 'yes',
    });
    expect(bad).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^evaluate: /) } });
    const stray = await admin<{ error: string }>(fx, 'POST', '/api/v1/federations/tolerant/rounds', {
      studentVersion: 1,
    });
    expect(stray).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/studentVersion: only with/) },
    });
    const missing = await admin<{ error: string }>(fx, 'POST', '/api/v1/federations/tolerant/rounds', {
      evaluate: true,
      studentVersion: 9,
    });
    expect(missing).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/no student version 9/) },
    });
    const { body: before } = await admin<{ rounds: RoundView[] }>(
      fx,
      'GET',
      '/api/v1/federations/tolerant/rounds',
    );
    expect(before.rounds).toHaveLength(1);
    const r = await round('tolerant', 2, { evaluate: true });
    expect({ status: r.status, kind: r.kind, reason: r.reason }).toEqual({
      status: 'completed',
      kind: 'evaluation',
      reason: null,
    });
    expect(r.declines.map((d) => d.site)).toEqual(['northgate']);
    expect(r.evaluation).toMatchObject({ studentVersion: 1, accuracy: expect.any(Number) });
    expect(r.evaluation!.perClass).toHaveLength(2);
    // Per class, correct predictions and records: 4 counts move by one (see EVALUATION); each
    // site adds the whole V = (z·2)² (assumedColluders 'all') and counts only that share.
    const exactEvaluation = exact(V_EVALUATION / 2, EVALUATION, 1);
    for (const site of ['st-marys', 'riverside', 'eastgate']) {
      expect(announcedShare(dirs[site]!, 'tolerant', 2).siteStddev).toBeCloseTo(Math.sqrt(V_EVALUATION), 9);
      const entries = ledger(dirs[site]!).entries;
      expect(entries.at(-1)?.label).toBe('tolerant#2');
      const sent = auditRows(dirs[site]!).filter(
        (e) => e.kind === 'Rounds/SubmitMaskedSummary' && e.federation === 'tolerant' && e.round === '2',
      );
      expect(sent).toHaveLength(1);
      expectSoundAndClose(Number(sent[0]!.epsilon), exactEvaluation);
      expect(Number(sent[0]!.epsilon_total)).toBeCloseTo(entries.at(-1)!.epsilonAfter, 12);
    }
  });

  it("refuses to open a round past the federation's epsilon cap or its number of rounds, opening nothing", async () => {
    const members = ['st-marys', 'riverside', 'eastgate'];
    await federation('capped', members, { epsilonCap: oneRound });
    await federation('short', members, { maxRounds: 1 });
    for (const id of ['capped', 'short']) expect((await round(id, 1)).status).toBe('completed');
    const capped = await admin<{ error: string }>(fx, 'POST', '/api/v1/federations/capped/rounds', {});
    expect(capped).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/past its privacy.epsilonCap/) },
    });
    const short = await admin<{ error: string }>(fx, 'POST', '/api/v1/federations/short/rounds', {});
    expect(short).toMatchObject({ status: 400, body: { error: expect.stringMatching(/rounds.maxRounds/) } });
    for (const id of ['capped', 'short']) {
      const { body } = await admin<{ rounds: RoundView[] }>(fx, 'GET', `/api/v1/federations/${id}/rounds`);
      expect(body.rounds).toHaveLength(1);
    }
  });

  it('a noise plan that trusts every participant costs a paranoid site more than announced; each site logs its assumption with epsilon, and one past its limit says why', async () => {
    // The plan counts on all n - T = 3 survivors' shares (assumedColluders 0): each adds V/3. The
    // nodes keep node.yaml's default, privacy.trust paranoid, so each counts only its own V/3.
    await federation('trusting', ALL, { dropoutTolerance: 1, assumedColluders: 0 });
    const r = await round('trusting', 1);
    expect(r.status).toBe('completed');
    expect([...r.inputsFrom].sort()).toEqual(['eastgate', 'riverside', 'st-marys']);
    expect(r.declines).toEqual([
      expect.objectContaining({
        site: 'northgate',
        detail: expect.stringMatching(
          /past its limit .*the round's noise plan counts on 3 honest noise shares \(assuming at most 0 of 4 participants collude with the coordinator and at most 1 drops out\), this site counts on 1/,
        ),
      }),
    ]);
    // One Skellam share of variance V/(n - T - C) = V/3 (μ = V/6) instead of the announced
    // aggregate V (μ = V/2, the exact1 of the other federations).
    const paranoid = exact(V_VOTES / 6, VOTES, 1);
    expect(paranoid.lower).toBeGreaterThan(1.5 * exact1.upper);
    for (const site of ['st-marys', 'riverside', 'eastgate']) {
      expect(announcedShare(dirs[site]!, 'trusting', 1).siteStddev).toBeCloseTo(Math.sqrt(V_VOTES / 3), 9);
      const sent = auditRows(dirs[site]!).filter(
        (e) => e.kind === 'Rounds/SubmitMaskedSummary' && e.federation === 'trusting',
      );
      expect(sent).toHaveLength(1);
      expectSoundAndClose(Number(sent[0]!.epsilon), paranoid);
      expect(Number(sent[0]!.epsilon_total)).toBeCloseTo(
        ledger(dirs[site]!).entries.at(-1)!.epsilonAfter,
        12,
      );
      // The entry's detail holds the assumption (beside the ledger charge, as JSON).
      expect((JSON.parse(sent[0]!.detail) as { assumption: string }).assumption).toBe(
        "assuming any of the other 3 participants may collude with the coordinator (paranoid: only this site's own noise share counts)",
      );
    }
  });
});
