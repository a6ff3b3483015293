import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import type { AuditEntryInput } from '@fedistill/audit';
import { encodeNpyFloat32 } from '@fedistill/data';
import { planRelease } from '@fedistill/distill';
import { RdpAccountant } from '@fedistill/dp';
import { Predictor } from '@fedistill/engine';
import { type CoordinatorStore, openSqliteCoordinatorStore } from '@fedistill/store';
import type { NodeEvent } from '@fedistill/wire';
import { NodeEventHub } from '../domain/node-event-hub';
import { EvaluationSets } from '../federation/evaluation-sets';
import type { FederationSpec } from '@fedistill/protocol';
import { FederationService } from '../federation/federation.service';
import type { DistillRoundPlan } from '@fedistill/protocol';
import { modelCardMarkdown, PRIVACY_NONE_WARNING, type ModelCard } from './model-card';
import { StudentPublisher } from './student-publisher';
import {
  enrolSites,
  storeCompletedRound,
  twoClassFederation,
  twoClusters as points,
} from './testing/stored-rounds';

const SITES = ['site-a', 'site-b', 'site-c'];
const ROWS = 60;

function int64Npy(values: Int32Array): Uint8Array {
  const dict = `{'descr': '<i8', 'fortran_order': False, 'shape': (${values.length},), }`;
  const pad = (64 - ((10 + dict.length + 1) % 64)) % 64;
  const header = Buffer.from(`${dict}${' '.repeat(pad)}\n`, 'latin1');
  const out = Buffer.alloc(10 + header.length + values.length * 8);
  out.set([0x93, ...Buffer.from('NUMPY', 'latin1'), 1, 0]);
  out.writeUInt16LE(header.length, 8);
  out.set(header, 10);
  values.forEach((v, i) => out.writeBigInt64LE(BigInt(v), 10 + header.length + i * 8));
  return out;
}

describe(StudentPublisher.name, () => {
  let store: CoordinatorStore;
  let federations: FederationService;
  let evaluationSets: EvaluationSets;
  let hub: NodeEventHub;
  let transcript: AuditEntryInput[];
  let events: Map<string, NodeEvent[]>;
  let sut: StudentPublisher;
  const reference = points(ROWS, 7);

  beforeEach(async () => {
    store = openSqliteCoordinatorStore(':memory:');
    transcript = [];
    const log = { append: (e: AuditEntryInput) => Promise.resolve(transcript.push(e)) };
    hub = new NodeEventHub();
    events = new Map(SITES.map((s) => [s, []]));
    for (const site of SITES)
      hub.subscribe(site, { send: (e) => events.get(site)?.push(e), end: () => undefined });
    await enrolSites(store, SITES);
    federations = new FederationService(store, log, hub);
    evaluationSets = new EvaluationSets(store, federations, log);
    sut = new StudentPublisher(store, federations, evaluationSets, hub, log);
  });
  afterEach(() => store.close());

  const federation = (
    id: string,
    privacy: Record<string, unknown>,
    distillation: Record<string, unknown> = {},
  ): Promise<FederationSpec> =>
    twoClassFederation(
      federations,
      reference.x,
      {
        id,
        privacy,
        rounds: { minSites: 3, queriesPerRound: 20 },
        distillation: { epochs: 40, batchSize: 8, learningRate: 0.05, ...distillation },
      },
      SITES,
    );

  /** A completed round asking `queries`; each site put its mass on class `labelOf(row)`. */
  const completedRound = (
    spec: FederationSpec,
    round: number,
    queries: number[],
    labelOf: (row: number) => number,
  ): Promise<DistillRoundPlan> => storeCompletedRound(store, spec, round, queries, labelOf, SITES);

  async function predictions(onnx: Uint8Array, x: Float32Array): Promise<number[]> {
    const p = await Predictor.create(onnx, [2]);
    const logits = await p.logits(x, x.length / 2);
    await p.dispose();
    return Array.from({ length: x.length / 2 }, (_v, i) => (logits[2 * i + 1]! > logits[2 * i]! ? 1 : 0));
  }

  it('distils a student that follows the targets of the sum, publishes it and tells every member', async () => {
    const spec = await federation('fed', { mechanism: 'skellam', noiseMultiplier: 1, epsilonCap: 50 });
    const evaluation = points(40, 99);
    await evaluationSets.register('fed', encodeNpyFloat32([40, 2], evaluation.x), int64Npy(evaluation.y));
    const queries = Array.from({ length: 30 }, (_v, i) => i + 5);
    // Targets opposite to the cluster labels: the student must follow the sum, not the data.
    const plan = await completedRound(spec, 1, queries, (row) => 1 - reference.y[row]!);
    const published = await sut.enqueue('fed', 1);
    expect(published).toMatchObject({ federationId: 'fed', version: 1, rounds: [1] });
    const onnx = await federations.artifactBytes(published!.sha256);
    expect(createHash('sha256').update(onnx).digest('hex')).toBe(published!.sha256);
    const rows = Float32Array.from(queries.flatMap((r) => [reference.x[2 * r]!, reference.x[2 * r + 1]!]));
    expect(await predictions(onnx, rows)).toEqual(queries.map((r) => 1 - reference.y[r]!));

    const card = published!.modelCard as ModelCard;
    const expected = new RdpAccountant().add(planRelease(plan.release).mechanism!, 1).epsilon(1e-5);
    expect(card.privacy).toMatchObject({
      mechanism: 'skellam',
      epsilon: expected.epsilon,
      delta: 1e-5,
      unit: 'one record at one site',
    });
    expect(card.warning).toBeUndefined();
    // The trust assumption stands next to epsilon: by default ('all') each of the 3 sites adds the
    // whole target noise, so it holds with any 2 of them colluding with the coordinator.
    const assumption =
      'assuming at most 2 of 3 participants collude with the coordinator and at most 0 drop out';
    expect(card.privacy.assumption).toBe(assumption);
    expect(modelCardMarkdown(card)).toContain(`- Epsilon: ε = ${expected.epsilon.toFixed(4)} ${assumption}`);
    expect(card).toMatchObject({
      federationId: 'fed',
      version: 1,
      student: {
        sha256: published!.sha256,
        architecture: { architecture: 'mlp', hidden: [8] },
        inputShape: [2],
      },
      referenceSet: { sha256: spec.referenceSet.sha256, rows: ROWS, rowsDistilled: 30 },
      rounds: [{ round: 1, sites: 3, queries: 30, querySelection: null }],
      techniques: { querySelection: 'random', selfTraining: null, revisit: null },
    });
    // The student learnt the flipped rule, so it gets the held-out labels wrong.
    expect(card.metrics).toMatchObject({ measuredOn: { evaluationSet: { rows: 40 } } });
    expect((card.metrics as { accuracy: number }).accuracy).toBeLessThan(0.1);
    expect((card.metrics as { auroc?: number }).auroc).toBeDefined();
    for (const site of SITES) {
      const announced = events.get(site)?.filter((e) => e.event?.$case === 'studentPublished');
      expect(announced?.map((e) => e.event)).toEqual([
        {
          $case: 'studentPublished',
          value: { federationId: 'fed', version: 1, sha256: Buffer.from(published!.sha256, 'hex') },
        },
      ]);
    }
    expect(transcript.at(-1)).toMatchObject({ event: 'round', round: '1', sha256: published!.sha256 });

    // A second round: version 2 from both rounds, epsilon of two releases composed.
    const second = await completedRound(spec, 2, [1, 3, 5, 6], (row) => reference.y[row]!);
    const v2 = await sut.enqueue('fed', 2);
    expect(v2).toMatchObject({ version: 2, rounds: [1, 2] });
    const two = new RdpAccountant()
      .add(planRelease(plan.release).mechanism!, 1)
      .add(planRelease(second.release).mechanism!, 1)
      .epsilon(1e-5);
    expect((v2!.modelCard as ModelCard).privacy.epsilon).toBe(two.epsilon);
    // Rows 5 and 6 were asked in both rounds: 30 + 2 new rows.
    expect((v2!.modelCard as ModelCard).referenceSet.rowsDistilled).toBe(32);
    expect(await sut.roundStudents('fed')).toEqual(
      new Map([
        [1, { state: 'published', version: 1, sha256: published!.sha256 }],
        [2, { state: 'published', version: 2, sha256: v2!.sha256 }],
      ]),
    );
    expect(await sut.enqueue('fed', 2)).toBeNull();
  });

  it('self-trains on the unanswered rows the distilled student is sure of, and the card names every technique', async () => {
    const threshold = 0.9;
    const queries = Array.from({ length: 20 }, (_v, i) => i * 3);
    const truth = (row: number) => reference.y[row]!;
    // The same federation without self-training publishes the student self-training starts from.
    const plain = await federation('plain', { mechanism: 'none' });
    await completedRound(plain, 1, queries, truth);
    const base = await sut.enqueue('plain', 1);
    const session = await ort.InferenceSession.create(await federations.artifactBytes(base!.sha256));
    const out = await session.run({ input: new ort.Tensor('float32', reference.x, [ROWS, 2]) });
    const probs = out.probabilities!.data as Float32Array;
    await session.release();
    const sure = Array.from({ length: ROWS }, (_v, r) => r).filter(
      (r) => !queries.includes(r) && Math.max(probs[2 * r]!, probs[2 * r + 1]!) >= threshold,
    );
    expect(sure.length).toBeGreaterThan(0);

    const spec = await twoClassFederation(
      federations,
      reference.x,
      {
        id: 'self',
        privacy: { mechanism: 'none' },
        rounds: { minSites: 3, queriesPerRound: 20, maxRounds: 3, querySelection: 'least-confident' },
        distillation: { epochs: 40, batchSize: 8, learningRate: 0.05, selfTraining: { threshold } },
        revisit: { digestEpochs: 2, localEpochs: 1, learningRate: 0.002 },
      },
      SITES,
    );
    await storeCompletedRound(store, spec, 1, queries, truth, SITES, { strategy: 'random' });
    const published = await sut.enqueue('self', 1);
    const card = published!.modelCard as ModelCard;
    expect(published!.sha256).not.toBe(base!.sha256);
    expect(card.techniques).toMatchObject({
      querySelection: 'least-confident',
      selfTraining: { threshold, rowsPseudoLabelled: sure.length },
      revisit: { digestEpochs: 2, localEpochs: 1, learningRate: 0.002, runBy: 'sites' },
    });
    expect(card.rounds).toEqual([
      { round: 1, sites: 3, queries: 20, querySelection: { strategy: 'random' } },
    ]);
    expect(card.referenceSet.rowsDistilled).toBe(20);
    const markdown = modelCardMarkdown(card);
    expect(markdown).toContain('- Query selection: least-confident; rounds 1 (random)');
    expect(markdown).toContain(
      `- Self-training: threshold 0.9, ${sure.length} reference rows pseudo-labelled`,
    );
    expect(markdown).toContain(
      '- Digest and revisit at the sites: 2 digest epochs, 1 local epochs, learning rate 0.002',
    );
    // The self-trained student still follows the targets on every row.
    const all = Array.from({ length: ROWS }, (_v, r) => r);
    const onnx = await federations.artifactBytes(published!.sha256);
    expect(await predictions(onnx, reference.x)).toEqual(all.map(truth));
  });

  it('marks a student trained without privacy loudly, and says when no evaluation set was registered', async () => {
    const spec = await federation('open', { mechanism: 'none' });
    await completedRound(spec, 1, [0, 1, 2, 3], (row) => reference.y[row]!);
    const published = await sut.enqueue('open', 1);
    const card = published!.modelCard as ModelCard;
    expect(Object.keys(card)[0]).toBe('warning');
    expect(card.warning).toBe(PRIVACY_NONE_WARNING);
    expect(card.privacy).toMatchObject({ mechanism: 'none', epsilon: null });
    expect(card.metrics).toEqual({ measuredOn: 'no evaluation set registered' });
  });

  it('publishes on resume for a completed round recorded without a student, and records a failure', async () => {
    const spec = await federation('fed', { mechanism: 'skellam', noiseMultiplier: 1, epsilonCap: 50 });
    await completedRound(spec, 1, [0, 1, 2, 3], (row) => reference.y[row]!);
    const pending = await sut.resume();
    expect(pending.map((p) => [p.federationId, p.round])).toEqual([['fed', 1]]);
    expect(await sut.roundStudents('fed')).toEqual(new Map([[1, { state: 'training' }]]));
    await pending[0]!.publication;
    expect((await store.students.list('fed')).map((s) => s.rounds)).toEqual([[1]]);
    expect(await sut.resume()).toEqual([]);

    // A round whose sum has the wrong length cannot be distilled: the failure is kept and shown.
    await store.rounds.create({
      ...(await store.rounds.get('fed', 1))!,
      round: 2,
      engine: (await store.rounds.get('fed', 1))!.engine.replace('"classes":2', '"classes":3'),
    });
    await expect(sut.enqueue('fed', 2)).rejects.toThrow(/classes/);
    expect((await sut.roundStudents('fed')).get(2)).toMatchObject({ state: 'failed' });
    expect(transcript.at(-1)?.detail).toMatch(/^student training failed: /);
  });
});
