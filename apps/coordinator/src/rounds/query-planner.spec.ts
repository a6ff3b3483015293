import * as ort from 'onnxruntime-node';
import type { AuditEntryInput } from '@fedistill/audit';
import { selectQueries } from '@fedistill/distill';
import type { FederationSpec } from '@fedistill/protocol';
import { type CoordinatorStore, openSqliteCoordinatorStore } from '@fedistill/store';
import { RequestInvalidError } from '../domain/errors';
import { NodeEventHub } from '../domain/node-event-hub';
import { EvaluationSets } from '../federation/evaluation-sets';
import { FederationService } from '../federation/federation.service';
import { StudentPublisher } from '../students/student-publisher';
import {
  enrolSites,
  storeCompletedRound,
  twoClassFederation,
  twoClusters,
} from '../students/testing/stored-rounds';
import { QueryPlanner } from './query-planner';

const SITES = ['site-a', 'site-b', 'site-c'];
const ROWS = 80;
const K = 10;

describe(QueryPlanner.name, () => {
  let store: CoordinatorStore;
  let federations: FederationService;
  let publisher: StudentPublisher;
  let sut: QueryPlanner;
  const reference = twoClusters(ROWS, 5);
  // Ten rows on the boundary between the clusters: a student that learnt the rule is unsure there.
  const boundary = [3, 14, 22, 37, 41, 50, 58, 63, 71, 76];
  for (const [j, row] of boundary.entries()) {
    reference.x[2 * row] = (j - 4.5) * 0.02;
    reference.x[2 * row + 1] = -(j - 4.5) * 0.02;
  }

  beforeEach(async () => {
    store = openSqliteCoordinatorStore(':memory:');
    const log = { append: (_e: AuditEntryInput) => Promise.resolve() };
    const hub = new NodeEventHub();
    await enrolSites(store, SITES);
    federations = new FederationService(store, log, hub);
    publisher = new StudentPublisher(
      store,
      federations,
      new EvaluationSets(store, federations, log),
      hub,
      log,
    );
    sut = new QueryPlanner(store, federations, publisher);
  });
  afterEach(() => store.close());

  const federation = (id: string, rounds: Record<string, unknown>, seed = 3): Promise<FederationSpec> =>
    twoClassFederation(
      federations,
      reference.x,
      {
        id,
        privacy: { mechanism: 'none' },
        rounds: { minSites: 3, queriesPerRound: K, ...rounds },
        distillation: { epochs: 60, batchSize: 8, learningRate: 0.05, seed },
      },
      SITES,
    );

  it('draws random queries reproducibly from distillation.seed and the round, among rows no completed round asked', async () => {
    const spec = await federation('fed', {});
    const first = await sut.choose(spec, 1);
    const all = Array.from({ length: ROWS }, (_v, i) => i);
    expect(first).toEqual({
      queries: selectQueries(all, K, { kind: 'random' }, 3 * 1000 + 1),
      selection: { strategy: 'random' },
    });
    expect(await sut.choose(spec, 1)).toEqual(first);
    expect((await sut.choose(spec, 2)).queries).not.toEqual(first.queries);
    const other = await federation('other', {}, 4);
    expect((await sut.choose(other, 1)).queries).not.toEqual(first.queries);

    await storeCompletedRound(store, spec, 1, first.queries, (r) => reference.y[r]!, SITES);
    const second = await sut.choose(spec, 2);
    const candidates = all.filter((i) => !first.queries.includes(i));
    expect(second.queries).toEqual(selectQueries(candidates, K, { kind: 'random' }, 3 * 1000 + 2));
    expect(second.queries.filter((q) => first.queries.includes(q))).toEqual([]);
  });

  it('asks where the published student is least sure, waiting for the student of the last completed round', async () => {
    const spec = await federation('fed', { querySelection: 'least-confident' });
    // No student yet: random, as the simulator does.
    const first = await sut.choose(spec, 1);
    expect(first.selection).toEqual({ strategy: 'random' });
    const asked = Array.from({ length: 40 }, (_v, i) => i).filter((r) => !boundary.includes(r));
    await storeCompletedRound(store, spec, 1, asked, (r) => reference.y[r]!, SITES);

    // Nothing has queued the round's student: the planner has it published and uses it.
    const second = await sut.choose(spec, 2);
    const student = await store.students.latest('fed');
    expect(student).toMatchObject({ version: 1, rounds: [1] });
    expect(second.selection).toEqual({ strategy: 'least-confident', studentVersion: 1 });

    // Independently: the student's own 'probabilities' output over every row, via onnxruntime.
    const session = await ort.InferenceSession.create(await federations.artifactBytes(student!.sha256));
    const out = await session.run({ input: new ort.Tensor('float32', reference.x, [ROWS, 2]) });
    const probs = out.probabilities!.data as Float32Array;
    await session.release();
    const expected = Array.from({ length: ROWS }, (_v, row) => row)
      .filter((row) => !asked.includes(row))
      .map((row) => ({ row, top: Math.max(probs[2 * row]!, probs[2 * row + 1]!) }))
      .sort((a, b) => a.top - b.top || a.row - b.row)
      .slice(0, K)
      .map((c) => c.row)
      .sort((a, b) => a - b);
    expect(second.queries).toEqual(expected);
    // The student learnt the rule, so those are the rows on the boundary.
    expect(second.queries).toEqual(boundary);
  });

  it('refuses a round when every reference row was asked', async () => {
    const spec = await federation('small', { queriesPerRound: ROWS });
    const all = Array.from({ length: ROWS }, (_v, i) => i);
    await storeCompletedRound(store, spec, 1, all, (r) => reference.y[r]!, SITES);
    await expect(sut.choose(spec, 2)).rejects.toThrow(RequestInvalidError);
    await expect(sut.choose(spec, 2)).rejects.toThrow(/every one of the 80 reference rows/);
  });
});
