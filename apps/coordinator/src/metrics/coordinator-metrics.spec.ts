import { status } from '@grpc/grpc-js';
import { federationEpsilon, federationSpecSchema, planRound, type RoundPlan } from '@fedistill/protocol';
import { encodeState, initialCoordinatorState } from '@fedistill/secagg';
import type { RoundRecord } from '@fedistill/store';
import { parsePrometheusText, sampleValue } from '../../../../test/e2e/support/prometheus-text';
import type { RoundEvent, RoundEventListener } from '../rounds/round-events';
import type { StudentPublished } from '../students/student-publisher';
import { CoordinatorMetrics } from './coordinator-metrics';
import { EpsilonBook, type EpsilonBookSource } from './epsilon-book';
import { grpcObserver, reasonCode, watchRounds, watchStudents } from './round-metrics';

const spec = federationSpecSchema.parse({
  id: 'fed',
  labels: ['neg', 'pos'],
  input: { shape: [2] },
  referenceSet: { sha256: 'a'.repeat(64) },
  student: { architecture: 'mlp', hidden: [4] },
  privacy: { mechanism: 'skellam', noiseMultiplier: 1.5, epsilonCap: 100 },
  rounds: { minSites: 2, queriesPerRound: 4 },
});
const SITES = ['st-marys', 'riverside', 'northgate'];
const roster = SITES.map((name, i) => ({ name, signingPublicKey: String(i).repeat(64) }));
const planOf = (round: number): RoundPlan => planRound(spec, round, roster, [0, 1, 2, 3], 1_000);
const idOf = (plan: RoundPlan, site: string) => plan.participants.find((p) => p.siteName === site)!.siteId;

/** A round engine stand-in: the listeners the metrics register, and a way to emit to them. */
function engine() {
  const listeners: RoundEventListener[] = [];
  return {
    onEvent: (l: RoundEventListener) => void listeners.push(l),
    emit: (e: RoundEvent) => listeners.forEach((l) => l(e)),
  };
}

function harness(
  source: EpsilonBookSource = { federations: () => Promise.resolve([]), rounds: () => Promise.resolve([]) },
) {
  let clock = 0;
  const book = new EpsilonBook(source);
  const sut = new CoordinatorMetrics(
    { sites: () => Promise.resolve({ enrolled: 3, online: 2 }), epsilon: () => book.figures() },
    { defaultMetrics: false },
  );
  const rounds = engine();
  watchRounds(rounds, sut, book, () => clock);
  return {
    sut,
    rounds,
    advance: (ms: number) => (clock += ms),
    scrape: async () => parsePrometheusText(await sut.scrape()),
  };
}

const members = { federations: () => Promise.resolve([{ id: 'fed', members: SITES, delta: 1e-5 }]) };

describe(CoordinatorMetrics.name, () => {
  it('counts outcomes, stage durations, declines by reason code and dropouts from the round events', async () => {
    const h = harness({ ...members, rounds: () => Promise.resolve([]) });
    const one = planOf(1);
    h.rounds.emit({ kind: 'RoundAnnounced', plan: one, federation: spec });
    h.advance(2_000);
    // A site reconnecting is told again: the keys stage does not restart.
    h.rounds.emit({ kind: 'RoundAnnounced', plan: one, federation: spec });
    h.advance(1_000);
    h.rounds.emit({ kind: 'StageClosed', plan: one, closed: 'keys', next: 'shares', why: 'x' });
    h.advance(500);
    h.rounds.emit({
      kind: 'RoundCompleted',
      plan: one,
      detail: '',
      contributors: ['st-marys', 'riverside'],
      declines: [{ site: 'northgate', reason: 'DECLINE_REASON_BUDGET_EXHAUSTED', detail: 'past its limit' }],
    });
    const two = planOf(2);
    h.rounds.emit({ kind: 'RoundAnnounced', plan: two, federation: spec });
    h.rounds.emit({
      kind: 'RoundAbandoned',
      plan: two,
      detail: '',
      contributors: ['st-marys'],
      declines: [],
    });

    const m = await h.scrape();
    const outcome = (o: string) =>
      sampleValue(m, 'fedistill_rounds_total', { federation: 'fed', kind: 'distill', outcome: o });
    expect([outcome('completed'), outcome('abandoned')]).toEqual([1, 1]);
    expect(sampleValue(m, 'fedistill_round_stage_duration_seconds_count', { stage: 'keys' })).toBe(2);
    expect(sampleValue(m, 'fedistill_round_stage_duration_seconds_sum', { stage: 'keys' })).toBe(3);
    expect(sampleValue(m, 'fedistill_round_stage_duration_seconds_sum', { stage: 'shares' })).toBe(0.5);
    expect(sampleValue(m, 'fedistill_round_declines_total', { reason: 'BUDGET_EXHAUSTED' })).toBe(1);
    // Round 2: riverside and northgate neither sent their input nor declined.
    expect(sampleValue(m, 'fedistill_round_dropouts_total', { federation: 'fed' })).toBe(2);
    expect(sampleValue(m, 'fedistill_sites_online')).toBe(2);
    expect(sampleValue(m, 'fedistill_sites_enrolled')).toBe(3);
    expect(m.get('fedistill_rounds_total')?.type).toBe('counter');
    expect(m.get('fedistill_round_stage_duration_seconds')?.type).toBe('histogram');
  });

  it('gives each federation its completed rounds composed, and each site the rounds its input reached', async () => {
    const h = harness({ ...members, rounds: () => Promise.resolve([]) });
    const [one, two] = [planOf(1), planOf(2)];
    const end = (plan: RoundPlan, kind: 'RoundCompleted' | 'RoundAbandoned', contributors: string[]) =>
      h.rounds.emit({ kind, plan, detail: '', contributors, declines: [] });
    end(one, 'RoundCompleted', ['st-marys', 'riverside', 'northgate']);
    end(two, 'RoundAbandoned', ['st-marys']);
    const m = await h.scrape();
    const single = federationEpsilon([one], 1e-5).epsilon;
    expect(single).toBeGreaterThan(0);
    expect(sampleValue(m, 'fedistill_federation_epsilon_spent', { federation: 'fed' })).toBeCloseTo(
      single,
      12,
    );
    const site = (s: string) =>
      sampleValue(m, 'fedistill_site_epsilon_spent', { federation: 'fed', site: s });
    expect(site('riverside')).toBeCloseTo(single, 12);
    // st-marys released its input in the abandoned round too: its node charged for it.
    expect(site('st-marys')).toBeCloseTo(federationEpsilon([one, two], 1e-5).epsilon, 12);
    expect(site('st-marys')).toBeGreaterThan(single);
  });

  it('reads the rounds that ended before this process started from the store, once', async () => {
    const plan = planOf(1);
    const snapshot = {
      plan,
      coordinator: { ...initialCoordinatorState(), stage: 'done', inputs: [idOf(plan, 'riverside')] },
      declines: [],
      status: 'completed',
    };
    const record = (round: number, state: RoundRecord['status']): RoundRecord => ({
      federationId: 'fed',
      round,
      status: state,
      stage: 'done',
      engine: encodeState({ ...snapshot, plan: planOf(round) }),
      createdAt: 1,
      updatedAt: 2,
    });
    const reads: string[] = [];
    const h = harness({
      ...members,
      rounds: (id) => {
        reads.push(id);
        return Promise.resolve([record(1, 'completed'), record(2, 'open')]);
      },
    });
    const m = await h.scrape();
    await h.scrape();
    expect(reads).toEqual(['fed']);
    const single = federationEpsilon([plan], 1e-5).epsilon;
    expect(sampleValue(m, 'fedistill_site_epsilon_spent', { site: 'riverside' })).toBeCloseTo(single, 12);
    // A member yet to spend anything shows 0; the open round counts for nobody yet.
    expect(sampleValue(m, 'fedistill_site_epsilon_spent', { site: 'northgate' })).toBe(0);
    expect(sampleValue(m, 'fedistill_federation_epsilon_spent')).toBeCloseTo(single, 12);
  });

  it('counts gRPC request bytes and error codes by method, admin errors and student training time', async () => {
    const h = harness();
    const observer = grpcObserver(h.sut);
    observer.received('/fedistill.v1.Rounds/SubmitMaskedSummary', 1200);
    observer.received('/fedistill.v1.Rounds/SubmitMaskedSummary', 800);
    observer.failed('/fedistill.v1.NodeSession/Heartbeat', status.UNAUTHENTICATED);
    h.sut.adminErrors.inc({ status: '401' });
    let publish: ((p: StudentPublished) => void) | undefined;
    watchStudents({ onPublished: (l) => (publish = l) }, h.sut);
    publish!({ record: { federationId: 'fed' } as StudentPublished['record'], trainingSeconds: 1.5 });
    const m = await h.scrape();
    expect(
      sampleValue(m, 'fedistill_grpc_received_bytes_total', { method: 'Rounds/SubmitMaskedSummary' }),
    ).toBe(2000);
    expect(
      sampleValue(m, 'fedistill_grpc_errors_total', {
        method: 'NodeSession/Heartbeat',
        code: 'UNAUTHENTICATED',
      }),
    ).toBe(1);
    expect(sampleValue(m, 'fedistill_admin_request_errors_total', { status: '401' })).toBe(1);
    expect(sampleValue(m, 'fedistill_student_training_seconds_sum', { federation: 'fed' })).toBe(1.5);
  });

  it('names decline reasons by their code, and anything else UNKNOWN', () => {
    expect(reasonCode('DECLINE_REASON_BUDGET_EXHAUSTED')).toBe('BUDGET_EXHAUSTED');
    expect(reasonCode('DECLINE_REASON_9 (unknown to this coordinator)')).toBe('UNKNOWN');
  });

  it('keeps each instance apart (two coordinators in one process), with the default process metrics', async () => {
    const sources = {
      sites: () => Promise.resolve({ enrolled: 0, online: 0 }),
      epsilon: () => Promise.resolve({ federations: [], sites: [] }),
    };
    const [a, b] = [new CoordinatorMetrics(sources), new CoordinatorMetrics(sources)];
    a.adminErrors.inc({ status: '404' });
    expect(
      parsePrometheusText(await b.scrape()).get('fedistill_admin_request_errors_total')?.samples,
    ).toEqual([]);
    expect(a.names()).toEqual(
      expect.arrayContaining(['fedistill_sites_online', 'process_cpu_seconds_total']),
    );
  });
});

describe(parsePrometheusText.name, () => {
  const ok = '# HELP x_total X.\n# TYPE x_total counter\nx_total{a="1",b="q\\"\\\\"} 3\n';
  it('reads families, labels with escapes and values', () => {
    const m = parsePrometheusText(ok);
    expect(m.get('x_total')).toEqual({
      name: 'x_total',
      type: 'counter',
      help: 'X.',
      samples: [{ name: 'x_total', labels: { a: '1', b: 'q"\\' }, value: 3 }],
    });
  });

  it.each([
    ['a sample without a TYPE', 'y 1\n', /no TYPE/],
    ['a duplicate series', `${ok}x_total{b="q\\"\\\\",a="1"} 4\n`, /duplicate series/],
    ['a bad value', '# TYPE y gauge\ny one\n', /bad value/],
    ['an unquoted label', '# TYPE y gauge\ny{a=1} 1\n', /not quoted/],
    ['a TYPE after samples', '# TYPE y gauge\ny 1\n# TYPE y gauge\n', /TYPE of 'y'/],
    [
      'non-cumulative buckets',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /not cumulative/,
    ],
    [
      'a +Inf bucket that is not the count',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 1\n',
      /not _count/,
    ],
  ])('refuses %s', (_what, text, error) => {
    expect(() => parsePrometheusText(text)).toThrow(error);
  });
});
