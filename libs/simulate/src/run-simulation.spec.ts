import { RdpAccountant, roundedNormBound } from '@fedistill/dp';
import type { SimulationConfig } from './config';
import { runSimulation } from './run-simulation';
import { Predictor } from '@fedistill/engine';
import { selectSamples } from '@fedistill/data';
import { selectQueries, softmaxRows } from '@fedistill/distill';
import { loadSimulationData } from './data';

/** Three sites on the bundled breast-cancer data, deployed in one process (coordinator and three nodes). */
const base: SimulationConfig = {
  dataset: { name: 'breast-cancer' },
  sites: 3,
  partition: { kind: 'iid' },
  partitionSeed: 3,
  teachers: { perSite: 20, hidden: [16], epochs: 40, batchSize: 8 },
  student: { hidden: [16], epochs: 60, batchSize: 16 },
  referenceSize: 114,
  testFraction: 0.2,
  rounds: 3,
  queries: { perRound: 10, strategy: 'random' },
  summary: 'soft-labels',
  aggregation: { kind: 'mean' },
  privacy: { kind: 'skellam', noiseMultiplier: 1, clip: 1, delta: 1e-5 },
  secureAggregation: { threshold: 2, neighbours: 'all', bits: 32, toleratedDropouts: 0 },
  seed: 3,
};

describe(runSimulation.name, () => {
  it('runs the deployment privately to within 8 points of the centralized model, charging what an independent accountant gives', async () => {
    const sut = await runSimulation({ ...base, baselines: { centralized: true, localOnly: true } });
    const last = sut.rounds[sut.rounds.length - 1]!;
    const central = sut.baselines.centralized!.accuracy;
    // Each round releases 10 queries x 2 classes under Skellam noise (z = 1) summed from three
    // nodes' shares; the student learns from 30 noisy soft labels. Logistic-type models reach
    // 0.95-0.97 on this data set; we ask for > 0.88 and at most 8 points below the pooled,
    // non-private model trained on all 341 private records.
    expect(central).toBeGreaterThan(0.93);
    expect(last.metrics!.accuracy).toBeGreaterThan(0.88);
    expect(last.metrics!.accuracy).toBeGreaterThan(central - 0.08);
    expect(last.answered).toBe(30);
    expect(sut.rounds.map((r) => r.abandoned)).toEqual([null, null, null]);
    expect(sut.rounds.every((r) => r.survivors.length === 3)).toBe(true);
    // Every node sent its keys, shares, masked summary and unmask shares, and at least the summary.
    for (const r of sut.rounds) for (const b of r.bytesPerSite) expect(b).toBeGreaterThan(4 * 20);
    expect(sut.baselines.localOnly!.perSite).toHaveLength(3);
    // Independent re-derivation: soft labels clipped to C = 1 per query, quantized at γ = 0.01,
    // one record changes one teacher's vector: Δ2 = 2 x its rounded norm bound (arXiv:2102.06387,
    // §4); aggregate Skellam with variance (zΔ2)², i.e. μ = (zΔ2)²/2 (arXiv:2110.04995, §3).
    const q = 10;
    const d = q * 2;
    const l2 = 2 * roundedNormBound(Math.sqrt(q), 0.01, d);
    const l1 = Math.min(l2 * l2, Math.sqrt(d) * l2);
    const mechanism = { kind: 'skellam' as const, mu: l2 ** 2 / 2, l2, l1 };
    expect(sut.epsilon).toBeCloseTo(new RdpAccountant().add(mechanism, 3).epsilon(1e-5).epsilon, 10);
    expect(sut.rounds[0]!.epsilon).toBeCloseTo(
      new RdpAccountant().add(mechanism, 1).epsilon(1e-5).epsilon,
      10,
    );
    // A site under node.yaml's default trust (paranoid) counts only its own share: with 0
    // colluders and no dropout tolerated each of the 3 sites adds a third of the variance.
    const own = { ...mechanism, mu: mechanism.mu / 3 };
    expect(sut.paranoidEpsilon).toBeCloseTo(new RdpAccountant().add(own, 3).epsilon(1e-5).epsilon, 10);
    expect(sut.paranoidEpsilon!).toBeGreaterThan(sut.epsilon! * 1.5);
  }, 240_000);

  it('runs on the data the harness passes instead of loading it from the config', async () => {
    const c: SimulationConfig = { ...base, rounds: 1, queries: { perRound: 30, strategy: 'random' } };
    const data = await loadSimulationData(c);
    // The same split with every test label flipped: a student that learned anything scores low.
    const flipped = { ...data.test, labels: data.test.labels.map((l) => 1 - l) };
    const sut = await runSimulation(c, { data: { ...data, test: flipped } });
    expect(sut.rounds[0]!.metrics!.accuracy).toBeLessThan(0.15);
  }, 240_000);

  it('asks, with least-confident selection, the unasked inputs the previous student is least sure of', async () => {
    const c: SimulationConfig = {
      ...base,
      rounds: 2,
      teachers: { ...base.teachers, epochs: 5 },
      student: { ...base.student, epochs: 10 },
      queries: { perRound: 10, strategy: 'least-confident' },
    };
    const one = await runSimulation({ ...c, rounds: 1 });
    const two = await runSimulation(c);
    // Round 1 is the same in both runs (seeded nodes, public seeded query choice).
    expect(two.rounds[0]!.queried).toEqual(one.rounds[0]!.queried);
    const { reference } = await loadSimulationData(c);
    const asked = new Set(one.rounds[0]!.queried);
    const candidates = [...Array(reference.count).keys()].filter((i) => !asked.has(i));
    const rows = selectSamples(reference, candidates);
    const p = await Predictor.create(one.student!.model, reference.featureShape);
    const probs = softmaxRows(await p.logits(rows.features, rows.count), 2);
    await p.dispose();
    const expected = selectQueries(candidates, 10, { kind: 'least-confident' }, 0, { probs, classes: 2 });
    expect(two.rounds[1]!.queried).toEqual(expected);
  }, 240_000);

  it('refuses a bad configuration naming the field', async () => {
    await expect(runSimulation({ ...base, sites: 1 })).rejects.toThrow(/'sites'/);
    await expect(
      runSimulation({
        ...base,
        secureAggregation: { ...base.secureAggregation, dropouts: [{ round: 1, site: 0, stage: 'keys' }] },
      }),
    ).rejects.toThrow(/'dropouts\[0\].stage' 'keys' is not supported/);
    await expect(
      runSimulation({ ...base, privacy: { ...base.privacy, delta: 2 } as SimulationConfig['privacy'] }),
    ).rejects.toThrow(/delta/);
  });
});
