import * as path from 'node:path';
import { type Dataset, loadCsv, selectSamples } from '@fedistill/data';
import { argmaxRows } from './metrics';
import { partition } from './partition';
import { TeacherEnsemble } from './teachers';

const DIGITS = path.join(__dirname, '..', '..', '..', 'data', 'digits.csv.gz');

/** Share of rows whose argmax is `labels[i]`, averaged over the teachers. */
function agreement(probs: readonly Float32Array[], labels: ArrayLike<number>, classes: number): number {
  let hits = 0;
  for (const p of probs) argmaxRows(p, classes).forEach((c, i) => (hits += c === labels[i] ? 1 : 0));
  return hits / (probs.length * labels.length);
}

describe('TeacherEnsemble.digestAndRevisit', () => {
  let site: Dataset;
  let reference: Dataset;

  beforeAll(async () => {
    const all = (await loadCsv(DIGITS, { header: false, label: -1, classes: 10 })).dataset;
    const [a, b] = partition(all.labels, 2, { kind: 'iid' }, 4);
    site = selectSamples(all, (a ?? []).slice(0, 400));
    reference = selectSamples(all, (b ?? []).slice(0, 300));
  });

  const options = { teachers: 2, hidden: [32], epochs: 15, batchSize: 16, seed: 2, threads: 1 };

  it('moves the teachers towards the digested targets, then back to their own labels', async () => {
    const sut = await TeacherEnsemble.train(site, { ...options, keepTrainingState: true });
    try {
      // Targets that contradict the truth: every reference digit is labelled (digit + 1) mod 10.
      const shifted = Array.from(reference.labels, (l) => (l + 1) % 10);
      const targets = new Float32Array(reference.count * 10);
      shifted.forEach((l, i) => (targets[i * 10 + l] = 1));
      const before = await sut.probabilities(reference.features, reference.count);
      expect(agreement(before, reference.labels, 10)).toBeGreaterThan(0.85);
      expect(agreement(before, shifted, 10)).toBeLessThan(0.05);
      const firstModel = sut.models[0];

      const digest = { batchSize: 16, learningRate: 1e-2, seed: 3, threads: 1 };
      await sut.digestAndRevisit(reference.features, reference.count, targets, {
        ...digest,
        digestEpochs: 20,
        localEpochs: 0,
      });
      const digested = await sut.probabilities(reference.features, reference.count);
      expect(agreement(digested, shifted, 10)).toBeGreaterThan(0.9);
      expect(sut.models[0]).not.toBe(firstModel);

      // Revisiting only their own (true) labels brings the teachers back to the truth.
      await sut.digestAndRevisit(new Float32Array(0), 0, new Float32Array(0), {
        ...digest,
        digestEpochs: 0,
        localEpochs: 20,
      });
      const own = await sut.probabilities(site.features, site.count);
      expect(agreement(own, site.labels, 10)).toBeGreaterThan(0.95);
    } finally {
      await sut.dispose();
    }
  }, 60_000);

  it('is deterministic for a seed', async () => {
    const run = async (): Promise<Float32Array[]> => {
      const t = await TeacherEnsemble.train(site, { ...options, epochs: 3, keepTrainingState: true });
      try {
        const targets = new Float32Array(reference.count * 10).fill(0.1);
        await t.digestAndRevisit(reference.features, reference.count, targets, {
          digestEpochs: 2,
          localEpochs: 1,
          batchSize: 16,
          seed: 9,
          threads: 1,
        });
        return await t.probabilities(reference.features, reference.count);
      } finally {
        await t.dispose();
      }
    };
    const [a, b] = [await run(), await run()];
    expect(a.map((p) => [...p])).toEqual(b.map((p) => [...p]));
  }, 60_000);

  it('refuses teachers trained without their state, and mismatched inputs', async () => {
    const plain = await TeacherEnsemble.train(site, { ...options, epochs: 1 });
    const kept = await TeacherEnsemble.train(site, { ...options, epochs: 1, keepTrainingState: true });
    const o = { digestEpochs: 1, localEpochs: 1, batchSize: 16, seed: 1 };
    try {
      await expect(
        plain.digestAndRevisit(
          reference.features,
          reference.count,
          new Float32Array(reference.count * 10),
          o,
        ),
      ).rejects.toThrow('digest and revisit need teachers trained here with keepTrainingState');
      await expect(
        kept.digestAndRevisit(reference.features, reference.count, new Float32Array(10), o),
      ).rejects.toThrow(`'targets' must hold ${reference.count} rows of 10 probabilities`);
      await expect(kept.digestAndRevisit(reference.features, 5, new Float32Array(50), o)).rejects.toThrow(
        "'x' must hold 5 inputs of 64 features",
      );
      await expect(
        kept.digestAndRevisit(reference.features, reference.count, new Float32Array(reference.count * 10), {
          ...o,
          localEpochs: -1,
        }),
      ).rejects.toThrow("'localEpochs' must be an integer >= 0");
    } finally {
      await Promise.all([plain.dispose(), kept.dispose()]);
    }
  }, 60_000);
});
