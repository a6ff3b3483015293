import type { AuditEntryInput } from '@fedistill/audit';
import { perSiteVariance } from '@fedistill/dp';
import { type FederationSpec, planEvaluationRound, releasePlanOf } from '@fedistill/protocol';
import { encodeSigned, encodeState, initialCoordinatorState } from '@fedistill/secagg';
import { type CoordinatorStore, openSqliteCoordinatorStore } from '@fedistill/store';
import { NodeEventHub } from '../domain/node-event-hub';
import { FederationService } from '../federation/federation.service';
import type { RoundSnapshot } from '../rounds/live-round';
import { viewOf } from '../rounds/round-view';
import { buildModelCard } from './model-card';
import { StudentCatalog } from './student-catalog';
import { enrolSites, twoClassFederation, twoClusters } from './testing/stored-rounds';

const SITES = ['site-a', 'site-b', 'site-c'];
const Z95 = 1.959963984540054;

describe(StudentCatalog.name, () => {
  let store: CoordinatorStore;
  let federations: FederationService;
  let spec: FederationSpec;
  let sut: StudentCatalog;

  beforeEach(async () => {
    store = openSqliteCoordinatorStore(':memory:');
    const log = { append: (_e: AuditEntryInput) => Promise.resolve() };
    await enrolSites(store, SITES);
    federations = new FederationService(store, log, new NodeEventHub());
    spec = await twoClassFederation(
      federations,
      twoClusters(20, 3).x,
      {
        id: 'fed',
        privacy: { mechanism: 'skellam', summary: 'votes', noiseMultiplier: 0.5, epsilonCap: 100 },
        rounds: { minSites: 3, queriesPerRound: 5 },
      },
      SITES,
    );
    sut = new StudentCatalog(store, federations);
    for (const version of [1, 2]) {
      const { sha256 } = await store.artifacts.put('student', new Uint8Array(100).fill(version), 1 << 20, 1);
      await store.students.create({
        federationId: 'fed',
        version,
        sha256,
        rounds: [version],
        createdAt: 1000 * version,
        modelCard: buildModelCard({
          spec,
          version,
          createdAt: 1000 * version,
          onnx: { sha256, bytes: 100 },
          referenceRows: 20,
          rowsDistilled: 5,
          rounds: [],
          pseudoLabelled: null,
          privacy: {
            mechanism: 'skellam',
            epsilon: 1,
            delta: 1e-5,
            order: 8,
            unit: 'one record at one site',
            assumption: null,
          },
          trainingSeconds: 1,
          metrics: null,
          evaluationSet: null,
        }),
      });
    }
  });
  afterEach(() => store.close());

  /** Stores round `round`, an evaluation of `version` whose noised sum is `sum`, as the engine records it. */
  async function storeEvaluation(
    round: number,
    version: number,
    sum: number[],
    status: 'completed' | 'abandoned' = 'completed',
  ) {
    const roster = SITES.map((name, i) => ({ name, signingPublicKey: String(i).repeat(64) }));
    const plan = planEvaluationRound(spec, round, roster, version, 1000);
    const snapshot: RoundSnapshot = {
      plan,
      coordinator: {
        ...initialCoordinatorState(),
        stage: 'done',
        inputs: [0, 1, 2],
        result: encodeSigned(Int32Array.from(sum), plan.config.bits ?? 32),
      },
      declines: [],
      receipts: {},
      status,
      reason: null,
      createdAt: 1000,
    };
    const record = {
      federationId: 'fed',
      round,
      status,
      stage: 'done',
      engine: encodeState(snapshot),
      createdAt: 1,
      updatedAt: 2,
    };
    await store.rounds.create(record);
    return record;
  }

  it("adds each student's evaluation rounds at the sites to its model card, clamped and with the noise's interval", async () => {
    // The figures: 22 "correct" of 18 records, from noised per-class counts.
    const record = await storeEvaluation(3, 2, [12, 10, 9, 9]);
    const [v1, v2] = await sut.list('fed');
    expect(v1?.modelCard.siteEvaluations).toEqual([]);
    expect(v1?.modelCardMarkdown).toMatch(
      /## Evaluated at the sites\n\nNo evaluation round of this student yet/,
    );
    const e = v2?.modelCard.siteEvaluations?.[0];
    expect(e).toMatchObject({
      round: 3,
      accuracy: 1,
      correct: 18,
      records: 18,
      noised: { correct: 22, records: 18 },
    });
    // The noise of each total: three sites' shares in each of its two entries.
    const share = perSiteVariance(
      releasePlanOf(
        planEvaluationRound(
          spec,
          3,
          SITES.map((name) => ({ name, signingPublicKey: '' })),
          2,
          0,
        ),
      ).noise!,
    );
    expect(e?.noiseStddev).toBeCloseTo(Math.sqrt(2 * 3 * share), 9);
    const { low, high } = e!.interval!;
    // Fieller's set ends where (C - θR)² = z² v (1 + θ²), unless clamped at 1.
    expect(high).toBe(1);
    expect(low).toBeGreaterThan(0.5);
    expect(low).toBeLessThan(1);
    expect((22 - low * 18) ** 2).toBeCloseTo(Z95 * Z95 * 6 * share * (1 + low * low), 6);
    expect(v2?.modelCardMarkdown).toContain(
      `- Round 3: accuracy 1.0000, 95% interval ${low.toFixed(2)}-1.00 for the noise, over about 18 of the sites' own test records`,
    );
    expect(v2?.modelCardMarkdown).toMatch(/post-processing, no privacy cost/);
    // round status shows the same figures.
    expect(viewOf(record).evaluation).toEqual({
      studentVersion: 2,
      ...Object.fromEntries(Object.entries(e!).filter(([k]) => k !== 'round')),
    });
    expect((await sut.get('fed', 2)).modelCard.siteEvaluations).toHaveLength(1);
  });

  it('leaves out evaluation rounds that did not complete', async () => {
    await storeEvaluation(3, 2, [12, 10, 9, 9], 'abandoned');
    expect((await sut.get('fed', 2)).modelCard.siteEvaluations).toEqual([]);
  });
});
