import { roundedNormBound, seededRandom } from '@fedistill/dp';
import { eraSharpen, noisyArgmaxVotes, normalizedMean } from './aggregation';
import { auroc, classificationMetrics, expectedCalibrationError } from './metrics';
import { partition, proportionalSizes } from './partition';
import { selectQueries } from './query-selection';
import { ExperimentRandom } from './seeded';
import { clippedSoftLabels, quantizedSoftLabelSummary, softLabelSummary, voteSummary } from './summaries';

const labels10 = Array.from({ length: 2000 }, (_, i) => i % 10);
const classCounts = (part: number[], labels: number[]) => {
  const counts = new Array<number>(10).fill(0);
  for (const i of part) counts[labels[i] as number] = (counts[labels[i] as number] ?? 0) + 1;
  return counts;
};

describe(partition.name, () => {
  const everyRecordOnce = (parts: number[][], n: number) => {
    const all = parts.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
  };

  it('puts every record in exactly one site, the same way for the same seed', () => {
    for (const spec of [
      { kind: 'iid' as const },
      { kind: 'dirichlet' as const, alpha: 0.5 },
      { kind: 'shards' as const, shardsPerSite: 2 },
      { kind: 'quantity' as const, alpha: 1 },
    ]) {
      const sut = partition(labels10, 10, spec, 7);
      everyRecordOnce(sut, labels10.length);
      expect(partition(labels10, 10, spec, 7)).toEqual(sut);
      expect(partition(labels10, 10, spec, 8)).not.toEqual(sut);
    }
  });

  it('IID gives equal sizes and near-uniform labels', () => {
    const sut = partition(labels10, 4, { kind: 'iid' }, 1);
    expect(sut.map((p) => p.length)).toEqual([500, 500, 500, 500]);
    for (const p of sut) for (const c of classCounts(p, labels10)) expect(c).toBeGreaterThan(25);
  });

  it('Dirichlet skews labels more as alpha shrinks', () => {
    // Mean share of the most frequent class per site: 1/10 for uniform labels, near 1 for extreme skew.
    const dominance = (alpha: number) => {
      const parts = partition(labels10, 10, { kind: 'dirichlet', alpha }, 3).filter((p) => p.length > 0);
      return parts.reduce((s, p) => s + Math.max(...classCounts(p, labels10)) / p.length, 0) / parts.length;
    };
    expect(dominance(0.05)).toBeGreaterThan(0.5);
    expect(dominance(1000)).toBeLessThan(0.15);
  });

  it('shards give each site at most shardsPerSite classes when shards align with classes', () => {
    const sut = partition(labels10, 10, { kind: 'shards', shardsPerSite: 2 }, 5);
    for (const p of sut) expect(classCounts(p, labels10).filter((c) => c > 0).length).toBeLessThanOrEqual(2);
  });

  it('quantity skew varies sizes but keeps every site non-empty', () => {
    const sizes = partition(labels10, 10, { kind: 'quantity', alpha: 0.3 }, 2).map((p) => p.length);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...sizes) / Math.min(...sizes)).toBeGreaterThan(3);
  });

  it('names impossible requests', () => {
    expect(() => partition([0, 1], 3, { kind: 'iid' }, 1)).toThrow('cannot split 2 records across 3 sites');
    expect(() => partition(labels10, 2, { kind: 'dirichlet', alpha: 0 }, 1)).toThrow("'alpha' must be > 0");
    expect(() => partition(labels10, 0, { kind: 'iid' }, 1)).toThrow("'sites' must be an integer >= 1");
  });

  it('splits proportionally with largest remainders', () => {
    expect(proportionalSizes(10, [1, 1, 1])).toEqual([4, 3, 3]);
    // 3.5, 1.75, 1.75: floors 3, 1, 1; the two units left go to the largest remainders (0.75, 0.75).
    expect(proportionalSizes(7, [0.5, 0.25, 0.25])).toEqual([3, 2, 2]);
  });
});

describe(ExperimentRandom.name, () => {
  it.each([0.5, 2, 5])('draws Gamma(%p) with mean and variance equal to the shape', (shape) => {
    const sut = new ExperimentRandom(11);
    const xs = Array.from({ length: 40000 }, () => sut.gamma(shape));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    // Standard error of the mean is sqrt(shape / 40000) <= 0.012; 5 standard errors of slack.
    expect(Math.abs(mean - shape)).toBeLessThan(5 * Math.sqrt(shape / 40000));
    expect(Math.abs(variance / shape - 1)).toBeLessThan(0.06);
  });
});

describe('metrics', () => {
  it('AUROC matches the textbook example (scikit-learn roc_auc_score docs: 0.75)', () => {
    expect(auroc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBeCloseTo(0.75, 12);
    expect(auroc([0.5, 0.5], [false, true])).toBe(0.5);
  });

  it('computes accuracy, macro-F1 and ECE by hand on a small case', () => {
    // Rows: predicted class (confidence) vs truth: 0 (0.9) ok, 1 (0.6) ok, 1 (0.7) wrong (truth 0), 0 (0.8) ok, 1 (0.95) wrong (truth 2).
    const probs = [0.9, 0.1, 0, 0.3, 0.6, 0.1, 0.2, 0.7, 0.1, 0.8, 0.1, 0.1, 0.05, 0.95, 0];
    const labels = [0, 1, 0, 0, 2];
    const sut = classificationMetrics(probs, labels, 3);
    expect(sut.accuracy).toBeCloseTo(3 / 5, 12);
    // F1: class 0 tp=2 fn=1 -> 4/5; class 1 tp=1 fp=2 -> 2/4; class 2 tp=0 -> 0. Mean 0.4333.
    expect(sut.macroF1).toBeCloseTo((0.8 + 0.5 + 0) / 3, 12);
    // 15 bins: 0.6 -> bin 8 (acc 1), 0.7 -> bin 10 (acc 0), 0.8 -> bin 11 (acc 1), 0.9 -> bin 13 (acc 1), 0.95 -> bin 14 (acc 0).
    const ece =
      (Math.abs(1 - 0.6) + Math.abs(0 - 0.7) + Math.abs(1 - 0.8) + Math.abs(1 - 0.9) + Math.abs(0 - 0.95)) /
      5;
    expect(sut.ece).toBeCloseTo(ece, 12);
    expect(expectedCalibrationError(probs, labels, 3, 1)).toBeCloseTo(
      Math.abs(0.6 - (0.9 + 0.6 + 0.7 + 0.8 + 0.95) / 5),
      12,
    );
    expect(sut.auroc).toBeNull();
  });

  it('names shape mismatches', () => {
    expect(() => classificationMetrics([0.5, 0.5], [0, 1], 2)).toThrow(
      "'probs' has 2 values; expected 2 rows x 2 classes",
    );
  });
});

describe('summaries', () => {
  const t1 = Float32Array.from([1, 0, 0.6, 0.8]);
  const t2 = Float32Array.from([0.5, 0.5, 0, 1]);

  it('clips each query vector to the norm and sums over teachers', () => {
    expect([...clippedSoftLabels(t1, 2, 2, 0.5)]).toEqual([
      0.5,
      0,
      expect.closeTo(0.3, 6),
      expect.closeTo(0.4, 6),
    ]);
    const sum = softLabelSummary([t1, t2], { queries: 2, classes: 2, clipNorm: 10 });
    expect([...sum]).toEqual([1.5, 0.5, expect.closeTo(0.6, 6), expect.closeTo(1.8, 6)]);
  });

  it('counts votes', () => {
    expect([...voteSummary([t1, t2, t1], { queries: 2, classes: 2 })]).toEqual([3, 0, 0, 3]);
    expect(() => voteSummary([t1, Float32Array.from([1])], { queries: 2, classes: 2 })).toThrow(
      'teacher 1 gave 1 values',
    );
  });

  it('quantizes without bias and within the rounding norm bound per teacher', () => {
    const o = { queries: 2, classes: 2, clipNorm: 1, granularity: 0.01 };
    const real = softLabelSummary([t1, t2], o);
    const random = seededRandom(3);
    const runs = 400;
    const mean = new Float64Array(4);
    for (let r = 0; r < runs; r += 1) {
      const q = quantizedSoftLabelSummary([t1, t2], o, random);
      q.forEach((v, i) => (mean[i] = (mean[i] as number) + v / runs));
      const one = quantizedSoftLabelSummary([t1], o, random);
      expect(Math.hypot(...one)).toBeLessThanOrEqual(roundedNormBound(Math.sqrt(2), 0.01, 4));
    }
    // Randomized rounding is unbiased: each entry's error is at most 1 unit with variance <= 1/4 per teacher.
    mean.forEach((m, i) => expect(Math.abs(m - (real[i] as number) / 0.01)).toBeLessThan(0.15));
  });
});

describe('aggregation', () => {
  it('normalizes noisy sums, clamping negatives, uniform when nothing is left', () => {
    const sut = normalizedMean([3, -1, 1, 0, -2, -5], 2);
    expect([...sut.probs]).toEqual([1, 0, 1, 0, 0.5, 0.5]);
    expect(sut.answered).toEqual([0, 1, 2]);
  });

  it('ERA sharpens: softmax of the averaged soft labels at temperature T', () => {
    const sut = eraSharpen({ probs: Float32Array.from([0.6, 0.4]), answered: [0] }, 2, 0.1);
    const expected = Math.exp(6) / (Math.exp(6) + Math.exp(4));
    expect(sut.probs[0]).toBeCloseTo(expected, 6);
    expect(sut.probs[0]).toBeGreaterThan(0.6);
  });

  it('answers votes by noisy argmax and drops queries below the confidence threshold', () => {
    const sut = noisyArgmaxVotes([9.2, 0.4, 1.1, 4.9, 5.3, 0.2, 2.1, 2.9, 3.0], 3, 5);
    expect(sut.answered).toEqual([0, 1]);
    expect([...sut.probs]).toEqual([1, 0, 0, 0, 1, 0]);
    expect(noisyArgmaxVotes([1, 2, 3, 0], 2).answered).toEqual([0, 1]);
  });
});

describe(selectQueries.name, () => {
  it('picks the least confident candidates, or a seeded random subset', () => {
    const probs = [0.9, 0.1, 0.55, 0.45, 0.7, 0.3, 0.5, 0.5];
    expect(selectQueries([10, 11, 12, 13], 2, { kind: 'least-confident' }, 0, { probs, classes: 2 })).toEqual(
      [11, 13],
    );
    const random = selectQueries([1, 2, 3, 4, 5, 6], 3, { kind: 'random' }, 9);
    expect(random).toHaveLength(3);
    expect(selectQueries([1, 2, 3, 4, 5, 6], 3, { kind: 'random' }, 9)).toEqual(random);
    expect(() => selectQueries([1], 1, { kind: 'least-confident' }, 0)).toThrow(
      /needs the student's probabilities/,
    );
  });
});
