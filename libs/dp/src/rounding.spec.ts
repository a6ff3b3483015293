import { seededRandom } from './random-source';
import { clipL2, quantize, roundedNormBound } from './rounding';

describe('quantize', () => {
  it('clips to the L2 norm and leaves short vectors alone', () => {
    const long = clipL2(Float64Array.of(3, 4), 1);
    expect(Math.hypot(...long)).toBeCloseTo(1, 12);
    expect(Array.from(clipL2(Float64Array.of(0.3, 0.4), 1))).toEqual([0.3, 0.4]);
  });

  it('is unbiased: the average of many roundings approaches x / γ', () => {
    const x = Float64Array.of(0.12, 0.5, 0.38);
    const granularity = 0.01; // 12, 50, 38 units exactly, plus nothing to round
    const y = Float64Array.of(0.123, 0.505, 0.372); // 12.3, 50.5, 37.2 units
    const random = seededRandom(3);
    expect(Array.from(quantize(x, { clip: 1, granularity }, random))).toEqual([12, 50, 38]);
    const n = 20000;
    const sum = [0, 0, 0];
    for (let i = 0; i < n; i++)
      quantize(y, { clip: 1, granularity }, random).forEach((v, j) => (sum[j]! += v));
    [12.3, 50.5, 37.2].forEach((target, j) =>
      expect(Math.abs(sum[j]! / n - target)).toBeLessThan(5 * Math.sqrt(0.25 / n)),
    );
  });

  it('keeps the rounded norm within the conditional bound of KLS21', () => {
    const d = 50;
    const x = Float64Array.from({ length: d }, (_, i) => Math.sin(i) * 0.3);
    const bound = roundedNormBound(1, 0.05, d);
    expect(bound).toBeLessThanOrEqual(1 / 0.05 + Math.sqrt(d));
    const random = seededRandom(6);
    for (let i = 0; i < 200; i++) {
      const q = quantize(x, { clip: 1, granularity: 0.05 }, random);
      expect(Math.hypot(...q)).toBeLessThanOrEqual(bound);
    }
  });
});
