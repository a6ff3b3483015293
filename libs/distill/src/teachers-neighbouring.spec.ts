import * as path from 'node:path';
import { type Dataset, loadCsv, selectSamples } from '@fedistill/data';
import { partition } from './partition';
import { TeacherEnsemble, type TeacherTrainingOptions } from './teachers';

const DIGITS = path.join(__dirname, '..', '..', '..', 'data', 'digits.csv.gz');

/**
 * The neighbouring-dataset check behind every sensitivity the release charges (SPEC, privacy
 * model item 3; PATE, Papernot et al. 2017, arXiv:1610.05755, §2.1): a site's teachers train on
 * disjoint partitions, so replacing ONE record may change at most ONE teacher's answers. Any
 * statistic shared between teachers (a standardizer fitted on all records, say) breaks this and
 * multiplies the true sensitivity by up to the number of teachers. The adversary here is the
 * replacement record: an extreme outlier (every feature 1000 times the largest pixel value)
 * with another label, the record that moves a shared mean and standard deviation the most.
 */
describe('TeacherEnsemble on neighbouring datasets', () => {
  let site: Dataset;
  let neighbour: Dataset;
  let reference: Dataset;

  beforeAll(async () => {
    const all = (await loadCsv(DIGITS, { header: false, label: -1, classes: 10 })).dataset;
    const [a, b] = partition(all.labels, 2, { kind: 'iid' }, 11);
    site = selectSamples(all, (a ?? []).slice(0, 240));
    reference = selectSamples(all, (b ?? []).slice(0, 60));
    const per = 64;
    const features = Float32Array.from(site.features);
    features.fill(16_000, 7 * per, 8 * per);
    const labels = Int32Array.from(site.labels);
    labels[7] = ((labels[7] as number) + 5) % 10;
    neighbour = { ...site, features, labels };
  });

  /** How many teachers answer the reference queries differently (beyond 1e-6) on the two datasets. */
  function changedTeachers(a: readonly Float32Array[], b: readonly Float32Array[]): number[] {
    expect(a).toHaveLength(b.length);
    return a.flatMap((p, t) => {
      const q = b[t] as Float32Array;
      let worst = 0;
      for (let i = 0; i < p.length; i += 1)
        worst = Math.max(worst, Math.abs((p[i] as number) - (q[i] as number)));
      return worst > 1e-6 ? [t] : [];
    });
  }

  async function answers(
    data: Dataset,
    o: TeacherTrainingOptions,
    revisit: boolean,
  ): Promise<Float32Array[]> {
    const sut = await TeacherEnsemble.train(data, o);
    try {
      if (revisit) {
        // Public targets (identical on both sides): the digest is post-processing of a release.
        const targets = new Float32Array(reference.count * 10).fill(0.1);
        await sut.digestAndRevisit(reference.features, reference.count, targets, {
          digestEpochs: 1,
          localEpochs: 1,
          batchSize: 16,
          seed: 5,
          threads: 1,
        });
      }
      return await sut.probabilities(reference.features, reference.count);
    } finally {
      await sut.dispose();
    }
  }

  const base = { teachers: 4, epochs: 2, batchSize: 16, seed: 3, threads: 1 };
  it.each([
    ['an MLP', { ...base, hidden: [16] }, false],
    ['a logistic regression (no hidden layer)', { ...base, hidden: [] }, false],
    ['an MLP after digest and revisit', { ...base, hidden: [16], keepTrainingState: true }, true],
  ] as const)(
    'replacing one record changes at most one teacher: %s',
    async (_kind, o, revisit) => {
      const before = await answers(site, o, revisit);
      const again = await answers(site, o, revisit);
      // Same data, same seeds: bitwise the same answers, so any change below is the record's doing.
      expect(changedTeachers(before, again)).toEqual([]);
      const after = await answers(neighbour, o, revisit);
      const changed = changedTeachers(before, after);
      expect(changed.length).toBeGreaterThanOrEqual(1);
      expect(changed.length).toBeLessThanOrEqual(1);
    },
    120_000,
  );
});
