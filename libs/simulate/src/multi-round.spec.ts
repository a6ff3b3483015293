import { selectSamples } from '@fedistill/data';
import { RdpAccountant, roundedNormBound } from '@fedistill/dp';
import { studentProbabilities } from '@fedistill/distill';
import type { SimulationConfig } from './config';
import { loadSimulationData } from './data';
import { runSimulation } from './run-simulation';

/** Three sites on the bundled breast-cancer data, few epochs: each run takes about a second. */
const base: SimulationConfig = {
  dataset: { name: 'breast-cancer' },
  sites: 3,
  partition: { kind: 'dirichlet', alpha: 1 },
  partitionSeed: 5,
  teachers: { perSite: 5, hidden: [16], epochs: 10, batchSize: 8 },
  student: { hidden: [16], epochs: 20, batchSize: 16 },
  referenceSize: 114,
  testFraction: 0.2,
  rounds: 3,
  queries: { perRound: 10, strategy: 'random' },
  summary: 'soft-labels',
  aggregation: { kind: 'mean' },
  privacy: { kind: 'skellam', noiseMultiplier: 1, clip: 1, delta: 1e-5 },
  secureAggregation: { threshold: 2, neighbours: 'all', bits: 32, toleratedDropouts: 0 },
  seed: 6,
};

describe('least-confident query selection in a simulation', () => {
  it('asks, after round 1, exactly the unasked inputs the previous student is least sure of', async () => {
    const c: SimulationConfig = {
      ...base,
      rounds: 2,
      queries: { perRound: 10, strategy: 'least-confident' },
    };
    const [one, two, random] = await Promise.all([
      runSimulation({ ...c, rounds: 1 }),
      runSimulation(c),
      runSimulation({ ...c, queries: { perRound: 10, strategy: 'random' } }),
    ]);
    // Round 1 has no student yet: random, identical in all three runs (same seed).
    expect(two.rounds[0]!.queried).toEqual(one.rounds[0]!.queried);
    expect(random.rounds[0]!.queried).toEqual(one.rounds[0]!.queried);
    // Independently: the round-1 student's top-class probability on every unasked reference input.
    const { reference } = await loadSimulationData(c);
    const asked = new Set(one.rounds[0]!.queried);
    const candidates = Array.from({ length: reference.count }, (_, i) => i).filter((i) => !asked.has(i));
    const probs = await studentProbabilities(one.student!, selectSamples(reference, candidates));
    const top = candidates.map((index, i) => ({
      index,
      top: Math.max(probs[2 * i] as number, probs[2 * i + 1] as number),
    }));
    const expected = [...top]
      .sort((a, b) => a.top - b.top || a.index - b.index)
      .slice(0, 10)
      .map((x) => x.index)
      .sort((a, b) => a - b);
    const second = two.rounds[1]!.queried;
    expect(second).toEqual(expected);
    expect(second.every((i) => !asked.has(i))).toBe(true);
    // The student is unsure about these (binary: top < 1), more than about a random pick.
    const topOf = new Map(top.map((t) => [t.index, t.top]));
    const mean = (xs: readonly number[]): number =>
      xs.reduce((a, i) => a + (topOf.get(i) as number), 0) / xs.length;
    expect(mean(second)).toBeLessThan(mean(random.rounds[1]!.queried));
    expect(two.rounds[1]!.answered).toBe(20);
  }, 60_000);
});

describe('multi-round digest and revisit (FedMD, DS-FL)', () => {
  const revisit: SimulationConfig = {
    ...base,
    revisit: { digestEpochs: 3, localEpochs: 2, learningRate: 1e-2 },
  };

  it('is deterministic for a seed and changes the teachers between rounds', async () => {
    const [a, b, plain] = await Promise.all([
      runSimulation(revisit),
      runSimulation(revisit),
      runSimulation(base),
    ]);
    expect(JSON.stringify(a.rounds)).toBe(JSON.stringify(b.rounds));
    expect(Buffer.from(a.student!.model).equals(Buffer.from(b.student!.model))).toBe(true);
    // Round 1 precedes any revisit: identical to the run without it.
    expect(JSON.stringify(a.rounds[0])).toBe(JSON.stringify(plain.rounds[0]));
    // Later rounds ask the same inputs of teachers that have digested: the targets, hence the
    // student, differ.
    expect(a.rounds[2]!.queried).toEqual(plain.rounds[2]!.queried);
    expect(Buffer.from(a.student!.model).equals(Buffer.from(plain.student!.model))).toBe(false);
    // A sanity floor only (the majority class is 63%): 30 noisy answers teach a small student.
    expect(a.rounds[2]!.metrics!.accuracy).toBeGreaterThan(0.7);
  }, 60_000);

  it('charges every round: epsilon is the accountant composition over R rounds', async () => {
    const rounds = 4;
    const sut = await runSimulation({ ...revisit, rounds, student: { ...base.student, epochs: 2 } });
    // Re-derived: Δ2 = 2 x the rounded norm bound of a teacher's clipped 10 x 2 vector
    // (arXiv:2102.06387, §4); aggregate Skellam of variance (zΔ2)², μ = (zΔ2)²/2 (arXiv:2110.04995).
    const q = 10;
    const l2 = 2 * roundedNormBound(Math.sqrt(q), 0.01, q * 2);
    const l1 = Math.min(l2 * l2, Math.sqrt(q * 2) * l2);
    const mechanism = { kind: 'skellam' as const, mu: l2 ** 2 / 2, l2, l1 };
    const after = (r: number): number => new RdpAccountant().add(mechanism, r).epsilon(1e-5).epsilon;
    expect(sut.rounds.map((r) => r.epsilon)).toEqual([1, 2, 3, 4].map(after));
    expect(sut.epsilon).toBe(after(rounds));
    expect(sut.epsilon).toBeGreaterThan(after(1) * 1.5);
  }, 60_000);

  it('refuses a revisit that cannot act', async () => {
    await expect(runSimulation({ ...revisit, rounds: 1 })).rejects.toThrow(
      "'revisit' needs 'rounds' >= 2 (it acts between rounds)",
    );
    await expect(runSimulation({ ...revisit, revisit: { digestEpochs: 0, localEpochs: 0 } })).rejects.toThrow(
      "'revisit' needs 'digestEpochs' or 'localEpochs' >= 1",
    );
    await expect(
      runSimulation({ ...revisit, revisit: { digestEpochs: 1, localEpochs: 1.5 } }),
    ).rejects.toThrow("'revisit.localEpochs' must be an integer in [0, ∞]");
  });
});
