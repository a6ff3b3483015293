import * as path from 'node:path';
import { type Dataset, loadCsv, selectSamples } from '@fedistill/data';
import { partition } from './partition';
import { TeacherEnsemble, type TeacherTrainingOptions } from './teachers';

const DIGITS = path.join(__dirname, '..', '..', '..', 'data', 'digits.csv.gz');

/**
 * Many teachers in one graph (stacked-teachers.ts) against the one-by-one path. 164 records over
 * 7 teachers make partitions of 24 and 23 records, which with batches of 8 take 3 and 2 steps
 * per epoch: two groups of graphs, and with 2 teachers per graph several graphs per group.
 */
describe('TeacherEnsemble.train with teachers stacked in one graph', () => {
  let site: Dataset;
  let reference: Dataset;

  beforeAll(async () => {
    const all = (await loadCsv(DIGITS, { header: false, label: -1, classes: 10 })).dataset;
    const [a, b] = partition(all.labels, 2, { kind: 'iid' }, 21);
    site = selectSamples(all, (a ?? []).slice(0, 164));
    reference = selectSamples(all, (b ?? []).slice(0, 50));
  });

  const base = { teachers: 7, epochs: 4, batchSize: 8, seed: 6, threads: 1 };

  async function trained(data: Dataset, o: TeacherTrainingOptions) {
    const progress: string[] = [];
    const sut = await TeacherEnsemble.train(data, {
      ...o,
      onProgress: (p) => progress.push(`${p.teacher}/${p.epoch}`),
    });
    try {
      const probabilities = await sut.probabilities(reference.features, reference.count);
      return { models: [...sut.models], probabilities, progress: progress.sort() };
    } finally {
      await sut.dispose();
    }
  }

  it.each([
    ['linear teachers', [], 'constant'],
    ['hidden [16], cosine schedule', [16], 'cosine'],
  ] as const)(
    'gives the same teachers as training them one by one (%s)',
    async (_kind, hidden, schedule) => {
      const o = { ...base, hidden, schedule };
      const alone = await trained(site, { ...o, teachersPerGraph: 1 });
      for (const perGraph of [2, undefined]) {
        const sut = await trained(site, { ...o, teachersPerGraph: perGraph });
        expect(sut.progress).toEqual(alone.progress);
        expect(sut.progress).toHaveLength(7 * 4);
        // Float rounding only (MatMul + Add instead of Gemm); a teacher trained on another
        // partition, with another seed or step count differs by O(0.1).
        sut.probabilities.forEach((p, t) => {
          const q = alone.probabilities[t]!;
          const worst = p.reduce((m, v, i) => Math.max(m, Math.abs(v - q[i]!)), 0);
          expect(worst).toBeLessThan(1e-3);
        });
      }
      // The comparison is not vacuous: the teachers differ from one another.
      const [p0, p1] = alone.probabilities;
      expect(p0!.reduce((m, v, i) => Math.max(m, Math.abs(v - p1![i]!)), 0)).toBeGreaterThan(0.1);
    },
    60_000,
  );

  it("changes only teacher 3's exported model when one record of partition 3 changes", async () => {
    const o = { ...base, hidden: [16] };
    const record = (partition(site.labels, 7, { kind: 'iid' }, o.seed)[3] ?? [])[0]!;
    const features = Float32Array.from(site.features);
    features.fill(50, record * 64, (record + 1) * 64);
    const labels = Int32Array.from(site.labels);
    labels[record] = (labels[record]! + 3) % 10;
    const before = await trained(site, o);
    const after = await trained({ ...site, features, labels }, o);
    const changed = before.models.flatMap((m, t) => (Buffer.from(m).equals(after.models[t]!) ? [] : [t]));
    expect(changed).toEqual([3]);
  }, 60_000);

  it('refuses a teachersPerGraph that is not an integer >= 1', async () => {
    for (const bad of [0, 1.5, -2])
      await expect(
        TeacherEnsemble.train(site, { ...base, hidden: [], teachersPerGraph: bad }),
      ).rejects.toThrow(new RangeError("'teachersPerGraph' must be an integer >= 1"));
  });
});
