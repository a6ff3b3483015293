import * as path from 'node:path';
import { type Dataset, loadCsv, selectSamples } from '@fedistill/data';
import { seededRandom } from '@fedistill/dp';
import { AbstentionGates, nearestDistances } from './abstention';
import { partition } from './partition';
import { planRelease } from './release';
import { oneHotVotes, quantizedSoftLabelSummary, voteSummary } from './summaries';
import { TeacherEnsemble, type TeacherTrainingOptions } from './teachers';

const DIGITS = path.join(__dirname, '..', '..', '..', 'data', 'digits.csv.gz');
const PER = 64;

/**
 * Abstaining teachers keep the privacy argument of teachers-neighbouring.spec.ts: each gate is
 * fitted on its teacher's own partition and the public reference set only, so replacing ONE
 * record of partition p changes teacher p's gate and votes and no other teacher's, every
 * per-query contribution is a one-hot vote or zero, and the site's summary moves by no more than
 * the L2 sensitivity the release charges (planRelease: sqrt(2q) for votes, 2B for soft labels).
 */
describe(AbstentionGates.name, () => {
  let site: Dataset;
  let reference: Dataset;
  const o: TeacherTrainingOptions = {
    teachers: 4,
    hidden: [16],
    epochs: 2,
    batchSize: 16,
    seed: 3,
    threads: 1,
    abstain: {},
  };

  beforeAll(async () => {
    const all = (await loadCsv(DIGITS, { header: false, label: -1, classes: 10 })).dataset;
    const [a, b] = partition(all.labels, 2, { kind: 'iid' }, 11);
    // Label skew, as in the demo: the site holds digits 0-3 only.
    site = selectSamples(all, (a ?? []).filter((i) => (all.labels[i] as number) < 4).slice(0, 120));
    reference = selectSamples(all, (b ?? []).slice(0, 80));
  });

  interface SiteAnswers {
    readonly cutoffs: Float64Array;
    readonly answers: Uint8Array[];
    readonly gated: Float32Array[];
  }

  async function answersOf(data: Dataset): Promise<SiteAnswers> {
    const teachers = await TeacherEnsemble.train(data, o);
    try {
      const sut = teachers.abstentionGates(reference.features, reference.count);
      const probs = await teachers.probabilities(reference.features, reference.count);
      const { probs: gated } = sut.apply(probs, reference.features, reference.count);
      return { cutoffs: sut.cutoffs, answers: sut.answers(reference.features, reference.count), gated };
    } finally {
      await teachers.dispose();
    }
  }

  /** Teachers whose cutoff, gate or gated answers differ between the two sides. */
  function changed(a: SiteAnswers, b: SiteAnswers): number[] {
    return a.gated.flatMap((p, t) => {
      const q = b.gated[t] as Float32Array;
      const differs =
        a.cutoffs[t] !== b.cutoffs[t] ||
        (a.answers[t] as Uint8Array).some((v, i) => v !== (b.answers[t] as Uint8Array)[i]) ||
        p.some((v, i) => Math.abs(v - (q[i] as number)) > 1e-6);
      return differs ? [t] : [];
    });
  }

  it('replacing one record of partition p changes teacher p only, and its summary within the charged sensitivity', async () => {
    const before = await answersOf(site);
    expect(changed(before, await answersOf(site))).toEqual([]);
    // Which teacher holds record 7 (the IID split depends on the count and seed only), and a
    // reference input that teacher abstains on: the replacement record is that very input, with
    // a digit the site never held, so teacher p's gate must now open on it (distance 0).
    const parts = partition(site.labels, o.teachers, { kind: 'iid' }, o.seed);
    const p = parts.findIndex((indices) => indices.includes(7));
    const row = (before.answers[p] as Uint8Array).indexOf(0);
    expect(row).toBeGreaterThanOrEqual(0);
    const features = Float32Array.from(site.features);
    features.set(reference.features.subarray(row * PER, (row + 1) * PER), 7 * PER);
    const labels = Int32Array.from(site.labels);
    labels[7] = 9;
    const after = await answersOf({ ...site, features, labels });

    expect(changed(before, after)).toEqual([p]);
    expect((after.answers[p] as Uint8Array)[row]).toBe(1);

    const n = reference.count;
    const classes = 10;
    const spec = {
      summary: 'votes',
      queries: n,
      classes,
      clipNorm: 1,
      granularity: 1,
      maxTeachers: o.teachers,
      noise: null,
    } as const;
    const votes = planRelease(spec);
    const shift = (x: ArrayLike<number>, y: ArrayLike<number>) =>
      Math.sqrt(Array.from(x).reduce((s, v, i) => s + (v - (y[i] as number)) ** 2, 0));
    const so = { queries: n, classes };
    expect(shift(voteSummary(before.gated, so), voteSummary(after.gated, so))).toBeLessThanOrEqual(votes.l2);
    const soft = planRelease({ ...spec, summary: 'soft-labels', granularity: 0.01 });
    const quantized = (g: Float32Array[]) =>
      quantizedSoftLabelSummary(g, { ...so, clipNorm: 1, granularity: 0.01 }, seededRandom(5));
    expect(shift(quantized(before.gated), quantized(after.gated))).toBeLessThanOrEqual(soft.l2);
  }, 120_000);

  it('makes every per-query contribution a one-hot vote or zero, zero exactly where the teacher abstains', async () => {
    const { answers, gated } = await answersOf(site);
    let abstained = 0;
    for (const [t, g] of gated.entries()) {
      const v = oneHotVotes(g, reference.count, 10);
      for (let q = 0; q < reference.count; q += 1) {
        const row = Array.from(v.subarray(q * 10, (q + 1) * 10));
        expect(row.every((c) => c === 0 || c === 1)).toBe(true);
        expect(row.reduce((s, c) => s + c, 0)).toBe((answers[t] as Uint8Array)[q]);
        if ((answers[t] as Uint8Array)[q] === 0) abstained += 1;
      }
    }
    // Digits 0-3 only: each teacher answers about 40% of an all-digit reference set.
    expect(abstained).toBeGreaterThan(0.4 * gated.length * reference.count);
  }, 120_000);

  it('answers the share of the reference inputs nearest its partition: its classes / all classes, or the fraction given', () => {
    const part = selectSamples(site, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const held = new Set(part.labels).size;
    const count = (g: AbstentionGates) =>
      (g.answers(reference.features, reference.count)[0] as Uint8Array).reduce((s, v) => s + v, 0);
    // 80 reference inputs: a partition holding `held` of the 10 digits answers held x 8 of them.
    expect(count(AbstentionGates.fit([part], reference.features, reference.count))).toBe(held * 8);
    const quarter = AbstentionGates.fit([part], reference.features, reference.count, { fraction: 0.25 });
    expect(count(quarter)).toBe(20);
    // The answered inputs are the nearest ones (distances are distinct for these real images).
    const d = nearestDistances(part, reference.features, reference.count);
    const answered = quarter.answers(reference.features, reference.count)[0] as Uint8Array;
    const worstAnswered = Math.max(...Array.from(d).filter((_v, i) => answered[i] === 1));
    const bestSkipped = Math.min(...Array.from(d).filter((_v, i) => answered[i] === 0));
    expect(worstAnswered).toBeLessThan(bestSkipped);
  });

  it('refuses bad input, naming it', async () => {
    const part = selectSamples(site, [0, 1, 2]);
    const fit = (fraction: number) =>
      AbstentionGates.fit([part], reference.features, reference.count, { fraction });
    expect(() => fit(0)).toThrow("'fraction' must be in (0, 1]");
    expect(() => fit(1.5)).toThrow("'fraction' must be in (0, 1]");
    expect(() => AbstentionGates.fit([], reference.features, reference.count)).toThrow(/'parts'/);
    expect(() => AbstentionGates.fit([part], reference.features, reference.count + 1)).toThrow(
      /'reference' must hold 81 inputs of 64 values/,
    );
    const gates = fit(0.5);
    expect(() => gates.apply([new Float32Array(20), new Float32Array(20)], part.features, 2)).toThrow(
      "2 teachers' outputs for 1 gates",
    );
    const plain = await TeacherEnsemble.train(site, { ...o, abstain: undefined });
    try {
      expect(() => plain.abstentionGates(reference.features, reference.count)).toThrow(
        /abstention needs teachers trained here with the abstain option/,
      );
    } finally {
      await plain.dispose();
    }
  });
});
