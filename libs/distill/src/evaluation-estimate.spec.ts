import { perSiteVariance, seededRandom } from '@fedistill/dp';
import { evaluationFromSum } from './evaluation-estimate';
import { planEvaluation, siteEvaluationRelease } from './release';

const Z95 = 1.959963984540054;

describe(evaluationFromSum.name, () => {
  it('keeps the counts within possible values: the issue’s "22 correct of 18 records" is 18 of 18, with an interval', () => {
    // Two classes; noise of variance 16 per entry (stddev 4 per entry, 5.66 per total).
    const sut = evaluationFromSum([12, 10, 9, 9], 2, 16);
    expect(sut.noised).toEqual({ correct: 22, records: 18 });
    expect(sut).toMatchObject({ correct: 18, records: 18, accuracy: 1 });
    expect(sut.noiseStddev).toBeCloseTo(Math.sqrt(32), 12);
    expect(sut.perClass).toEqual([
      { correct: 9, records: 9 },
      { correct: 9, records: 9 },
    ]);
    const { low, high } = sut.interval!;
    expect(high).toBe(1);
    // The noise is large next to 18 records: the interval is wide, and says so.
    expect(low).toBeLessThan(0.8);
    expect(low).toBeGreaterThanOrEqual(0);
  });

  it('clamps negative noised counts to zero and reports no accuracy without records', () => {
    const sut = evaluationFromSum([-3, 2, -1, -4], 2, 9);
    expect(sut).toMatchObject({ records: 0, correct: 0, accuracy: null });
    // The noise leaves every accuracy possible; without noise, no records means no interval.
    expect(sut.interval).toEqual({ low: 0, high: 1, confidence: 0.95 });
    expect(evaluationFromSum([0, 0, 0, 0], 2).interval).toBeNull();
    expect(sut.perClass).toEqual([
      { correct: 0, records: 0 },
      { correct: 0, records: 0 },
    ]);
  });

  it('gives the ends of Fieller’s set: (C - θR)² = z² v (1 + θ²) at both', () => {
    const c = 61;
    const r = 97;
    const v = 3 * 25; // three classes, variance 25 per entry
    const sut = evaluationFromSum([20, 21, 20, 30, 33, 34], 3, 25);
    expect(sut.noised).toEqual({ correct: c, records: r });
    const { low, high } = sut.interval!;
    for (const theta of [low, high])
      expect((c - theta * r) ** 2).toBeCloseTo(Z95 * Z95 * v * (1 + theta * theta), 6);
    expect(low).toBeLessThan(c / r);
    expect(high).toBeGreaterThan(c / r);
  });

  it('reports [0, 1] when the noise leaves the ratio unbounded (records within the noise)', () => {
    const sut = evaluationFromSum([2, 1, 3, 2], 2, 100);
    expect(sut.interval).toEqual({ low: 0, high: 1, confidence: 0.95 });
    expect(sut.accuracy).toBe(0.6);
  });

  it('covers the true accuracy about 95% of the time under the sites’ real noise shares', () => {
    // Three sites; 60 test records of two classes of which 36 are right (accuracy 0.6); each site
    // adds its Skellam share of the evaluation release as siteEvaluationRelease does.
    const noise = { kind: 'skellam' as const, noiseMultiplier: 3, sites: 3, toleratedDropouts: 0 };
    const spec = { classes: 2, maxRecords: 100, noise };
    const plan = planEvaluation(spec);
    const entryVariance = 3 * perSiteVariance(plan.noise!);
    const predicted = [...Array(12).fill(0), ...Array(8).fill(1), ...Array(8).fill(0)] as number[];
    const labels = [...Array(12).fill(0), ...Array(8).fill(0), ...Array(8).fill(1)] as number[];
    const perSite = [20, 20, 20].map((n) => ({ p: predicted.slice(0, n), l: labels.slice(0, n) }));
    // 3 sites x 20 records, 12 right each: 36 of 60.
    const random = seededRandom(7);
    const trials = 1000;
    let covered = 0;
    let bounded = 0;
    for (let t = 0; t < trials; t += 1) {
      const sum = new Float64Array(4);
      for (const s of perSite) {
        const release = siteEvaluationRelease(s.p, s.l, spec, plan, random);
        release.forEach((x, i) => (sum[i] = (sum[i] as number) + x));
      }
      const { low, high } = evaluationFromSum(sum, 2, entryVariance).interval!;
      if (low <= 0.6 && 0.6 <= high) covered += 1;
      if (high - low < 1) bounded += 1;
    }
    expect(bounded).toBeGreaterThan(trials * 0.9);
    expect(covered / trials).toBeGreaterThan(0.93);
    expect(covered / trials).toBeLessThan(0.975);
  });

  it('refuses a sum of the wrong length, a bad class count or a bad variance, naming it', () => {
    expect(() => evaluationFromSum([1, 2, 3], 2)).toThrow(
      "'sum' has 3 entries; an evaluation of 2 classes has 4",
    );
    expect(() => evaluationFromSum([1, 2], 1)).toThrow("'classes' must be an integer >= 2");
    expect(() => evaluationFromSum([1, 2, 3, 4], 2, -1)).toThrow(
      "'entryVariance' must be a finite number >= 0",
    );
  });
});
