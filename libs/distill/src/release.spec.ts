import { seededRandom } from '@fedistill/dp';
import { evaluationFromSum } from './evaluation-estimate';
import {
  checkRing,
  planEvaluation,
  planRelease,
  type ReleaseSpec,
  siteEvaluationRelease,
  siteRelease,
} from './release';

const spec: ReleaseSpec = {
  summary: 'soft-labels',
  queries: 5,
  classes: 3,
  clipNorm: 1,
  granularity: 0.01,
  maxTeachers: 4,
  noise: { kind: 'skellam', noiseMultiplier: 2, sites: 4, toleratedDropouts: 1 },
};

describe(planRelease.name, () => {
  it('splits the aggregate noise z x sensitivity over the n - T sites that must survive', () => {
    const plan = planRelease(spec);
    expect(plan.dimension).toBe(15);
    expect(plan.noise?.variance).toBeCloseTo((2 * plan.l2) ** 2, 6);
    // A site's bound: 4 teachers x (1/0.01 + 1) plus 20 standard deviations of its share.
    const share = Math.sqrt((2 * plan.l2) ** 2 / 3);
    expect(plan.maxInput).toBe(4 * 101 + Math.ceil(20 * share));
    expect(plan.mechanism).toMatchObject({ kind: 'skellam', mu: (2 * plan.l2) ** 2 / 2, l2: plan.l2 });
  });

  it('names the setting that is out of range', () => {
    expect(() => planRelease({ ...spec, clipNorm: 2 })).toThrow("'clipNorm' must be in (0, 1]");
    expect(() => planRelease({ ...spec, queries: 0 })).toThrow("'queries' must be an integer >= 1");
    const noise = { kind: 'skellam' as const, noiseMultiplier: 1, sites: 2, toleratedDropouts: 2 };
    expect(() => planRelease({ ...spec, noise })).toThrow("'toleratedDropouts' must be smaller than 'sites'");
    expect(() => checkRing(planRelease(spec), 100_000, 16)).toThrow(
      /'secureAggregation.modulusBits' 16 too small/,
    );
  });

  it("refuses a site with more teachers than the release's bound", () => {
    const probs = Array.from({ length: 5 }, () => new Float32Array(15).fill(1 / 3));
    expect(() => siteRelease(probs, spec, planRelease(spec), seededRandom(1))).toThrow(
      'the site has 5 teachers; the federation allows at most 4 per site',
    );
  });
});

describe(planEvaluation.name, () => {
  it('has sensitivity 2 (one record moves two counts of two classes by one) and counts per class', () => {
    const plan = planEvaluation({ classes: 3, maxRecords: 10, noise: null });
    expect(plan).toMatchObject({ dimension: 6, l2: 2, l1: 4, maxInput: 10, mechanism: null });
    const counts = siteEvaluationRelease(
      [0, 1, 1, 2, 0],
      [0, 1, 2, 2, 1],
      { classes: 3, maxRecords: 10, noise: null },
      plan,
      seededRandom(1),
    );
    // Correct per class, then records per class.
    expect([...counts]).toEqual([1, 1, 1, 1, 2, 2]);
    expect(evaluationFromSum(counts, 3)).toEqual({
      accuracy: 0.6,
      interval: { low: 0.6, high: 0.6, confidence: 0.95 },
      records: 5,
      correct: 3,
      noised: { correct: 3, records: 5 },
      noiseStddev: 0,
      perClass: [
        { correct: 1, records: 1 },
        { correct: 1, records: 2 },
        { correct: 1, records: 2 },
      ],
    });
  });

  it('counts at most maxRecords records, adds the noise share, and clamps a noisy accuracy into [0, 1]', () => {
    const noise = { kind: 'skellam' as const, noiseMultiplier: 1, sites: 3, toleratedDropouts: 0 };
    const e = { classes: 2, maxRecords: 3, noise };
    const plan = planEvaluation(e);
    const quiet = siteEvaluationRelease(
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      { ...e, noise: null },
      planEvaluation({ ...e, noise: null }),
      seededRandom(1),
    );
    expect([...quiet]).toEqual([3, 0, 3, 0]);
    const noisy = siteEvaluationRelease([0, 0, 0, 0], [0, 0, 0, 0], e, plan, seededRandom(2));
    expect([...noisy]).not.toEqual([3, 0, 3, 0]);
    expect(evaluationFromSum([5, 0, 3, 0], 2).accuracy).toBe(1);
  });
});
